"""A scripted fake LLM for logic tests: it returns canned responses in order and records every call.

    llm = ScriptedLLM([
        Generation(text="", tool_calls=[ToolCall("search_reviews", {"query": "fit"})]),
        "The fit runs small [r1].",                       # a plain str becomes Generation(text=...)
        lambda messages, tools, json_schema: Generation(text=messages[-1]["content"].upper()),
    ])
    out = llm.generate([{"role": "user", "content": "hi"}], tools=[...])
    llm.calls[0].tools  # what the code under test passed

With ``stream=True`` the text is yielded in word-sized pieces (with ``tools``, as the JSON a grammar-constrained
backend streams: ``{"tool": ..., "arguments": ...}`` or ``{"tool": "final_answer", "answer": ...}``); a set ``cancel`` event stops the stream
(and makes a non-streamed call return ``finish_reason="cancelled"``). When the script runs out,
``repeat_last=True`` keeps returning the last response; otherwise an AssertionError names the call.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.llm.base import LLM, Generation, Message, ToolCall

Response = str | Generation | Callable[[list[Message], list[dict[str, Any]] | None, dict[str, Any] | None], Generation | str]


@dataclass
class RecordedCall:
    """One call to ``ScriptedLLM.generate`` (messages are deep-copied at call time)."""

    messages: list[Message]
    tools: list[dict[str, Any]] | None
    json_schema: dict[str, Any] | None
    stream: bool
    max_tokens: int | None
    cancel: threading.Event | None = field(default=None, repr=False)

    @property
    def prompt(self) -> str:
        """All message contents joined (handy for ``assert "..." in call.prompt``)."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class ScriptedLLM(LLM):
    """An ``LLM`` that replays a script of responses and records the calls it got."""

    name = "scripted"

    def __init__(self, responses: Sequence[Response] = (), *, context_length: int = 4096,
                 repeat_last: bool = False) -> None:
        self.responses: list[Response] = list(responses)
        self.calls: list[RecordedCall] = []
        self.context_length = context_length
        self.repeat_last = repeat_last
        self._next = 0

    # ------------------------------------------------------------------ helpers
    def push(self, *responses: Response) -> None:
        """Append more responses to the script."""
        self.responses.extend(responses)

    @property
    def remaining(self) -> int:
        return max(0, len(self.responses) - self._next)

    def count_tokens(self, text: str) -> int:
        """Deterministic token count: whitespace-separated words (so budgets are easy to reason about)."""
        return len(text.split())

    def _take(self) -> Response:
        if self._next < len(self.responses):
            resp = self.responses[self._next]
            self._next += 1
            return resp
        if self.repeat_last and self.responses:
            return self.responses[-1]
        raise AssertionError(
            f"ScriptedLLM ran out of responses at call #{len(self.calls)} "
            f"(script had {len(self.responses)}); last messages: {self.calls[-1].messages if self.calls else []}"
        )

    def _resolve(self, resp: Response, call: RecordedCall) -> Generation:
        if callable(resp) and not isinstance(resp, str | Generation):
            resp = resp(call.messages, call.tools, call.json_schema)
        if isinstance(resp, str):
            return Generation(text=resp, model=self.name, completion_tokens=self.count_tokens(resp),
                              prompt_tokens=self.count_tokens(call.prompt))
        gen = copy.deepcopy(resp)
        if gen.tool_calls and gen.finish_reason == "stop":
            gen.finish_reason = "tool_calls"
        gen.model = gen.model or self.name
        return gen

    # ------------------------------------------------------------------ LLM API
    def generate(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        stream: bool = False,
        max_tokens: int | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation | Iterator[str]:
        call = RecordedCall(copy.deepcopy(list(messages)), copy.deepcopy(tools), copy.deepcopy(json_schema),
                            stream, max_tokens, cancel)
        self.calls.append(call)
        gen = self._resolve(self._take(), call)
        if stream:
            return self._stream(self._wire(gen) if tools else gen.text, cancel)
        if cancel is not None and cancel.is_set():
            return Generation(text="", finish_reason="cancelled", model=gen.model)
        return gen

    @staticmethod
    def _wire(gen: Generation) -> str:
        """The JSON a grammar-constrained backend streams for this reply (a tool call or the final answer)."""
        if gen.tool_calls:  # several calls in one turn: objects in a row
            return "\n".join(json.dumps({"tool": c.name, "arguments": c.arguments}) for c in gen.tool_calls)
        return json.dumps({"tool": "final_answer", "answer": gen.text})

    @staticmethod
    def _stream(text: str, cancel: threading.Event | None) -> Iterator[str]:
        for piece in re.findall(r"\s*\S+|\s+", text):
            if cancel is not None and cancel.is_set():
                return
            yield piece


def tool_call(name: str, **arguments: Any) -> Generation:
    """Shorthand for a scripted tool call: ``tool_call("search_reviews", query="fit")``."""
    return Generation(text="", tool_calls=[ToolCall(name=name, arguments=arguments)], finish_reason="tool_calls")
