"""`assistant serve`: the HTTP API alone (uvicorn). `python app.py` serves it next to the UI."""

from __future__ import annotations

import typer

from assistant.cli.common import console, friendly_errors


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind. Other than 127.0.0.1 needs ASSISTANT_API_TOKENS."),
    port: int = typer.Option(8000, help="TCP port."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Serve the HTTP API (/v1/...; OpenAPI docs at /v1/docs)."""
    from assistant.api.app import create_app
    from assistant.api.security import check_bind
    from assistant.config import get_settings
    from assistant.service import MerchAssistant

    with friendly_errors():
        settings = get_settings()
        note = check_bind(host, settings)
    import uvicorn

    console.print(f"[bold]merch-assistant API[/] on http://{host}:{port}/v1  (docs: /v1/docs)")
    console.print(note)
    service = MerchAssistant(settings)
    service.warm_up()  # background thread: the first /v1/ask does not wait for the tool prompt
    app = create_app(service)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
