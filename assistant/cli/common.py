"""Shared CLI helpers: error reporting and JSON/table output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.errors import AssistantError

console = Console()
err_console = Console(stderr=True)


@contextmanager
def friendly_errors(as_json: bool = False) -> Iterator[None]:
    """Turn AssistantError into a one-paragraph message and exit code 2 (no traceback). A command run with
    ``--json`` also writes the error as JSON on stdout (``{"error", "type", "problems"}``), so a script that
    parses stdout reads why it failed instead of nothing."""
    try:
        yield
    except AssistantError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        if as_json:
            problems = getattr(exc, "problems", None) or []
            message = str(exc).split("\n  - ", 1)[0] if problems else str(exc)
            print_json({"error": message, "type": type(exc).__name__,
                        "problems": [p.as_dict() for p in problems]})
        raise typer.Exit(code=2) from exc


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None,
                fmt: dict[str, Callable[[Any], str]] | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*[(fmt or {}).get(c, str)(row.get(c, "")) for c in columns])
    console.print(table)
