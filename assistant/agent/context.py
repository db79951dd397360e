"""What the model reads of an agent conversation, kept inside its context window.

Every round the agent sends the whole conversation: instructions, earlier chat turns, the question, and each
tool call with its result. Long results (a 12-week forecast with its interval, a review summary) can fill a
4,096-token window after a few calls, and llama.cpp then refuses the prompt or cuts the reply off. Before
each round the agent fits the conversation, step by step until it fits ``llm.context_length`` minus the
reply's token budget (and the tool instructions the backend appends):

1. earlier chat turns are dropped, oldest first (the current question's tool results matter more);
2. tool results are compacted, older ones first, then the newest: their longest lists (weekly forecast
   rows, review quotes) keep their first items and a note says how many were left out, so the totals and
   other single values after them stay;
3. older results are cut to ``min_tokens`` (head kept, closing tag kept, "…" marks the cut), then the
   newest to what is left.

The instructions, the question and the tool calls are never cut, and the agent's own record of the results
(and its check of the answer's numbers against them) keeps everything; only what the model reads shrinks.

    fit = fit_conversation(llm, messages, max_tokens=512, fixed_tokens=llm.count_tokens(instructions))
    llm.generate(fit.messages, ...)     # fit.changed: how many messages were dropped or shortened
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.llm.base import LLM, Message
from assistant.llm.budget import PER_MESSAGE_OVERHEAD, message_tokens, shorten

_TAG_OPEN = re.compile(r"<(?=[/|!?A-Za-z])")
_RESULT = re.compile(r"(?s)^(.*<tool_result>\n)(.*)(\n</tool_result>\s*)$")


def escape_json(payload: Any) -> str:
    """JSON text in which tag-like ``<`` (``</x``, ``<|``, ``<x``) and ``|>`` are \\u-escaped (still valid
    JSON), so data cannot open/close tags or chat-template markers; ``<= 52`` stays readable."""
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return _TAG_OPEN.sub(r"\\u003c", text).replace("|>", "|\\u003e")


@dataclass
class ConversationFit:
    messages: list[Message]  # what to send (a new list; the conversation given is not changed)
    changed: int  # messages dropped or shortened
    prompt_tokens: int  # estimated size of ``messages``
    fits: bool  # False when even the fully trimmed conversation is over the budget


def fit_conversation(llm: LLM, messages: list[Message], *, max_tokens: int, reserve: int = 16,
                     fixed_tokens: int = 0, min_tokens: int = 48, question: int | None = None) -> ConversationFit:
    """``messages`` (system first, then chat history, the question, and tool call/result pairs) fitted to
    ``llm.context_length - max_tokens - reserve - fixed_tokens`` tokens as the module docstring describes;
    ``fixed_tokens``: what the backend adds to every prompt (the tool instructions it appends to the system
    message: llm.toolcall.prepare_messages); ``question``: the index of the current question (default: the
    last user message before the first tool result)."""
    budget = llm.context_length - max_tokens - reserve - fixed_tokens
    out = list(messages)
    sizes = [message_tokens(llm, m) for m in out]
    if sum(sizes) <= budget:
        return ConversationFit(out, 0, sum(sizes), True)
    question = _question_index(out) if question is None else question
    dropped = 0
    while sum(sizes) > budget and question > 1:  # 1. earlier chat turns, oldest first (the system stays)
        sizes.pop(1)
        out.pop(1)
        question -= 1
        dropped += 1
    results = [i for i in range(question + 1, len(out)) if out[i].get("role") == "tool"]
    changed: set[int] = set()
    for how, order, floor in ((_compact, results, 0), (shorten, results[:-1], min_tokens),
                              (shorten, results[-1:], min_tokens)):
        for i in order:  # 2. compact every result, 3. cut the older ones, then the newest
            over = sum(sizes) - budget
            if over <= 0:
                break
            text = str(out[i].get("content", ""))
            room = max(floor, sizes[i] - over) - PER_MESSAGE_OVERHEAD
            new = how(llm, text, max(1, room)) or text
            if new != text:
                out[i] = {**out[i], "content": new}
                sizes[i] = message_tokens(llm, out[i])
                changed.add(i)
    return ConversationFit(out, dropped + len(changed), sum(sizes), sum(sizes) <= budget)


def _question_index(messages: list[Message]) -> int:
    """Index of the current question: the last user message before the first tool result of this turn."""
    first_tool = next((i for i, m in enumerate(messages) if m.get("role") == "tool"), len(messages))
    users = [i for i, m in enumerate(messages[:first_tool]) if m.get("role") == "user"]
    return users[-1] if users else len(messages) - 1


def _compact(llm: LLM, text: str, budget: int) -> str:
    """A tool-result message whose JSON payload's longest lists are halved (first items kept, a note counts
    the rest) until it fits ``budget`` tokens or no list has two items left; ``text`` if it is not JSON."""
    match = _RESULT.match(text)
    if not match:
        return text
    head, payload, tail = match.groups()
    try:
        data = json.loads(payload)
    except ValueError:
        return text
    data = copy.deepcopy(data)
    left_out: dict[tuple[Any, ...], int] = {}
    out = text
    while llm.count_tokens(out) > budget:
        longest = max(_lists(data), key=lambda pl: len(json.dumps(pl[1], default=str)), default=None)
        if longest is None:
            break
        path, items = longest
        real = [x for x in items if not _is_note(x)]
        keep = max(1, len(real) // 2)
        left_out[path] = left_out.get(path, 0) + len(real) - keep
        short = [*real[:keep], f"… {left_out[path]} more left out to fit the context"]
        if path:
            _put(data, path, short)
        else:
            data = short
        out = f"{head}{escape_json(data)}{tail}"
    return out


def _is_note(item: Any) -> bool:
    return isinstance(item, str) and item.endswith("more left out to fit the context")


def _lists(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], list[Any]]]:
    """(path, list) of every list in ``node`` that still has two items or more to halve."""
    children: Iterator[tuple[Any, Any]] = (
        iter(node.items()) if isinstance(node, dict) else iter(enumerate(node)) if isinstance(node, list)
        else iter(()))
    if isinstance(node, list) and sum(not _is_note(x) for x in node) >= 2:
        yield path, node
    for key, child in children:
        yield from _lists(child, (*path, key))


def _put(data: Any, path: tuple[Any, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value

