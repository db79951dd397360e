"""`assistant models`: the packaged LLMs, whether they are installed and verified. Other LLM commands
(ask, summarize, copy) live in their own modules."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.common import console, friendly_errors, print_json, print_table


def _size(value: object) -> str:
    return f"{int(value) / 2**20:,.0f} MiB" if isinstance(value, int) else "-"


def models(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    verify: bool = typer.Option(False, "--verify", help="Assemble and verify (sha256) every installed model."),
) -> None:
    """List the packaged LLMs: key, file, size, installed/verified, default and fast markers."""
    from assistant.config import get_settings
    from assistant.llm.registry import ensure_model, list_models

    with friendly_errors(as_json):
        settings = get_settings()
        if verify:
            for row in list_models(settings):
                if row["installed"] and not row["verified"]:
                    console.print(f"verifying {row['key']} …")
                    ensure_model(row["key"], settings)
        rows = list_models(settings)
        if as_json:
            print_json(rows)
            return
        for row in rows:
            marks = [m for m in ("default", "fast") if row[m]]
            row["use"] = ",".join(marks)
            row["file name"] = Path(row["file"]).name
        print_table(rows, ["key", "use", "installed", "verified", "size", "file name"],
                    title=f"LLMs in {settings.model_path} (backend: {settings.llm_backend})", fmt={"size": _size})
        missing = [r for r in rows if not r["installed"]]
        for row in missing:
            console.print(f"[yellow]{row['key']}[/] is not installed: {row['packages']}")


def register(app: typer.Typer) -> None:
    app.command("models")(models)
