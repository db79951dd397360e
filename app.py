"""Gradio workspace + HTTP API in one server:

    python app.py --host 127.0.0.1 --port 7860

Opens the store of ``ASSISTANT_HOME`` (the bundled demo store is loaded when it is empty, unless
``--no-demo``); the API is served under /v1 (docs at /v1/docs)."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Merchandising assistant: web workspace + HTTP API")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (non-loopback needs ASSISTANT_API_TOKENS)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo store into an empty store")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import uvicorn

    from assistant.api.security import check_bind
    from assistant.config import get_settings
    from assistant.errors import AssistantError
    from assistant.service import MerchAssistant
    from assistant.ui.app import create_server_app

    settings = get_settings()
    try:
        note = check_bind(args.host, settings)
        service = MerchAssistant(settings)
        store = service.ensure_store(load_demo_if_empty=not args.no_demo)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Store {settings.store_path}: {store['counts']}")
    print(note)
    print(f"Workspace: http://{args.host}:{args.port}/   API: http://{args.host}:{args.port}/v1/docs")
    service.warm_up()  # background: loads the model and reads the agent's tool prompt for the first question
    uvicorn.run(create_server_app(service), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
