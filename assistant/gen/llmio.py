"""Small helpers around ``LLM.generate`` shared by the generation capabilities: the system message,
text and JSON calls with defensive parsing."""

from __future__ import annotations

import json
import re
from typing import Any

from assistant.errors import GenerationError
from assistant.llm.base import LLM, Generation, Message
from assistant.prompts import render


def system_message(task: str) -> Message:
    """The shared system prompt (``prompts/system.j2``): evidence is data, cite ids, never invent."""
    return {"role": "system", "content": render("system", task=task)}


def generate(llm: LLM, messages: list[Message], *, max_tokens: int, tools: list[dict[str, Any]] | None = None,
             json_schema: dict[str, Any] | None = None) -> Generation:
    out = llm.generate(messages, tools=tools, json_schema=json_schema, stream=False, max_tokens=max_tokens)
    if not isinstance(out, Generation):
        raise GenerationError("The model backend returned a stream where a full answer was expected.")
    return out


def generate_text(llm: LLM, messages: list[Message], *, max_tokens: int) -> str:
    return generate(llm, messages, max_tokens=max_tokens).text.strip()


def parse_json(text: str) -> dict[str, Any]:
    """Parse a JSON object from model text (tolerates code fences and leading/trailing chatter)."""
    text = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise GenerationError(f"The model did not answer with a JSON object: {text[:200]!r}") from None
        try:
            obj = json.loads(text[start:end + 1])
        except json.JSONDecodeError as exc:
            raise GenerationError(f"The model's JSON could not be parsed ({exc}): {text[:200]!r}") from exc
    if not isinstance(obj, dict):
        raise GenerationError(f"The model answered with JSON that is not an object: {text[:200]!r}")
    return obj


def generate_json(llm: LLM, messages: list[Message], schema: dict[str, Any], *, max_tokens: int,
                  retries: int = 1) -> dict[str, Any]:
    """Generate with ``json_schema=schema`` and parse; on unparsable output retry once with a reminder."""
    last: GenerationError | None = None
    msgs = list(messages)
    for _ in range(retries + 1):
        gen = generate(llm, msgs, max_tokens=max_tokens, json_schema=schema)
        try:
            return parse_json(gen.text)
        except GenerationError as exc:
            last = exc
            msgs = [*messages, {"role": "assistant", "content": gen.text},
                    {"role": "user", "content": "That was not a valid JSON object. Answer again with only the JSON object."}]
    assert last is not None
    raise last
