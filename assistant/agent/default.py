"""Wiring: the default agent (all built-in tools on the configured store) and JSON-able events for
front-ends (CLI ``assistant ask``, HTTP API, Gradio UI)."""

from __future__ import annotations

import re
from typing import Any

from assistant.agent.loop import Agent, AgentEvent, AgentResult
from assistant.config import Settings, get_settings
from assistant.llm.base import LLM
from assistant.tools.context import ToolContext


def build_default_agent(settings: Settings | None = None, llm: LLM | None = None, *, catalog: Any = None,
                        index: Any = None, embedder: Any = None, model: str | None = None,
                        max_steps: int = 5) -> Agent:
    """An :class:`Agent` with every built-in tool on the store of ``settings``.

    ``llm`` defaults to the configured model (``get_llm(settings, model)``); ``catalog`` / ``index`` /
    ``embedder`` may be handed in already open, otherwise they are opened lazily on the first tool call.
    """
    from assistant.tools.builtin import default_registry

    settings = settings or get_settings()
    if llm is None:
        from assistant.llm import get_llm

        llm = get_llm(settings, model=model)
    ctx = ToolContext(settings=settings, catalog=catalog, index=index, embedder=embedder)
    return Agent(llm, default_registry(), context=ctx, max_steps=max_steps, max_tokens=settings.llm_max_tokens,
                 revise=settings.agent_revise, named_products=ctx.named_products)


def citations(result: AgentResult) -> list[str]:
    """Product/review ids returned by a tool that the answer mentions, in order of first mention."""
    ids: set[str] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in ("product_id", "review_id", "series") and isinstance(v, str):
                    ids.add(v)
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    for step in result.steps:
        walk(step.result)
    found = []
    for m in re.finditer(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*[A-Za-z0-9_]|[A-Za-z0-9]", result.answer):
        token = m.group(0)
        if token in ids and token not in found:
            found.append(token)
    return found


def normalise_event(event: AgentEvent) -> dict[str, Any]:
    """An agent event as a JSON-able dict with a ``type`` key (artifacts as base64 PNGs).

    - ``tool_call``: step, name (= tool), arguments
    - ``tool_result``: step, name (= tool), arguments, result, error, duration_s, artifacts
    - ``token``: text
    - ``answer_reset``: reason (drop the answer text shown so far; the next tokens write its replacement)
    - ``final``: answer, citations, tool_calls [{name, arguments, result, error, duration_s}], artifacts,
      flags [{kind, message, detail}], figures [{subject, figure, value, low, high, level, source}] (the tool
      results' key numbers, :mod:`assistant.agent.figures`), stopped, model, duration_s
    """
    if event.type == "tool_call":
        return {"type": "tool_call", "step": event.data.get("step"), "name": event.data.get("tool"),
                "tool": event.data.get("tool"), "arguments": event.data.get("arguments", {})}
    if event.type == "tool_result":
        d = event.data
        return {"type": "tool_result", "step": d.get("step"), "name": d.get("tool"), "tool": d.get("tool"),
                "arguments": d.get("arguments", {}), "result": d.get("result"), "error": d.get("error"),
                "duration_s": d.get("duration_s"), "artifacts": [a.as_dict() for a in event.artifacts]}
    if event.type == "token":
        return {"type": "token", "text": event.data.get("text", "")}
    if event.type == "answer_reset":
        return {"type": "answer_reset", "reason": event.data.get("reason", "")}
    result = event.result
    assert result is not None, "a final event carries the AgentResult"
    return {
        "type": "final",
        "answer": result.answer,
        "citations": citations(result),
        "tool_calls": [{"name": s.tool, "arguments": s.arguments, "result": s.result, "error": s.error,
                        "duration_s": round(s.duration_s, 3)} for s in result.steps],
        "artifacts": [a.as_dict() for a in result.artifacts],
        "flags": [f.as_dict() for f in result.flags],
        "figures": [f.as_dict() for f in result.figures],
        "stopped": result.stopped,
        "model": result.model,
        "duration_s": round(result.duration_s, 3),
    }
