"""Tool calling shared by every backend: the JSON shape the model must produce, the schema that constrains
it, the instructions that describe the tools, and a defensive parser for what comes back.

The model answers with one JSON object:
    {"tool": "<name>", "arguments": {...}}          a tool call
    {"tool": "final_answer", "answer": "..."}       the answer to the user
"""

from __future__ import annotations

import json
import re
from typing import Any

from assistant.llm.base import Generation, Message, ToolCall

FINAL_ANSWER = "final_answer"
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


def normalize_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accept ``{"name", "description", "parameters"}`` or OpenAI's ``{"type": "function", "function": {...}}``."""
    out = []
    for tool in tools:
        spec = tool.get("function", tool) if tool.get("type") == "function" else tool
        if "name" not in spec:
            raise ValueError(f"tool spec without a name: {tool!r}")
        params = spec.get("parameters") or {"type": "object", "properties": {}}
        out.append({"name": spec["name"], "description": spec.get("description", ""), "parameters": params})
    return out


_FINAL_OPTION: dict[str, Any] = {
    "type": "object",
    "properties": {"tool": {"type": "string", "enum": [FINAL_ANSWER]}, "answer": {"type": "string"}},
    "required": ["tool", "answer"],
}
ANSWER_ONLY: dict[str, Any] = {"anyOf": [_FINAL_OPTION]}  # generate(tools=..., json_schema=ANSWER_ONLY): no call


def tool_choice_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON schema of the model's reply: a call of one of ``tools`` (arguments per its schema) or a final
    answer. ``tool`` comes first so a grammar makes the model pick the name before the arguments."""
    options: list[dict[str, Any]] = []
    for tool in normalize_tools(tools):
        params = dict(tool["parameters"])
        params.setdefault("type", "object")
        options.append({
            "type": "object",
            "properties": {"tool": {"type": "string", "enum": [tool["name"]]}, "arguments": params},
            "required": ["tool", "arguments"],
        })
    options.append(_FINAL_OPTION)
    return {"anyOf": options}


def reply_schema(tools: list[dict[str, Any]] | None, json_schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema a backend constrains the reply to: ``json_schema`` when given (tools listed or not), else a
    call of one of ``tools`` or a final answer, else nothing."""
    if json_schema is not None:
        return json_schema
    return tool_choice_schema(tools) if tools else None


def tools_instructions(tools: list[dict[str, Any]]) -> str:
    """The tool list and reply format, rendered from ``prompts/llm_tools.j2``."""
    from assistant.prompts import render

    return render("llm_tools", tools=normalize_tools(tools))


def json_instructions(schema: dict[str, Any]) -> str:
    """The JSON reply format for backends without grammar decoding (``prompts/llm_json.j2``)."""
    from assistant.prompts import render

    return render("llm_json", schema=schema)


def defuse_markers(text: str) -> str:
    """``<|im_end|>`` -> ``< |im_end| >``: the same words, no longer a control token of the chat template."""
    return text.replace("<|", "< |").replace("|>", "| >")


def prepare_messages(messages: list[Message], tools: list[dict[str, Any]] | None,
                     json_schema: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Messages any chat template accepts: tool instructions (or, with ``json_schema``, the JSON reply
    format) appended to the system message (one is added when missing) and ``role="tool"`` results
    turned into user messages ("Tool result (name): ..."). Chat-template markers written in any content
    (``<|im_start|>`` in a product title) are broken up, so no text can open a chat turn of its own: llama.cpp
    reads them as the model's control tokens."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        role, content = msg.get("role", "user"), defuse_markers(str(msg.get("content", "")))
        if role == "tool":
            out.append({"role": "user", "content": f"Tool result ({msg.get('name', 'tool')}): {content}"})
        else:
            out.append({"role": role, "content": content})
    extra = tools_instructions(tools) if tools else json_instructions(json_schema) if json_schema else ""
    if extra:
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{extra}"}
        else:
            out.insert(0, {"role": "system", "content": extra})
    return out


def tool_call_message(call: ToolCall) -> Message:
    """The assistant turn to append to the history after the model chose ``call``."""
    return {"role": "assistant", "content": json.dumps({"tool": call.name, "arguments": call.arguments})}


def tool_result_message(name: str, result: Any) -> Message:
    """A tool's result as a message (dicts are JSON-encoded)."""
    content = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
    return {"role": "tool", "name": name, "content": content}


def find_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``: fenced block contents first, then any ``{...}``; None if none.

    Tolerates code fences, prose before/after, and a truncated tail (the first complete object wins).
    """
    objs = find_json_objects(text)
    return objs[0] if objs else None


def find_json_objects(text: str) -> list[dict[str, Any]]:
    """The first JSON object in ``text`` (as :func:`find_json_object`) and the objects written directly after
    it (only whitespace, commas or list brackets between them), e.g. several tool calls in one turn."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for chunk in candidates:
        start = chunk.find("{")
        while start != -1:
            try:
                obj, end = decoder.raw_decode(chunk, start)
            except ValueError:
                start = chunk.find("{", start + 1)
                continue
            if isinstance(obj, dict):
                return [obj, *_objects_after(chunk, end, decoder)]
            start = chunk.find("{", start + 1)
    return []


_BETWEEN = re.compile(r"[\s,\[\]]*")


def _objects_after(chunk: str, pos: int, decoder: json.JSONDecoder) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pos = _BETWEEN.match(chunk, pos).end()  # type: ignore[union-attr]
    while chunk.startswith("{", pos):
        try:
            obj, pos = decoder.raw_decode(chunk, pos)
        except ValueError:
            break
        if not isinstance(obj, dict):
            break
        out.append(obj)
        pos = _BETWEEN.match(chunk, pos).end()  # type: ignore[union-attr]
    return out


def parse_json(text: str) -> dict[str, Any]:
    """Parse the JSON object a ``json_schema`` generation returned (defensively); ValueError if none."""
    obj = find_json_object(text)
    if obj is None:
        raise ValueError(f"no JSON object in model output: {text[:200]!r}")
    return obj


_PARTIAL_ANSWER = re.compile(r'^\s*\{\s*"tool"\s*:\s*"final_answer"\s*,\s*"answer"\s*:\s*"(.*)$', re.DOTALL)


class AnswerStream:
    """Reads a tool-choice reply as it streams and gives back the final answer's text as it grows.

    ``feed(piece)`` returns the answer text that became readable with this piece ("" while the reply is a
    tool call, or before the ``"answer": "`` part is complete). Escapes are decoded; a half-written escape
    waits for the next piece. What was streamed is provisional: the parsed reply is the answer of record.
    """

    def __init__(self) -> None:
        self._raw = ""
        self._sent = ""

    @property
    def streamed(self) -> bool:
        return bool(self._sent)

    @property
    def text(self) -> str:
        """The whole reply read so far (the raw JSON)."""
        return self._raw

    def feed(self, piece: str) -> str:
        self._raw += piece
        m = _PARTIAL_ANSWER.search(self._raw)
        if m is None:
            return ""
        body = _STRING_BODY.match(m.group(1))
        text = _unescape(body.group(0) if body else "", strip=False).lstrip()
        if not text.startswith(self._sent):  # cannot happen with well-formed JSON; never resend
            return ""
        new, self._sent = text[len(self._sent):], text
        return new


_STRING_BODY = re.compile(r'(?:[^"\\]|\\.)*')


def _unescape(fragment: str, *, strip: bool = True) -> str:
    fragment = re.sub(r'\\u[0-9a-fA-F]{0,3}$|\\$', "", fragment)  # drop a dangling escape
    try:
        text = str(json.loads(f'"{fragment}"'))
    except ValueError:
        text = fragment.replace('\\"', '"').replace("\\n", "\n")
    return text.strip() if strip else text


def _match_name(name: str, names: list[str]) -> str:
    if name in names:
        return name
    lowered = {n.lower(): n for n in names}
    return lowered.get(name.strip().lower(), name)


def _as_call(obj: dict[str, Any], names: list[str]) -> ToolCall | None:
    """A tool call from one parsed object, or None when it is a final answer (or not a call at all)."""
    name = obj.get("tool") or obj.get("name") or obj.get("function")
    if isinstance(obj.get("function"), dict):  # {"function": {"name", "arguments"}}
        obj, name = obj["function"], obj["function"].get("name")
    if not isinstance(name, str) or name == FINAL_ANSWER or (name not in names and "answer" in obj):
        return None
    args = obj.get("arguments", obj.get("parameters", obj.get("args", {})))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            args = {"input": args}
    if not isinstance(args, dict):
        args = {"input": args}
    return ToolCall(name=_match_name(name, names), arguments=args)


def parse_tool_reply(text: str, tools: list[dict[str, Any]], *, model: str = "", prompt_tokens: int = 0,
                     completion_tokens: int = 0, finish_reason: str = "stop") -> Generation:
    """Turn the model's reply into a Generation: ToolCalls, or the final answer as text.

    Accepts our shape ``{"tool", "arguments"}``, the OpenAI/Qwen shape ``{"name", "arguments"}`` and
    ``{"tool": "final_answer", "answer"}``; several calls written in a row are all kept. Text without a
    JSON object is taken as the final answer. An unknown tool name is kept as is: the caller reports it
    back to the model as an observation.
    """
    names = [t["name"] for t in normalize_tools(tools)]
    base = {"model": model, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    objs = find_json_objects(text)
    if not objs:
        partial = _PARTIAL_ANSWER.search(text)  # a final answer cut off by max_tokens: keep what is there
        answer = _unescape(partial.group(1)) if partial else text.strip()
        return Generation(text=answer, finish_reason=finish_reason, **base)  # type: ignore[arg-type]
    calls: list[ToolCall] = []
    for obj in objs:  # the calls written in a row, up to the first object that is not a call
        call = _as_call(obj, names)
        if call is None:
            break
        call.id = f"call_{len(calls)}"
        calls.append(call)
    if not calls:
        answer = objs[0].get("answer", objs[0].get("content", text))
        return Generation(text=str(answer).strip(), finish_reason=finish_reason, **base)  # type: ignore[arg-type]
    return Generation(text="", tool_calls=calls, finish_reason="tool_calls", **base)  # type: ignore[arg-type]
