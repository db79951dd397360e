"""Context budget: fit retrieved evidence into what is left of the context window.

The system/instruction messages and the question are never cut; evidence blocks are kept in the order
given (best first) until the budget runs out, the last one possibly shortened (its closing tag, e.g.
``</evidence>``, is kept so blocks stay well-formed), the rest dropped.

    fit = fit_messages(llm, [{"role": "system", "content": sys},
                             {"role": "user", "content": f"{EVIDENCE}\\n\\nQuestion: {q}"}], blocks)
    llm.generate(fit.messages, max_tokens=fit.max_tokens)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.errors import GenerationError
from assistant.llm.base import LLM, Message

EVIDENCE = "{evidence}"
"""Placeholder in a message where the kept evidence blocks go (joined by a blank line)."""

PER_MESSAGE_OVERHEAD = 8  # chat-template tokens around each message (role markers, newlines)
_CLOSING_TAG = re.compile(r"(\s*</[A-Za-z_][\w-]*>\s*)$")
_ELLIPSIS = " …"


@dataclass
class FitResult:
    messages: list[Message]
    kept: list[str]  # evidence blocks as placed (the last may be shortened)
    dropped: int  # blocks left out entirely
    truncated: bool  # the last kept block was shortened
    prompt_tokens: int  # estimated prompt size after fitting
    max_tokens: int  # the generation budget the fit reserved
    kept_indices: list[int] = field(default_factory=list)


def message_tokens(llm: LLM, message: Message) -> int:
    """Estimated prompt tokens of one message (content tokens + a per-message template overhead)."""
    return llm.count_tokens(str(message.get("content", ""))) + PER_MESSAGE_OVERHEAD


def messages_tokens(llm: LLM, messages: list[Message]) -> int:
    """Estimated prompt tokens of ``messages`` (message_tokens summed)."""
    return sum(message_tokens(llm, m) for m in messages)


def shorten(llm: LLM, text: str, budget: int) -> str:
    """``text`` cut (at a word boundary, closing tag kept) to at most ``budget`` tokens; "" if impossible."""
    if llm.count_tokens(text) <= budget:
        return text
    tag_match = _CLOSING_TAG.search(text)
    tail = tag_match.group(1) if tag_match else ""
    body = text[: len(text) - len(tail)] if tail else text
    fixed = llm.count_tokens(tail + _ELLIPSIS) if tail else llm.count_tokens(_ELLIPSIS)
    room = budget - fixed
    if room <= 0:
        return ""
    lo, hi = 0, len(body)  # longest prefix (in chars) whose token count fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if llm.count_tokens(body[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    cut = body[:lo]
    space = cut.rfind(" ")
    if space > lo // 2:
        cut = cut[:space]
    cut = cut.rstrip()
    if not cut:
        return ""
    out = cut + _ELLIPSIS + tail
    while out and llm.count_tokens(out) > budget:  # tokenisers are not additive: trim until it fits
        cut = cut[: max(0, len(cut) - max(1, len(cut) // 20))].rstrip()
        out = (cut + _ELLIPSIS + tail) if cut else ""
    return out


def fit_messages(llm: LLM, messages: list[Message], evidence_blocks: list[str], *, max_tokens: int | None = None,
                 reserve: int = 16, placeholder: str = EVIDENCE, min_block_tokens: int = 24,
                 separator: str = "\n\n") -> FitResult:
    """Place as much evidence as fits in ``llm.context_length - max_tokens - reserve``.

    The evidence replaces ``placeholder`` in the first message containing it; without a placeholder it
    is put at the start of the last user message. Raises GenerationError when the messages alone (the
    instructions and the question) do not fit.
    """
    if max_tokens is None:
        max_tokens = int(getattr(llm, "max_tokens", 512))
    target = next((i for i, m in enumerate(messages) if placeholder in str(m.get("content", ""))), None)
    if target is None:
        target = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)
        if target is None:
            raise ValueError("fit_messages needs a user message or the evidence placeholder in one message")
        content = str(messages[target].get("content", ""))
        messages = [*messages[:target], {**messages[target], "content": f"{placeholder}{separator}{content}"},
                    *messages[target + 1:]]

    def render(blocks: list[str]) -> list[Message]:
        out = list(messages)
        out[target] = {**out[target], "content": str(out[target].get("content", "")).replace(
            placeholder, separator.join(blocks))}
        return out

    base = messages_tokens(llm, render([]))
    budget = llm.context_length - max_tokens - reserve - base
    if budget < 0:
        raise GenerationError(
            f"The instructions and question need {base} tokens, more than the {llm.context_length}-token "
            f"context leaves after reserving {max_tokens} for the answer. Shorten the question, lower "
            "ASSISTANT_LLM_MAX_TOKENS or raise ASSISTANT_LLM_CONTEXT."
        )
    sep_cost = llm.count_tokens(separator) or 1
    kept: list[str] = []
    idx: list[int] = []
    truncated = False
    for i, block in enumerate(evidence_blocks):
        cost = llm.count_tokens(block) + (sep_cost if kept else 0)
        if cost <= budget:
            kept.append(block)
            idx.append(i)
            budget -= cost
            continue
        room = budget - (sep_cost if kept else 0)
        if room >= min_block_tokens:
            short = shorten(llm, block, room)
            if short:
                kept.append(short)
                idx.append(i)
                truncated = True
        break
    final = render(kept)
    return FitResult(messages=final, kept=kept, dropped=len(evidence_blocks) - len(kept), truncated=truncated,
                     prompt_tokens=messages_tokens(llm, final), max_tokens=max_tokens, kept_indices=idx)
