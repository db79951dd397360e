"""`assistant models` lists the packaged LLMs with installed/verified and default/fast markers."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assistant.cli.main import app


def test_models_json_lists_keys_and_markers() -> None:
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    assert set(rows) >= {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"}
    assert rows["qwen2.5-coder-1.5b"]["default"] and rows["qwen2.5-coder-0.5b"]["fast"]
    assert all(r["installed"] for r in rows.values())


def test_models_table() -> None:
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m" in result.output and "default" in result.output
