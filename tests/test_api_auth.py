"""Auth (401/403), per-token rate limit (429 + Retry-After), body-size limit (413) and the serve-time
bind check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedLLM
from fastapi.testclient import TestClient
from fixtures.frontends.store import make_service
from typer.testing import CliRunner

from assistant.api.app import create_app
from assistant.api.security import RateLimiter, check_bind, is_loopback
from assistant.config import Settings
from assistant.errors import ConfigError


def _client(tmp_path: Path, **settings: Any) -> TestClient:
    svc = make_service(tmp_path, ScriptedLLM(["ok"], repeat_last=True), **settings)
    return TestClient(create_app(svc), raise_server_exceptions=False)


def test_missing_and_wrong_tokens(tmp_path: Path) -> None:
    client = _client(tmp_path, api_tokens=["s3cret-token"])
    r = client.post("/v1/search", json={"query": "linen"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer" and "Bearer" in r.json()["error"]
    r = client.get("/v1/health", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    r = client.post("/v1/search", json={"query": "linen"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["error"] == "Invalid API token."
    r = client.post("/v1/search", json={"query": "linen"}, headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200 and r.json()["hits"]


def test_the_token_is_checked_before_the_body_is_read(tmp_path: Path) -> None:
    client = _client(tmp_path, api_tokens=["s3cret-token"], api_max_body_bytes=100)
    bad = '{"query": "x" "k": 1}'  # malformed JSON: not parsed for a client without a token
    r = client.post("/v1/search", content=bad, headers={"content-type": "application/json"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert set(r.json()) == {"error", "type", "request_id", "problems"}
    r = client.post("/v1/search", content="x" * 500, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403  # not 413: nothing is read for a wrong token
    r = client.post("/v1/search", content=bad, headers={"Authorization": "Bearer s3cret-token",
                                                         "content-type": "application/json"})
    assert r.status_code == 422
    assert client.get("/v1/openapi.json").status_code == 200 and client.get("/v1/docs").status_code == 200


def test_no_token_configured_needs_no_header(tmp_path: Path) -> None:
    client = _client(tmp_path)
    assert client.get("/v1/health").status_code == 200


def test_rate_limit_per_token(tmp_path: Path) -> None:
    client = _client(tmp_path, api_tokens=["a-token", "b-token"], api_rate_limit_per_minute=3)
    a = {"Authorization": "Bearer a-token"}
    codes = [client.get("/v1/health", headers=a).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/v1/health", headers=a)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "Rate limit" in r.json()["error"]
    # another token has its own budget
    assert client.get("/v1/health", headers={"Authorization": "Bearer b-token"}).status_code == 200


def test_rate_limiter_refills() -> None:
    lim = RateLimiter(per_minute=60)
    for _ in range(60):
        assert lim.take("k") == 0
    wait = lim.take("k")
    assert 0 < wait <= 1.0


def test_body_too_large(tmp_path: Path) -> None:
    client = _client(tmp_path, api_max_body_bytes=200)
    r = client.post("/v1/search", json={"query": "x" * 500})
    assert r.status_code == 413 and "api_max_body_bytes" in r.json()["error"]

    def chunks() -> Any:  # no Content-Length: counted while streaming
        yield b'{"query": "'
        yield b"y" * 400
        yield b'"}'

    r2 = client.post("/v1/search", content=chunks(), headers={"content-type": "application/json"})
    assert r2.status_code == 413
    assert r2.json()["type"] == r.json()["type"] == "RequestTooLarge" and set(r2.json()) == set(r.json())
    assert client.post("/v1/search", json={"query": "linen"}).status_code == 200


def test_bind_check() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ConfigError, match="127.0.0.1"):
        check_bind("0.0.0.0", Settings(api_tokens=[]))
    assert "127.0.0.1 only" in check_bind("127.0.0.1", Settings(api_tokens=[]))
    assert "bearer token required" in check_bind("0.0.0.0", Settings(api_tokens=["t"]))


def test_serve_refuses_public_host_without_token() -> None:
    from assistant.cli.main import app

    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9"])
    assert result.exit_code == 2
    assert "Refusing to listen" in result.output + (result.stderr if result.stderr_bytes else "")
