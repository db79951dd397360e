"""`assistant` command line. Each area lives in its own module under ``assistant/cli/`` and is
registered here; commands only parse arguments and call into the core."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="assistant",
    help="Offline-first merchandising assistant for new-product launches.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (module under assistant.cli, how it is mounted). A module exposes either ``app`` (a sub-command
# group, mounted under ``name``) or ``register(app)`` (adds top-level commands).
_AREAS: list[tuple[str, str | None]] = [
    ("data", None),  # assistant ingest ...
    ("index", "index"),  # assistant index build|add|delete|stats ; assistant search
    ("llm", None),  # assistant models ; assistant ask ; assistant summarize ; assistant copy ...
    ("gen", None),  # assistant summarize ; assistant copy draft ; assistant ask
    ("batch", None),  # assistant copy batch (added to gen's copy group)
    ("forecast", "forecast"),  # assistant forecast demand|new-product
    ("analytics", None),  # assistant sentiment ... ; assistant recommend ... ; assistant plan
    ("serve", None),  # assistant serve
]

for _module, _name in _AREAS:
    try:
        _mod = importlib.import_module(f"assistant.cli.{_module}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"assistant.cli.{_module}":
            raise
        continue
    if hasattr(_mod, "register"):
        _mod.register(app)
    if _name and hasattr(_mod, "app"):
        app.add_typer(_mod.app, name=_name)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
