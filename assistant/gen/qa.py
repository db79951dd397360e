"""Launch Q&A: answer a question over the catalog and reviews with citations, or say plainly that the
evidence is not there.

Abstention is decided in three places: (1) retrieval — no hit above ``min_score`` or no hit sharing
a content word with the question means no model call at all; (2) the model's own
``sufficient_evidence`` field; (3) an answer that cites no valid evidence id. Tool calls the model
proposes are returned for the caller's tool loop, but only calls of the tools that were offered."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from assistant.gen.citations import check_citations, content_words, strip_citations, whole_sentences
from assistant.gen.evidence import (
    Evidence,
    evidence_budget,
    evidence_ids,
    fit_evidence,
    merge_by_id,
    render_blocks,
    safe_id,
)
from assistant.gen.llmio import generate, parse_json, system_message
from assistant.llm.base import LLM, Message
from assistant.prompts import render

ANSWER_CHARS = 240  # the grammar's cap on the answer: one or two sentences, not a pasted review


def answer_schema(ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The answer schema; with ``ids`` the citations are constrained to those evidence ids."""
    schema = json.loads(json.dumps(ANSWER_SCHEMA))
    schema["properties"]["answer"]["maxLength"] = ANSWER_CHARS
    if ids:
        schema["properties"]["citations"] = {"type": "array", "maxItems": 3,
                                             "items": {"type": "string", "enum": sorted(set(ids))}}
    return schema


_ANSWER_RE = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)')
_CITES_RE = re.compile(r'"citations"\s*:\s*\[([^\]]*)')
_SUFF_RE = re.compile(r'"sufficient_evidence"\s*:\s*(true|false)')


def parse_answer(text: str) -> dict[str, Any]:
    """The answer object; a cut-off JSON answer is salvaged field by field; plain text is the answer."""
    try:
        return parse_json(text)
    except Exception:
        pass
    m = _ANSWER_RE.search(text)
    if not m:
        return {"answer": text.strip(), "citations": [], "sufficient_evidence": True}
    try:
        answer = json.loads(f'"{m.group(1)}"')
    except json.JSONDecodeError:
        answer = m.group(1)
    cites = _CITES_RE.search(text)
    suff = _SUFF_RE.search(text)
    return {"answer": answer, "citations": re.findall(r'"([^"]+)"', cites.group(1)) if cites else [],
            "sufficient_evidence": suff is None or suff.group(1) == "true"}


def supported(answer: str, evidence: dict[str, str], ids: Sequence[str], min_support: float = 0.6) -> bool:
    """True when most content words of ``answer`` occur in the cited evidence texts."""
    words = content_words(answer)
    cited = set().union(*(content_words(evidence[i]) for i in ids if i in evidence)) if ids else set()
    return bool(words) and len(words & cited) / len(words) >= min_support


def supporting_ids(answer: str, evidence: dict[str, str], min_support: float = 0.6, max_ids: int = 2) -> list[str]:
    """The fewest evidence ids (at most ``max_ids``, best overlap first) whose texts support ``answer``;
    [] when none do. Small models often quote one review and cite its neighbour: the citation is
    re-attributed to the text the answer actually comes from."""
    words = content_words(answer)
    if not words:
        return []
    ranked = sorted(evidence, key=lambda i: -len(words & content_words(evidence[i])))
    for n in range(1, max_ids + 1):
        if supported(answer, evidence, ranked[:n], min_support):
            return ranked[:n]
    return []


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "string"}},
        "sufficient_evidence": {"type": "boolean"},
    },
    "required": ["answer", "citations", "sufficient_evidence"],
}

def abstain_message(question: str) -> str:
    topic = question.strip().rstrip("?.! ")
    return f"I don't have evidence on that in the catalog or reviews: {topic}."


def hits_to_evidence(hits: Sequence[Any]) -> list[Evidence]:
    out: list[Evidence] = []
    for h in hits:
        meta = {"product": h.product_id if h.review_id else "", "title": h.title or ""}
        if h.rating is not None:
            meta["rating"] = f"{float(h.rating):g}"
        out.append(Evidence(safe_id(h.cite_id), h.text, "review" if h.review_id else "product", meta))
    return out


def _keys(text: str) -> set[str]:
    return {w[:5] for w in content_words(text)}  # crude stemming: battery/batteries, fit/fits


# words that say nothing about WHAT a question asks ("How is the product?" is about anything)
_GENERIC = {"product", "item", "thing", "think", "like", "good", "how", "tell", "about", "review", "opinion",
            "feel", "buy", "use", "work", "doe", "much", "really", "way", "kind"}


def on_topic(question: str, answer: str) -> bool:
    """True when the answer mentions what the question asks about (a content word of the question that is
    not generic), or the question names nothing specific."""
    topic = {w for w in content_words(question) if w not in _GENERIC}
    return not topic or bool({w[:5] for w in topic} & _keys(answer))


def _relevant(question: str, hits: Sequence[Any], min_score: float | None) -> list[Any]:
    """Hits above ``min_score``, provided at least one of them shares a content word with the question
    (otherwise nothing: the question is about something the store has no evidence on). Hits that share
    words come first."""
    q = _keys(question)
    scored = [h for h in hits if min_score is None or float(h.score) >= min_score]
    overlap = [h for h in scored if not q or q & _keys(f"{h.text} {h.title or ''}")]
    if not overlap:
        return []
    return overlap + [h for h in scored if h not in overlap]


def answer_question(question: str, *, llm: LLM, index: Any, catalog: Any = None,
                    tools: list[dict[str, Any]] | None = None, k: int = 8, filters: Any = None,
                    min_score: float | None = None, max_tokens: int = 320,
                    history: Sequence[Message] = ()) -> dict[str, Any]:
    """Answer ``question`` from hybrid retrieval over ``index`` (catalog is accepted for callers that
    want product rows; retrieval already carries titles).

    Returns ``{"answer", "citations", "sufficient_evidence", "abstained", "reason", "invalid_citations",
    "tool_calls": [{"name", "arguments"}], "rejected_tool_calls", "evidence": [hit dicts]}``.
    ``tools`` (JSON tool specs) are passed to the model; only calls of those tools are returned.
    """
    question = question.strip()
    hits = list(index.search(question, k=k, filters=filters)) if question else []
    relevant = _relevant(question, hits, min_score)
    base: dict[str, Any] = {"question": question, "citations": [], "invalid_citations": [], "tool_calls": [],
                            "rejected_tool_calls": [], "evidence": [h.as_dict() for h in relevant]}
    if not relevant and not tools:
        return {**base, "answer": abstain_message(question), "sufficient_evidence": False, "abstained": True,
                "reason": "retrieval found no relevant evidence"}
    items = hits_to_evidence(relevant)
    system = system_message("answer questions about products from evidence, citing ids.")
    probe: list[Message] = [system, *history, {"role": "user", "content": render(
        "qa_answer", question=question, evidence="", tools=bool(tools))}]
    kept, _ = fit_evidence(llm, items, max(0, evidence_budget(llm, probe, max_tokens=max_tokens)), max_chars=800)
    user = render("qa_answer", question=question, evidence=render_blocks(kept, 800), tools=bool(tools))
    gen = generate(llm, [system, *history, {"role": "user", "content": user}], max_tokens=max_tokens,
                   tools=tools, json_schema=answer_schema(sorted(evidence_ids(kept))))
    allowed = {str(t.get("name") or t.get("function", {}).get("name")) for t in (tools or [])}
    calls = [{"name": c.name, "arguments": c.arguments, "id": c.id} for c in gen.tool_calls]
    base["tool_calls"] = [c for c in calls if c["name"] in allowed]
    base["rejected_tool_calls"] = [c for c in calls if c["name"] not in allowed]
    if base["tool_calls"]:
        return {**base, "answer": "", "sufficient_evidence": False, "abstained": False,
                "reason": "the model asked for a tool"}
    obj = parse_answer(gen.text)
    known = evidence_ids(kept)
    answer = whole_sentences(str(obj.get("answer", "")))
    declared = [str(c).strip("[] ") for c in obj.get("citations") or [] if str(c).strip()]
    report = check_citations(answer, known)
    citations = list(dict.fromkeys([c for c in declared if c in known] + report.cited))
    invalid = list(dict.fromkeys([c for c in declared if c not in known] + report.invalid))
    declined = answer.lower().startswith(("i don't have evidence", "i do not have evidence"))
    # The answer stands when it is grounded: its content words come from the cited evidence, or from other
    # retrieved evidence it is then re-attributed to. The model's own sufficient_evidence flag only decides
    # when the words do not settle it (small models flag false after grounded answers and true after guesses).
    flag = bool(obj.get("sufficient_evidence", True))
    texts = {e.id: e.text for e in merge_by_id(kept, max_per_id=len(kept))}  # chunks of one review together
    plain = strip_citations(answer)
    repaired = False
    support = supported(plain, texts, citations)
    if not support and not declined:
        better = supporting_ids(plain, texts)
        if better:
            citations, support, repaired = better, True, True
    # an answer grounded in text about something else ("the lens is sharp" for a question on colour) is
    # not an answer: when the model also flags the evidence as insufficient, abstain
    topical = on_topic(question, plain)
    sufficient = bool(citations) and bool(answer) and not declined and (flag or (support and topical))
    if not sufficient:
        why = ("the answer cited no valid evidence" if not citations or declined
               else "the answer is about something other than the question" if support and not topical
               else "the model said the evidence is insufficient")
        text = check_citations(answer, known).text if declined else abstain_message(question)
        return {**base, "answer": text, "citations": [], "invalid_citations": invalid, "sufficient_evidence": False,
                "abstained": True, "reason": why}
    if repaired:  # the answer's own markers pointed elsewhere: show the evidence it comes from
        answer = f"{plain} [{', '.join(citations)}]"
    else:  # cited only in the citations field: show them after the answer
        answer = report.text if report.cited else f"{report.text} [{', '.join(citations)}]"
    reason = "" if flag else "model flagged insufficient evidence but the answer is supported by its citations"
    if repaired:
        reason = "citations re-attributed to the evidence the answer's words come from"
    return {**base, "answer": answer, "citations": citations, "invalid_citations": invalid,
            "sufficient_evidence": True, "abstained": False, "model_flag": flag, "citations_repaired": repaired,
            "reason": reason}
