"""Checks on the agent's final answer: every number must come from a tool result, the tool arguments or
the question (:func:`assistant.numbers.check_numbers`), a number written beside one product must come
from that product's result, not another's (:func:`assistant.numbers.check_attribution`), and a number
that only a forecast's past sales hold must not be written as a forecast, nor one week's forecast as the
total (:func:`assistant.agent.labels.label_flags`), a score or price must not be written as units
(:func:`assistant.agent.labels.unit_flags`), and a review count must not be written as another aspect's or
the other opinion's, nor a share of mentions as a share of complaints
(:func:`assistant.agent.aspect_labels.aspect_flags`). Two checks on the answer's text: what buyers say must
come from a review tool (:func:`opinion_flags`), and an answer must not stop where its list should begin
(:func:`incomplete_flags`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assistant.agent.aspect_labels import aspect_flags
from assistant.agent.labels import label_flags, unit_flags
from assistant.agent.result import AgentFlag, AgentStep, result_entity
from assistant.numbers import check_attribution, check_numbers


def number_flags(answer: str, question: str, steps: Sequence[AgentStep]) -> list[AgentFlag]:
    """Flags for the numbers and dates in ``answer`` that no source holds or that sit beside the wrong product."""
    sources: list[Any] = [question]  # everything, for the plain check
    shared: list[Any] = [question]  # what no single product owns, for the attribution check
    by_entity: dict[str, list[Any]] = {}
    for step in steps:
        sources += [step.arguments, step.result, step.error]
        shared.append(step.arguments)
        entity = result_entity(step)
        if entity is None:
            shared.append(step.result)
        else:
            by_entity.setdefault(entity, []).append(step.result)
    check = check_numbers(answer, sources)
    flags = [AgentFlag("unsupported_number", f"The number {m.text!r} in the answer does not appear in any tool "
                       "result or the question.", {"text": m.text, "start": m.start, "end": m.end})
             for m in check.unsupported]
    flags += [AgentFlag("unsupported_number", f"The date {date!r} in the answer does not appear in any tool "
                        "result or the question.", {"text": date}) for date in check.unsupported_dates]
    for wrong in check_attribution(answer, by_entity, shared):
        m = wrong.mention
        detail: dict[str, Any] = {"text": m.text, "start": m.start, "end": m.end, "entity": wrong.entity,
                                  "source": wrong.source}
        message = f"The number {m.text!r} is written beside {wrong.entity} but comes from the result for {wrong.source}"
        if wrong.path is not None and wrong.expected is not None:
            detail.update(path=wrong.path, expected=wrong.expected, expected_path=wrong.path)
            message += f" (its {wrong.path}); {wrong.entity}'s {wrong.path} is {wrong.expected:.12g}"
        flags.append(AgentFlag("misattributed_number", message + ".", detail))
    for judge in (label_flags, unit_flags, aspect_flags):  # each skips the numbers already flagged
        flags += judge(answer, question, steps, skip={f.detail["start"] for f in flags if "start" in f.detail})
    return flags


REVIEW_TOOLS = frozenset({"review_stats", "search_reviews"})
# a question about what buyers say ("what do its reviews say about the fit?"), not about who buys
_ASKS_OPINION = re.compile(
    r"(?i)\b(?:reviews?|reviewers?|complain\w*|prais\w*|feedback|opinions?|ratings?)\b|\b(?:buyers|customers|shoppers)"
    r"\s+(?:say|said|think|like|love|hate|dislike|complain|mention|feel|report|write)")
_ABSTAINS = re.compile(r"(?i)\b(?:no|not any|don't have|do not have|couldn't find|could not find|without)\b[^.]{0,40}"
                       r"\b(?:reviews?|review data|evidence)\b")


def missing_review_tool(question: str, steps: Sequence[AgentStep]) -> bool:
    """Whether ``question`` asks what buyers say and no review tool has returned a result yet."""
    return bool(_ASKS_OPINION.search(question)) and not any(s.ok and s.tool in REVIEW_TOOLS for s in steps)


def opinion_flags(answer: str, question: str, steps: Sequence[AgentStep]) -> list[AgentFlag]:
    """An ``unsupported_claim`` flag when the question asks what buyers say, no review tool was called and the
    answer does not say it has no reviews: what it says of them is not from the store's data."""
    if not missing_review_tool(question, steps) or _ABSTAINS.search(answer):
        return []
    return [AgentFlag("unsupported_claim", "The question asks what buyers say, but no review tool (review_stats, "
                      "search_reviews) was called, so what the answer says about reviews is not from the store's "
                      "reviews.", {"tools": sorted(REVIEW_TOOLS)})]


# "... include: 1." / "... are:" / "the top three are 1)": a reply that stopped where its list should start
_DANGLING = re.compile(r"(?:[:\u2013\u2014-]\s*(?:\(?1[.)])?|\b(?:include|includes|including|follows?)\s+"
                       r"\(?1[.)]|,|\b(?:and|or|the|a|an|of|with|to)\b)\s*$", re.IGNORECASE)


def incomplete_flags(answer: str) -> list[AgentFlag]:
    """A ``llm_error`` flag when the answer ends where a list or a sentence should go on."""
    text = answer.strip()
    if not text or not _DANGLING.search(text):
        return []
    return [AgentFlag("llm_error", "The answer stops mid-way (it ends with "
                      f"{text[-30:]!r}); ask again or rephrase the question.", {"text": text[-30:]})]
