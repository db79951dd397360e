"""Launch Q&A: answer a question over the catalog and reviews with citations, or say plainly that the
evidence is not there.

Abstention is decided in three places: (1) retrieval — no hit above ``min_score`` or no hit sharing
a content word with the question means no model call at all; (2) the model's own
``sufficient_evidence`` field; (3) an answer that cites no valid evidence id. Tool calls the model
proposes are returned for the caller's tool loop, but only calls of the tools that were offered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.gen.citations import check_citations, content_words
from assistant.gen.evidence import (
    Evidence,
    evidence_budget,
    evidence_ids,
    fit_evidence,
    render_blocks,
    safe_id,
)
from assistant.gen.llmio import generate, parse_json, system_message
from assistant.llm.base import LLM, Message
from assistant.prompts import render

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


def _relevant(question: str, hits: Sequence[Any], min_score: float | None) -> list[Any]:
    q = content_words(question)
    kept = []
    for h in hits:
        if min_score is not None and float(h.score) < min_score:
            continue
        if q and not (q & content_words(f"{h.text} {h.title or ''}")):
            continue
        kept.append(h)
    return kept


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
                   tools=tools, json_schema=ANSWER_SCHEMA)
    allowed = {str(t.get("name") or t.get("function", {}).get("name")) for t in (tools or [])}
    calls = [{"name": c.name, "arguments": c.arguments, "id": c.id} for c in gen.tool_calls]
    base["tool_calls"] = [c for c in calls if c["name"] in allowed]
    base["rejected_tool_calls"] = [c for c in calls if c["name"] not in allowed]
    if base["tool_calls"]:
        return {**base, "answer": "", "sufficient_evidence": False, "abstained": False,
                "reason": "the model asked for a tool"}
    try:
        obj = parse_json(gen.text)
    except Exception:
        obj = {"answer": gen.text, "citations": [], "sufficient_evidence": True}
    known = evidence_ids(kept)
    answer = str(obj.get("answer", "")).strip()
    declared = [str(c).strip("[] ") for c in obj.get("citations") or [] if str(c).strip()]
    report = check_citations(answer, known)
    citations = list(dict.fromkeys([c for c in declared if c in known] + report.cited))
    invalid = list(dict.fromkeys([c for c in declared if c not in known] + report.invalid))
    declined = answer.lower().startswith(("i don't have evidence", "i do not have evidence"))
    sufficient = bool(obj.get("sufficient_evidence", True)) and bool(citations) and bool(answer) and not declined
    if not sufficient:
        why = ("the model said the evidence is insufficient" if not obj.get("sufficient_evidence", True)
               else "the answer cited no valid evidence")
        text = check_citations(answer, known).text if declined else abstain_message(question)
        return {**base, "answer": text, "citations": [], "invalid_citations": invalid, "sufficient_evidence": False,
                "abstained": True, "reason": why}
    # cited only in the citations field: show them after the answer
    answer = report.text if report.cited else f"{report.text} [{', '.join(citations)}]"
    return {**base, "answer": answer, "citations": citations, "invalid_citations": invalid,
            "sufficient_evidence": True, "abstained": False, "reason": ""}
