"""The scripted fake LLM used by everybody's logic tests behaves as documented."""

from __future__ import annotations

import threading

import pytest
from fakes import ScriptedLLM, tool_call

from assistant.llm.base import Generation, ToolCall


def test_scripted_llm_replays_and_records() -> None:
    llm = ScriptedLLM([
        tool_call("search_reviews", query="fit"),
        "plain answer",
        lambda messages, tools, schema: Generation(text=messages[-1]["content"].upper()),
    ])
    tools = [{"name": "search_reviews", "description": "d", "parameters": {"type": "object"}}]
    first = llm.generate([{"role": "user", "content": "q1"}], tools=tools)
    assert isinstance(first, Generation)
    assert first.tool_calls == [ToolCall("search_reviews", {"query": "fit"})]
    assert first.finish_reason == "tool_calls"
    second = llm.generate([{"role": "user", "content": "q2"}])
    assert isinstance(second, Generation) and second.text == "plain answer"
    third = llm.generate([{"role": "user", "content": "shout"}], json_schema={"type": "object"})
    assert isinstance(third, Generation) and third.text == "SHOUT"
    assert [c.tools for c in llm.calls] == [tools, None, None]
    assert llm.calls[2].json_schema == {"type": "object"}
    assert "q2" in llm.calls[1].prompt
    with pytest.raises(AssertionError, match="ran out"):
        llm.generate([{"role": "user", "content": "q4"}])


def test_scripted_llm_streams_and_cancels() -> None:
    llm = ScriptedLLM(["one two three four"], repeat_last=True)
    pieces = list(llm.generate([{"role": "user", "content": "x"}], stream=True))  # type: ignore[arg-type]
    assert "".join(pieces) == "one two three four" and len(pieces) == 4
    cancel = threading.Event()
    out = []
    for piece in llm.generate([{"role": "user", "content": "x"}], stream=True, cancel=cancel):  # type: ignore[union-attr]
        out.append(piece)
        cancel.set()
    assert out == ["one"]
    gen = llm.generate([{"role": "user", "content": "x"}], cancel=cancel)
    assert isinstance(gen, Generation) and gen.finish_reason == "cancelled"
    assert llm.count_tokens("a b c") == 3
