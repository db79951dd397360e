"""The committed OpenAPI spec matches the code, and schemathesis fuzzing from that spec finds no 5xx
and no response that breaks the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fakes import ScriptedLLM
from fastapi.testclient import TestClient
from fixtures.frontends.store import make_service
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from assistant.api.app import create_app
from assistant.api.openapi import SPEC_PATH, main, render


def test_committed_spec_is_current() -> None:
    assert SPEC_PATH.is_file(), "docs/openapi.json is missing: run python -m assistant.api.openapi"
    assert json.loads(SPEC_PATH.read_text()) == json.loads(render()), \
        "docs/openapi.json is out of date: run python -m assistant.api.openapi"


def test_spec_command_help_and_check_write_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = SPEC_PATH.stat().st_mtime_ns
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and "--check" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["--chek"])
    assert exc.value.code == 2
    assert main(["--check"]) == 0 and "up to date" in capsys.readouterr().out
    assert SPEC_PATH.stat().st_mtime_ns == before


COPY_JSON = json.dumps({"title": "A product", "description": "A product made of what its attributes say.",
                        "bullets": ["Good"], "seo_keywords": ["product"]})


def _reply(messages: list[Any], tools: Any, schema: Any) -> str:
    return COPY_JSON if schema is not None else "Buyers like the fabric [W1]."


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    svc = make_service(tmp_path_factory.mktemp("fuzz"), ScriptedLLM([_reply], repeat_last=True),
                       api_rate_limit_per_minute=100_000)
    return TestClient(create_app(svc), raise_server_exceptions=False)


# Fuzz from the committed spec (what clients see), against the live app.
schema = schemathesis.openapi.from_dict(json.loads(SPEC_PATH.read_text()))


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_no_server_errors(case: Any, fuzz_client: TestClient) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    response = fuzz_client.request(**{k: v for k, v in kwargs.items() if k in _HTTPX_KW})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


_HTTPX_KW = {"method", "url", "headers", "params", "json", "content", "data", "files", "cookies"}


def test_spec_declares_bearer_auth() -> None:
    spec = json.loads(Path(SPEC_PATH).read_text())
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
