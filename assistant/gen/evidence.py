"""Evidence handed to the LLM: review sentences, product copy and tool outputs, each with the id an
answer must cite. Evidence text is untrusted DATA: it is neutralised (tags escaped, fake citation
brackets and control characters removed) before it goes inside ``<evidence>`` blocks, and it is the
part of a prompt that gets truncated when the context budget is short — never the instructions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.llm.base import LLM, Message

EvidenceKind = Literal["review", "product", "tool", "note"]

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_WS = re.compile(r"[ \t]+")
_ROLE_PREFIX = re.compile(r"(?i)(?<![\w(])(system|assistant|user|tool|developer)\s*:")


def neutralise(text: str, max_chars: int = 1200) -> str:
    """Make untrusted text safe to place inside an evidence block.

    - ``<`` / ``>`` / ``&`` are HTML-escaped, so ``</evidence>`` or ``<|im_start|>`` cannot close the
      block or open a chat turn;
    - square brackets become parentheses, so a review cannot plant fake citations like ``[C1]``;
    - control / bidi characters are removed; ``SYSTEM:`` (or another chat role)
      anywhere in the text is prefixed with ``(quoted)`` so it reads as quoted text;
    - the text is cut to ``max_chars`` characters (with an ellipsis).
    """
    text = unicodedata.normalize("NFKC", str(text))
    text = _CTRL.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("[", "(").replace("]", ")").replace("{{", "{ {").replace("}}", "} }")
    text = _ROLE_PREFIX.sub(lambda m: f"(quoted) {m.group(1)}:", text)
    text = _WS.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+)?(previous|prior|above|earlier|your)\s+"
    r"(instructions|prompts?|rules)|</?\s*(evidence|system|tool_result)\b|<\|im_(start|end)\|>"
    r"|\b(system|developer)\s*(prompt|message)?\s*:|[{,]\s*\"(tool|function|name)\"\s*:|\byou are now\b"
    r"|\bnew instructions\b|\bsay (that )?this product is\b"
    r"|\b(note|update|message|instructions?)\s+(to|for)\s+(the\s+)?(assistant|ai|model|bot|summary writer|"
    r"copywriter|whoever writes)\b|\bwhoever writes\b|\b(every|each)\s+(summary|answer|description|copy)\s+"
    r"must\b|\bthe\s+(summary|answer)\s+must\b|\b(call|run|use)\s+(the\s+)?[a-z]+_[a-z_]+\s+(tool\s+)?with\b|\bbefore answering\b",
    re.I,
)


def before_instructions(text: str) -> str:
    """``text`` up to the sentence (or chat marker, or line) in which instruction-like content starts."""
    m = _INJECTION.search(text)
    if m is None:
        return text
    head = text[: m.start()]
    cut = max(head.rfind(s) for s in (". ", "! ", "? ", "\n", "<|"))
    return (head[: cut + 1] if cut >= 0 else head).rstrip(" .!?\n<|").strip()


def looks_like_injection(text: str) -> bool:
    """True when ``text`` contains instruction-like content (prompt-injection attempts). Such evidence is
    still shown to the model as escaped data, but is never used to auto-attribute model sentences."""
    return bool(_INJECTION.search(str(text)))


def safe_id(value: Any) -> str:
    """Ids go inside tag attributes and citation brackets: keep a conservative character set."""
    return re.sub(r"[^A-Za-z0-9_.:\-]", "_", str(value))[:64]


@dataclass
class Evidence:
    """One piece of evidence. ``id`` is what an answer cites (``[W123]``); ``meta`` is shown as
    attributes of the block (rating, product, aspect, polarity)."""

    id: str
    text: str
    kind: EvidenceKind = "review"
    meta: dict[str, str] = field(default_factory=dict)

    def block(self, max_chars: int = 1200) -> str:
        attrs = " ".join(f'{safe_id(k)}="{neutralise(v, 80)}"' for k, v in self.meta.items() if v not in ("", None))
        head = f'<evidence id="{safe_id(self.id)}" kind="{self.kind}"' + (f" {attrs}" if attrs else "") + ">"
        return f"{head}\n{neutralise(self.text, max_chars)}\n</evidence>"


def render_blocks(items: Iterable[Evidence], max_chars: int = 1200) -> str:
    """All evidence blocks, one after the other."""
    return "\n".join(e.block(max_chars) for e in items)


def evidence_ids(items: Iterable[Evidence]) -> set[str]:
    return {safe_id(e.id) for e in items}


def merge_by_id(items: Iterable[Evidence], max_per_id: int = 3) -> list[Evidence]:
    """Merge several sentences of the same review into one block (keeps order of first appearance)."""
    out: dict[str, Evidence] = {}
    seen: dict[str, list[str]] = {}
    for e in items:
        texts = seen.setdefault(e.id, [])
        if e.text in texts or len(texts) >= max_per_id:
            continue
        texts.append(e.text)
        if e.id in out:
            out[e.id].text = " … ".join(texts)
        else:
            out[e.id] = Evidence(e.id, e.text, e.kind, dict(e.meta))
    return list(out.values())


# --------------------------------------------------------------------------- context budget


def _count(llm: LLM, text: str) -> int:
    try:
        return int(llm.count_tokens(text))
    except Exception:  # a backend without a tokenizer loaded: safe over-estimate
        return max(1, len(text) // 3)


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def evidence_budget(llm: LLM, messages: Sequence[Message], *, max_tokens: int, margin: int = 64) -> int:
    """Tokens left for evidence once the instructions (``messages`` rendered with no evidence) and the
    answer (``max_tokens``) are accounted for."""
    from assistant.llm.budget import messages_tokens

    fixed = messages_tokens(llm, list(messages))
    ctx = int(getattr(llm, "context_length", 4096) or 4096)
    return ctx - fixed - max_tokens - margin


def fit_evidence(llm: LLM, items: Sequence[Evidence], budget_tokens: int, *,
                 max_chars: int = 1200, min_chars: int = 160) -> tuple[list[Evidence], int]:
    """Keep evidence items in order while they fit ``budget_tokens``; a long item that does not fit
    is shortened (down to ``min_chars``) before it is dropped. Returns (kept, number dropped)."""
    kept: list[Evidence] = []
    used = 0
    for i, e in enumerate(items):
        chars = max_chars
        while True:
            cost = _count(llm, e.block(chars)) + 1
            if used + cost <= budget_tokens:
                kept.append(Evidence(e.id, _cut(e.text, chars), e.kind, dict(e.meta)))
                used += cost
                break
            if chars <= min_chars:
                return kept, len(items) - i
            chars = max(min_chars, chars // 2)
    return kept, 0


def chunk_evidence(llm: LLM, items: Sequence[Evidence], budget_tokens: int, *,
                   max_chars: int = 1200) -> list[list[Evidence]]:
    """Split evidence into consecutive chunks that each fit ``budget_tokens`` (for map-reduce)."""
    chunks: list[list[Evidence]] = []
    rest = list(items)
    while rest:
        kept, _ = fit_evidence(llm, rest, budget_tokens, max_chars=max_chars)
        if not kept:  # a single item larger than the whole budget: force it in, shortened
            kept = [Evidence(rest[0].id, _cut(rest[0].text, 160), rest[0].kind, dict(rest[0].meta))]
        chunks.append(kept)
        rest = rest[len(kept):]
    return chunks
