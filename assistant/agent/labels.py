"""Is a number called what it is? A forecast result holds past sales (``history``: one period's, such as
``last_period_units``, and the span's ``units_last_12_periods``), one period's forecast (the ``by_period`` /
``by_week`` rows) and the totals (``total_units`` and its interval). A number the answer takes from one of
these and writes as another is flagged ``mislabelled_number``:

- past sales written as a forecast ("R1 will sell 3312.5 units" where 3312.5 is the last 12 weeks' sales);
- one period's forecast written as the total ("the 12-week forecast is 703.4" where 703.4 is week 1);
- a forecast written as past sales ("R1 sold 703.4 units in the last 12 weeks");
- one period's past sales written as the span's ("sold 69 units in the last 12 weeks", 69 being last week's).

What a clause says comes from its words: "will", "forecast", "next" (future); "last", "sold", "history"
(past); "total", "over the next", "12 weeks" (a total); "per week", "weekly", "average", "most recent",
"peak", "week 3" (one period). A clause with no such words takes those earlier in its sentence, else the question's. A clause with
words of both sides, a comparison ("against", "versus") or a number that other parts of the results also hold
is not judged. A number found in several places is flagged only when none of them fits the clause.

Any tool's result: a number written as units ("1.68 units per week") that the results hold only as a score,
price, level or share (``cv_mase`` 1.68) is flagged too (:func:`unit_flags`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from assistant.agent.result import AgentFlag, AgentStep, result_entity
from assistant.numbers import (
    NumberMention,
    clauses,
    extract_numbers,
    key_words,
    leaves,
    path_text,
    sentences,
    shows,
    source_pool,
)

PAST_KEY, TOTAL_KEY = "history", "total_units"  # the parts of a forecast tool's result
ROWS_KEYS = ("by_period", "by_week")  # its per-period rows (forecast_demand, forecast_new_product)
FUTURE, PAST, MIXED = "future", "past", "mixed"  # what a number or a clause is about: its time
TOTAL, PERIOD = "total", "period"  # ... and its size
_PAST_TOTAL = "units_last_"  # history.units_last_12_periods: past sales over a span; other history numbers: one period
_ROW_LABELS = {"week", "period", "periods"}  # numbers that name a row or count rows, not sales

_FUTURE = re.compile(r"\b(?:forecast(?:s|ed|ing)?|predict(?:s|ed|ions?)?|projected|projections?|expect(?:s|ed)?|"
                     r"will|next|upcoming|coming)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:history|historical(?:ly)?|last|past|previous(?:ly)?|prior|so far|to date|recent(?:ly)?|"
                   r"since|sold|was|were|had|averaged|ago)\b", re.IGNORECASE)
_UNITS = re.compile(r"\s?(?:units?|pieces|pcs|items)\b", re.IGNORECASE)
_NOT_COUNT = {"mase", "ase", "smape", "mape", "wape", "rmse", "mae", "error", "score", "similarity", "price", "cost",
              "margin", "level", "share", "pct", "percent", "rate", "ratio", "rating"}  # words of keys that hold no units
_COMPARE = re.compile(r"\b(?:before|earlier|against|compared|versus|vs)\b", re.IGNORECASE)
_TOTAL = re.compile(r"\b(?:total|in all|altogether|overall|over the (?:next|coming)|\d+[- ](?:weeks?|months?|days?))\b",
                    re.IGNORECASE)
_PERIOD = re.compile(r"\b(?:(?:per|a|each|every|one|that|the) (?:week|month|day|period)|weekly|monthly|daily|peak|"
                     r"averag(?:e|es|ed|ing)|mean|avg|most recent|latest|"
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
    for offset, clause, s_time, s_size in _clauses(answer):
        if _COMPARE.search(clause):
            continue
        time, size = _time(clause) or s_time or q_time, _size(clause) or s_size or q_size
        for m in extract_numbers(clause):
            start = offset + m.start
            if start in skip or rest.supports(m):
                continue
            found = _find(m, parts)
            if not found or any(_fits(label, time, size) for *_, label in found):
                continue  # not a judged number, or one reading of it fits the clause
            step, where, label = next((f for f in found if f[2][0] == time), found[0])
            flag = _judge(m, label, time, size, step, where)
            flag.detail.update(start=start, end=offset + m.end)
            flags.append(flag)
    return flags


def _clauses(answer: str) -> list[tuple[int, str, str | None, str | None]]:
    """(offset, clause, time, size of the sentence before the clause) for every clause of ``answer``: a clause
    without time or size words takes those of its sentence's lead ("The most recent sales were on 5 Dec, with 69
    units sold"), not of the clauses after it ("R1: 3312.5 units, 276 a week")."""
    return [(s_off + c_off, clause, _time(sentence[:c_off]), _size(sentence[:c_off]))
            for s_off, sentence in sentences(answer) for c_off, clause in clauses(sentence)]


def unit_flags(answer: str, question: str, steps: Sequence[AgentStep], skip: Collection[int] = ()) -> list[AgentFlag]:
    """``mislabelled_number`` flags for numbers written as units ("1.68 units") that the results hold only
    under keys that are no unit counts (``cv_mase``, ``price``, ``level``, ``share``, ...)."""
    counts = source_pool([question, *(v for s in steps for v in (s.arguments, s.error, _counts(s.result)))])
    flags: list[AgentFlag] = []
    for m in extract_numbers(answer):
        if m.start in skip or m.percent or not _UNITS.match(answer, m.end) or counts.supports(m):
            continue
        where = next(((step, path) for step in steps for path, value in leaves(step.result) if shows(m, value)), None)
        if where is None:
            continue  # in no result at all: the plain number check flags it
        step, path = where
        entity = result_entity(step) or step.tool
        flags.append(AgentFlag("mislabelled_number", f"The number {m.text!r} is written as units but is "
                               f"{path_text(path)} in the result for {entity}, which is not a number of units.",
                               {"text": m.text, "entity": entity, "path": path_text(path), "start": m.start,
                                "end": m.end}))
    return flags


def _counts(obj: Any) -> Any:
    """``obj`` without the values under keys that are no unit counts (scores, prices, levels, shares)."""
    if isinstance(obj, dict):
        return {k: _counts(v) for k, v in obj.items() if not key_words(str(k)) & _NOT_COUNT}
    if isinstance(obj, list | tuple):
        return [_counts(v) for v in obj]
    return obj


def _fits(label: tuple[str, str], time: str | None, size: str | None) -> bool:
    """Whether a number of ``label`` (its time and size) may be written in a clause about ``time`` and ``size``."""
    return time in (None, MIXED, label[0]) and size in (None, MIXED, label[1])


def _judge(m: NumberMention, label: tuple[str, str], time: str | None, size: str | None, step: AgentStep,
           where: str) -> AgentFlag:
    """The flag for ``m`` (a number of ``label``, found at ``where`` in ``step``'s result) in a clause about
    ``time`` and ``size`` that it does not fit, with the value that belongs there when the result has one."""
    result: dict[str, Any] = step.result  # type: ignore[assignment]  # a forecast result (label_flags)
    entity = result_entity(step) or step.tool
    is_time, is_size = label
    if time in (FUTURE, PAST) and time != is_time:
        says = "reads as a forecast but is past sales" if time == FUTURE else "reads as past sales but is a forecast"
    else:
        says = (f"reads as one period's {'forecast' if is_time == FUTURE else 'sales'} but is a total"
                if size == PERIOD else
                f"reads as a total but is one period's {'forecast' if is_time == FUTURE else 'past sales'}")
    want_time = time if time in (FUTURE, PAST) else is_time
    right: tuple[str, str] | None = None
    if size != PERIOD and want_time == FUTURE:  # a row's units / lo_80 / hi_80 -> total_units / total_lo_80 / ...
        key = where.rsplit(".", 1)[-1]
        total_key = f"total_{key}" if is_time == FUTURE and key != "units" else TOTAL_KEY
        right = (f"the forecast total ({total_key}) for {entity} is", total_key)
    elif size != PERIOD:  # past sales over the history's span
        past = result.get(PAST_KEY)
        sums = [k for k in past if k.startswith(_PAST_TOTAL)] if isinstance(past, dict) else []
        right = (f"its past sales ({PAST_KEY}.{sums[0]}) are", f"{PAST_KEY}.{sums[0]}") if len(sums) == 1 else None
    message = f"The number {m.text!r} {says}: {where} in the result for {entity}"
    detail: dict[str, Any] = {"text": m.text, "entity": entity, "path": where}
    value = _at(result, right[1]) if right else None
    if right and isinstance(value, int | float) and not isinstance(value, bool):
        detail.update(expected=value, expected_path=right[1])
        message += f"; {right[0]} {value:.12g}"
    return AgentFlag("mislabelled_number", message + ".", detail)


def _time(text: str) -> str | None:
    """"future", "past", "mixed" (words of both) or None (no time words)."""
    return _side(bool(_FUTURE.search(text)), bool(_PAST.search(text)), FUTURE, PAST)


def _size(text: str) -> str | None:
    """"total", "period", "mixed" or None."""
    return _side(bool(_TOTAL.search(text)), bool(_PERIOD.search(text)), TOTAL, PERIOD)


def _side(a: bool, b: bool, a_name: str, b_name: str) -> str | None:
    return (MIXED if b else a_name) if a else (b_name if b else None)


def _rows_key(result: Any) -> str | None:
    return next((k for k in ROWS_KEYS if isinstance(result, dict) and isinstance(result.get(k), list)), None)


def _parts(result: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """The judged parts of a forecast result by time, each with its key: ``{"future": ("by_period", [...])}``."""
    rows = _rows_key(result)
    return {PAST: (PAST_KEY, result.get(PAST_KEY)), FUTURE: (str(rows), result.get(str(rows)))}  # rows: forecasts


def _rest(step: AgentStep) -> Any:
    """A step's result without the parts that are judged (all of it for other tools)."""
    if not (step.ok and _rows_key(step.result)):
        return step.result
    return {k: v for k, v in step.result.items() if k not in (PAST_KEY, *ROWS_KEYS)}  # type: ignore[union-attr]


def _at(result: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        result = result.get(key) if isinstance(result, dict) else None  # type: ignore[assignment]
    return result


def _find(m: NumberMention, parts: list[tuple[AgentStep, dict[str, tuple[str, Any]]]]
          ) -> list[tuple[AgentStep, str, tuple[str, str]]]:
    """Every judged number that ``m`` shows: the step, where (``by_period[0].units``) and its label, (time,
    size): one period's forecast (a row), one period's past sales or past sales over the history's span."""
    out = []
    for step, by_kind in parts:
        for kind, (name, part) in by_kind.items():
            for path, value in leaves(part):
                if path[-1] in _ROW_LABELS or not shows(m, value):
                    continue
                span = kind == PAST and str(path[-1]).startswith(_PAST_TOTAL)
                out.append((step, path_text((name, *path)), (kind, TOTAL if span else PERIOD)))
    return out
