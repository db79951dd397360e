"""Formatting helpers shared by the workspace tabs: agent events -> chat messages, citations -> quotes,
PNG bytes -> files Gradio can serve, spec-guard flags -> highlighted HTML. No business logic."""

from __future__ import annotations

import base64
import html
import json
import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TMP = Path(tempfile.gettempdir()) / "merch-assistant-ui"


def tmp_file(suffix: str, data: bytes | str | None = None, stem: str = "out") -> Path:
    """A fresh file under the UI's temp folder (served by Gradio), optionally with content."""
    _TMP.mkdir(parents=True, exist_ok=True)
    path = _TMP / f"{stem}-{uuid.uuid4().hex[:10]}{suffix}"
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    return path


def artifact_files(artifacts: list[dict[str, Any]]) -> list[Path]:
    """Tool artifacts (base64 PNGs) -> image files."""
    out = []
    for art in artifacts:
        data = art.get("data_base64")
        if data and str(art.get("mime", "")).startswith("image/"):
            out.append(tmp_file(".png", base64.b64decode(data), stem="plot"))
    return out


def short_json(obj: Any, limit: int = 1500) -> str:
    text = json.dumps(obj, indent=1, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "\n… (truncated)"


def tool_call_message(event: dict[str, Any]) -> dict[str, Any]:
    """A collapsible 'thought' message for a tool call (filled in when its result arrives)."""
    args = short_json(event.get("arguments", {}), 600)
    return {"role": "assistant", "content": f"**arguments**\n```json\n{args}\n```",
            "metadata": {"title": f"🔧 {event.get('name')}", "status": "pending",
                         "id": f"tool-{event.get('step')}"}}


def tool_result_message(event: dict[str, Any]) -> dict[str, Any]:
    args = short_json(event.get("arguments", {}), 600)
    if event.get("error"):
        body, status = f"**error**: {event['error']}", "error"
    else:
        body, status = f"**result**\n```json\n{short_json(event.get('result'))}\n```", "ok"
    dur = event.get("duration_s")
    title = f"🔧 {event.get('name')}" + (f" ({dur:.2f} s)" if isinstance(dur, int | float) else "")
    return {"role": "assistant", "content": f"**arguments**\n```json\n{args}\n```\n{body}",
            "metadata": {"title": title, "status": "done", "id": f"tool-{event.get('step')}",
                         "log": status}}


STOPPED_NOTE = "⏹ Stopped: {what}. Its numbers were not checked; ask again for a complete answer."


def stopped_history(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat as the Stop button left it: tool calls still spinning marked stopped, and a note saying the
    answer is unfinished (or never started)."""
    out = [{**m, "metadata": {**m["metadata"], "status": "done", "log": "stopped"}}
           if (m.get("metadata") or {}).get("status") == "pending" else m for m in msgs or []]
    last = out[-1] if out else {}
    partial = (last.get("role") == "assistant" and not (last.get("metadata") or {}).get("title")
               and bool(message_text(last.get("content"))))
    what = "the answer above is unfinished" if partial else "no answer was written"
    return [*out, {"role": "assistant", "content": STOPPED_NOTE.format(what=what)}]


def sources_markdown(sources: list[dict[str, Any]]) -> str:
    """Cited reviews/products as quotes."""
    parts = []
    for s in sources:
        head = f"**[{s['id']}]** {s.get('kind', '')}"
        if s.get("kind") == "review":
            stars = f" · {'★' * int(s['rating'])}" if isinstance(s.get("rating"), int | float) else ""
            head += f" of {s.get('product_id')}{stars}"
            if s.get("title"):
                head += f" · *{_md(s['title'])}*"
        else:
            head += f" · {_md(s.get('title') or '')}"
        quote = _md(str(s.get("text") or "")).replace("\n", "\n> ")
        parts.append(f"{head}\n> {quote}")
    return "\n\n".join(parts)


def sources_message(sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "assistant", "content": sources_markdown(sources),
            "metadata": {"title": f"📚 Sources ({len(sources)}): " + ", ".join(s["id"] for s in sources),
                         "status": "done"}}


def figures_message(figures: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The tool results' key numbers as a table under the answer, shown open (None when there are none)."""
    from assistant.agent.figures import KeyFigure, figures_markdown

    table = figures_markdown([KeyFigure(**f) for f in figures])
    if not table:
        return None
    return {"role": "assistant", "content": table,  # no status: the panel starts open, under the answer
            "metadata": {"title": f"📊 Key figures from the tools ({len(figures)})"}}


def flags_message(flags: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not flags:
        return None
    lines = [f"- **{f.get('kind')}**: {_md(str(f.get('message', '')))}" for f in flags]
    return {"role": "assistant", "content": "\n".join(lines),
            "metadata": {"title": f"⚠️ {len(flags)} flag(s) on this answer", "status": "done"}}


def message_text(content: Any) -> str:
    """Text of a chat message as Gradio hands it back (str, or a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return " ".join(message_text(c) for c in content).strip()
    return ""


def chat_history(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Plain user/assistant turns (no tool or source panels, no stopped answers) for the agent's multi-turn
    context."""
    out: list[dict[str, str]] = []
    for m in messages or []:
        if (m.get("metadata") or {}).get("title"):
            continue
        text = message_text(m.get("content"))
        if text.startswith(STOPPED_NOTE[:10]):  # the note, and the unfinished answer before it
            if out and out[-1]["role"] == "assistant":
                out.pop()
            continue
        if text and m.get("role") in ("user", "assistant"):
            out.append({"role": m["role"], "content": text})
    return out[-8:]


def highlight_flags(text: str, flags: list[dict[str, Any]]) -> str:
    """HTML of ``text`` with every flagged claim wrapped in <mark> (title = the guard's reason)."""
    out = html.escape(text)
    for f in flags:
        claim = str(f.get("claim") or "").strip()
        if not claim:
            continue
        pat = re.compile(re.escape(html.escape(claim)), re.I)
        reason = html.escape(str(f.get("reason") or f.get("type") or "flagged"), quote=True)
        out = pat.sub(_marker(reason), out)
    return out


def _marker(reason: str) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        return f'<mark class="spec-flag" title="{reason}">{m.group(0)}</mark>'

    return sub


def _md(text: str) -> str:
    """Escape characters that would turn untrusted review text into markdown/HTML."""
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)
