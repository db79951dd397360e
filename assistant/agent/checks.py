"""Checks on the agent's final answer: every number must come from a tool result, the tool arguments or
the question (:func:`assistant.numbers.check_numbers`), a number written beside one product must come
from that product's result, not another's (:func:`assistant.numbers.check_attribution`), and a number
that only a forecast's past sales hold must not be written as a forecast, nor one week's forecast as the
total (:func:`assistant.agent.labels.label_flags`), a score or price must not be written as units
(:func:`assistant.agent.labels.unit_flags`), and a review count must not be written as another aspect's or
the other opinion's, nor a share of mentions as a share of complaints
(:func:`assistant.agent.aspect_labels.aspect_flags`)."""

from __future__ import annotations

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

