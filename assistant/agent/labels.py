"""Is a number called what it is? A forecast result holds three kinds of numbers: past sales (``history``),
one period's forecast (the ``by_period`` / ``by_week`` rows) and the totals (``total_units`` and its
interval). A number the answer takes from one kind and writes as another is flagged ``mislabelled_number``:

- past sales written as a forecast ("R1 will sell 3312.5 units" where 3312.5 is the last 12 weeks' sales);
- one period's forecast written as the total ("the 12-week forecast is 703.4" where 703.4 is week 1);
- a forecast written as past sales ("R1 sold 703.4 units in the last 12 weeks").

What a clause says comes from its words: "will", "forecast", "next" (future); "last", "sold", "history"
(past); "total", "over the next", "12 weeks" (a total); "per week", "weekly", "peak", "week 3" (one period).
A clause with no such words takes the question's, when the question has them. A clause with words of both
sides, a comparison ("against", "versus") or a number that other parts of the results also hold is not
judged. Only numbers found in exactly one kind are judged, so ambiguous ones pass."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from assistant.agent.result import AgentFlag, AgentStep, result_entity
from assistant.numbers import NumberMention, clauses, extract_numbers, leaves, path_text, shows, source_pool

PAST_KEY, TOTAL_KEY = "history", "total_units"  # the parts of a forecast tool's result
ROWS_KEYS = ("by_period", "by_week")  # its per-period rows (forecast_demand, forecast_new_product)
PAST, ROWS = "past", "rows"  # the two kinds of numbers judged
_ROW_LABELS = {"week", "period", "periods"}  # numbers that name a row or count rows, not sales

_FUTURE = re.compile(r"\b(?:forecast(?:s|ed|ing)?|predict(?:s|ed|ions?)?|projected|projections?|expect(?:s|ed)?|"
                     r"will|next|upcoming|coming)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:history|historical(?:ly)?|last|past|previous(?:ly)?|prior|so far|to date|recent(?:ly)?|"
                   r"since|sold|was|were|had|averaged|ago)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\b(?:before|earlier|against|compared|versus|vs)\b", re.IGNORECASE)
_TOTAL = re.compile(r"\b(?:total|in all|altogether|overall|over the (?:next|coming)|\d+[- ](?:weeks?|months?|days?))\b",
                    re.IGNORECASE)
_PERIOD = re.compile(r"\b(?:(?:per|a|each|every|one|that|the) (?:week|month|day|period)|weekly|monthly|daily|peak|"
                     r"highest|lowest|max(?:imum)?|min(?:imum)?|(?:week|month|period) \d+|"
                     r"(?:first|second|third|last|final|\d+(?:st|nd|rd|th)) (?:week|month|day|period))\b",
                     re.IGNORECASE)


def label_flags(answer: str, question: str, steps: Sequence[AgentStep], skip: Collection[int] = ()) -> list[AgentFlag]:
    """``mislabelled_number`` flags for ``answer`` (see the module doc); ``skip``: start offsets of numbers
    already flagged for another reason."""
    parts = [(step, _parts(step.result)) for step in steps if step.ok and _rows_key(step.result)]  # type: ignore[arg-type]
    if not parts:
        return []
    rest = source_pool([question, *(v for s in steps for v in (s.arguments, s.error, _rest(s)))])
    q_time, q_size = _time(question), _size(question)
    flags: list[AgentFlag] = []
    for offset, clause in clauses(answer):
        if _COMPARE.search(clause):
            continue
        time, size = _time(clause) or q_time, _size(clause) or q_size
        for m in extract_numbers(clause):
            start = offset + m.start
            if start in skip or rest.supports(m):
                continue
            hits = {kind: hit for kind in (PAST, ROWS) if (hit := _find(m, parts, kind)) is not None}
            if len(hits) != 1:
                continue
            (kind, (step, where)), = hits.items()
            flag = _judge(m, kind, time, size, step, where)
            if flag is not None:
                flag.detail.update(start=start, end=offset + m.end)
                flags.append(flag)
    return flags


def _judge(m: NumberMention, kind: str, time: str | None, size: str | None, step: AgentStep, where: str
           ) -> AgentFlag | None:
    """The flag for ``m`` (found at ``where`` in ``step``'s ``kind`` part) in a clause about ``time`` and
    ``size``, with the value that belongs there when the result has one; None when the label fits."""
    result: dict[str, Any] = step.result  # type: ignore[assignment]  # a forecast result (label_flags)
    entity = result_entity(step) or step.tool
    key = where.rsplit(".", 1)[-1]  # a row's units / lo_80 / hi_80 -> total_units / total_lo_80 / total_hi_80
    total_key = f"total_{key}" if kind == ROWS and key != "units" else TOTAL_KEY
    total: tuple[str, str] | None = (f"the forecast total ({total_key}) for {entity} is", total_key)
    if kind == PAST and time == "future":
        says, right = "reads as a forecast but is past sales", total
    elif kind == ROWS and time == "past":
        past = result.get(PAST_KEY)
        sums = [k for k in past if k.startswith("units_last_")] if isinstance(past, dict) else []
        right = (f"its past sales ({PAST_KEY}.{sums[0]}) are", f"{PAST_KEY}.{sums[0]}") if len(sums) == 1 else None
        says = "reads as past sales but is a forecast"
    elif kind == ROWS and size == "total":
        says, right = "reads as a total but is one period's forecast", total
    else:
        return None
    message = f"The number {m.text!r} {says}: {where} in the result for {entity}"
    detail: dict[str, Any] = {"text": m.text, "entity": entity, "path": where}
    value = _at(result, right[1]) if right else None
    if right and isinstance(value, int | float) and not isinstance(value, bool):
        detail["expected"] = value
        message += f"; {right[0]} {value:.12g}"
    return AgentFlag("mislabelled_number", message + ".", detail)


def _time(text: str) -> str | None:
    """"future", "past", "mixed" (words of both) or None (no time words)."""
    return _side(bool(_FUTURE.search(text)), bool(_PAST.search(text)), "future", "past")


def _size(text: str) -> str | None:
    """"total", "period", "mixed" or None."""
    return _side(bool(_TOTAL.search(text)), bool(_PERIOD.search(text)), "total", "period")


def _side(a: bool, b: bool, a_name: str, b_name: str) -> str | None:
    return ("mixed" if b else a_name) if a else (b_name if b else None)


def _rows_key(result: Any) -> str | None:
    return next((k for k in ROWS_KEYS if isinstance(result, dict) and isinstance(result.get(k), list)), None)


def _parts(result: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """The judged parts of a forecast result by kind, each with its key: ``{"rows": ("by_period", [...])}``."""
    rows = _rows_key(result)
    return {PAST: (PAST_KEY, result.get(PAST_KEY)), ROWS: (str(rows), result.get(str(rows)))}


def _rest(step: AgentStep) -> Any:
    """A step's result without the parts that are judged (all of it for other tools)."""
    if not (step.ok and _rows_key(step.result)):
        return step.result
    return {k: v for k, v in step.result.items() if k not in (PAST_KEY, *ROWS_KEYS)}  # type: ignore[union-attr]


def _at(result: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        result = result.get(key) if isinstance(result, dict) else None  # type: ignore[assignment]
    return result


def _find(m: NumberMention, parts: list[tuple[AgentStep, dict[str, tuple[str, Any]]]], kind: str
          ) -> tuple[AgentStep, str] | None:
    """The first step whose ``kind`` part holds ``m``, and where (``by_period[0].units``)."""
    for step, by_kind in parts:
        name, part = by_kind[kind]
        for path, value in leaves(part):
            if path[-1] not in _ROW_LABELS and shows(m, value):
                return step, path_text((name, *path))
    return None
