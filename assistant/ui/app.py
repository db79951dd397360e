"""The Gradio workspace: ``build_ui(service)`` assembles the tabs over one MerchAssistant, and
``create_server_app(service)`` serves it at ``/`` next to the HTTP API at ``/v1``."""

from __future__ import annotations

import hmac
from typing import Any

import gradio as gr

from assistant.service import MerchAssistant
from assistant.ui.batch_data import build_batch_tab, build_data_tab
from assistant.ui.chat import CancelRegistry, build_chat_tab
from assistant.ui.copy import build_copy_tab
from assistant.ui.forecast import build_forecast_tab
from assistant.ui.launch import build_launch_tab
from assistant.ui.reviews import build_reviews_tab

CSS = """
mark.spec-flag { background: #ffd6d6; border-bottom: 2px solid #d62728; padding: 0 2px; }
.copy-variant { margin-bottom: .8em; }
"""


def build_ui(service: MerchAssistant) -> gr.Blocks:
    """All tabs of the workspace, bound to ``service`` (tests pass one with a scripted model)."""
    cancels = CancelRegistry()
    with gr.Blocks(title="Merch assistant", fill_width=True) as ui:
        gr.Markdown("## 🛍️ Merchandising assistant — offline, grounded in your catalog and reviews")
        with gr.Tabs():
            build_chat_tab(service, cancels)
            build_reviews_tab(service)
            build_copy_tab(service)
            build_forecast_tab(service)
            build_launch_tab(service)
            build_batch_tab(service)
            build_data_tab(service)
    ui.queue(default_concurrency_limit=4)
    return ui


def create_server_app(service: MerchAssistant) -> Any:
    """FastAPI app: the HTTP API under /v1 and the Gradio workspace at /."""
    from assistant.api.app import create_app

    api = create_app(service)
    tokens = [t for t in service.settings.api_tokens if t]
    auth = None
    if tokens:  # the workspace asks for one of the API tokens as the password (any user name)

        def auth(username: str, password: str) -> bool:
            return any(hmac.compare_digest(password.encode(), t.encode()) for t in tokens)

    return gr.mount_gradio_app(api, build_ui(service), path="", css=CSS, footer_links=["api"], auth=auth,
                               auth_message="Sign in with any user name and one of the API tokens as password.")
