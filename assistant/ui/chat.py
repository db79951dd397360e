"""Chat tab: streamed agent answers with tool calls, inline forecast plots, expandable cited sources and a
Stop button that cancels the model (through the agent's cancel event) and the UI stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from assistant.errors import AssistantError
from assistant.service import MerchAssistant
from assistant.ui import render

EXAMPLES = [
    "What do buyers complain about for the linen dress?",
    "Forecast demand for R85123A for the next 8 weeks",
    "Which existing products are most similar to a red linen midi dress?",
]


class CancelRegistry:
    """One cancel event per browser session while its question runs (Stop sets it; a new question replaces
    it; a finished one removes it, so Stop can tell whether anything was running)."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def new(self, session: str) -> threading.Event:
        with self._lock:
            ev = self._events[session] = threading.Event()
            return ev

    def finish(self, session: str, ev: threading.Event) -> None:
        with self._lock:
            if self._events.get(session) is ev:
                del self._events[session]

    def cancel(self, session: str) -> bool:
        """Stop the session's running question; False when none was running."""
        with self._lock:
            ev = self._events.pop(session, None)
        if ev is not None:
            ev.set()
        return ev is not None


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", None) or "default")


def stream_answer(svc: MerchAssistant, message: str, history: list[dict[str, Any]],
                  cancel: threading.Event) -> Iterator[list[dict[str, Any]]]:
    """Chat history after each agent event (the UI yields it as it comes)."""
    context = render.chat_history(history)
    msgs: list[dict[str, Any]] = [*list(history or []), {"role": "user", "content": message}]
    yield msgs
    answer_at: int | None = None
    try:
        for ev in svc.ask_stream(message, cancel=cancel, history=context):
            kind = ev["type"]
            if kind == "tool_call":
                msgs.append(render.tool_call_message(ev))
            elif kind == "tool_result":
                done = render.tool_result_message(ev)
                ids = [i for i, m in enumerate(msgs) if (m.get("metadata") or {}).get("id") == done["metadata"]["id"]]
                if ids:
                    msgs[ids[-1]] = done
                else:
                    msgs.append(done)
                for path in render.artifact_files(ev.get("artifacts") or []):
                    msgs.append({"role": "assistant", "content": gr.Image(value=str(path), show_label=False)})
            elif kind == "token":
                if answer_at is None:
                    msgs.append({"role": "assistant", "content": ""})
                    answer_at = len(msgs) - 1
                msgs[answer_at]["content"] += ev.get("text", "")
            elif kind == "answer_reset" and answer_at is not None:  # its replacement streams next
                msgs[answer_at]["content"] = ""
            elif kind == "final" and ev.get("stopped") == "cancelled":  # Stop: the same note as on_stop's
                if answer_at is not None:  # without the agent's "I was stopped..." streamed after the model's part
                    part = str(msgs[answer_at]["content"]).removesuffix(str(ev.get("answer") or ""))
                    if part.strip():
                        msgs[answer_at]["content"] = part
                    else:
                        del msgs[answer_at]
                msgs = render.stopped_history(msgs)
            elif kind == "final":
                if answer_at is None:
                    msgs.append({"role": "assistant", "content": ""})
                    answer_at = len(msgs) - 1
                msgs[answer_at]["content"] = ev.get("answer", "")
                if ev.get("sources"):
                    msgs.append(render.sources_message(ev["sources"]))
                for panel in (render.figures_message(ev.get("figures") or []),
                              render.flags_message(ev.get("flags") or [])):
                    if panel:
                        msgs.append(panel)
            yield msgs
    except AssistantError as exc:
        msgs.append({"role": "assistant", "content": f"⚠️ {exc}"})
        yield msgs


def build_chat_tab(svc: MerchAssistant, cancels: CancelRegistry) -> None:
    with gr.Tab("Chat", id="chat"):
        chatbot = gr.Chatbot(label="Merchandising assistant", height=560, elem_id="chat-bot",
                             buttons=["copy"], group_consecutive_messages=False)
        with gr.Row():
            box = gr.Textbox(placeholder="Ask about products, reviews, demand or a launch…", show_label=False,
                             scale=8, elem_id="chat-input", lines=1, max_lines=4)
            send = gr.Button("Send", variant="primary", scale=1, elem_id="chat-send")
            stop = gr.Button("Stop", variant="stop", scale=1, elem_id="chat-stop")
            clear = gr.Button("Clear", scale=1, elem_id="chat-clear")
        gr.Examples(EXAMPLES, inputs=box)

        def respond(message: str, history: list[dict[str, Any]], request: gr.Request
                    ) -> Iterator[tuple[list[dict[str, Any]], str]]:
            if not (message or "").strip():
                yield history, ""
                return
            cancel = cancels.new(_session(request))
            for msgs in stream_answer(svc, message, history, cancel):
                if cancel.is_set():  # Stop: on_stop has written the chat's last state; the agent winds down
                    continue
                yield msgs, ""
            cancels.finish(_session(request), cancel)

        def on_stop(history: list[dict[str, Any]], request: gr.Request) -> Any:
            # the stream is cut where it was: say so, and close the tool calls left spinning
            return render.stopped_history(history) if cancels.cancel(_session(request)) else gr.update()

        box.submit(respond, [box, chatbot], [chatbot, box])
        send.click(respond, [box, chatbot], [chatbot, box])
        stop.click(on_stop, chatbot, chatbot, queue=False)  # no Gradio cancel: it left an Error badge
        clear.click(lambda: [], None, chatbot, queue=False)
