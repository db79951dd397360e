"""Number checker: every number in a generated answer must come from the tool results or the question.

``check_numbers(answer, sources)`` extracts the numbers written in ``answer`` and looks each one up in
the numbers found in ``sources`` (tool result dicts, arguments, the question — any JSON-able value or
text). Formatting differences are tolerated:

- thousands separators and currency signs: ``1,234`` / ``$1,234`` == ``1234``
- rounding or truncating to the shown precision: ``12.3`` matches 12.34, ``12`` matches 11.6 and 12.7
  (decimals dropped: "5627 units" for 5627.6), but a bare ``0`` only matches a source that rounds to 0 (not 0.63);
  ``1.2k`` matches 1234
- shares vs percentages: ``42%`` matches a share 0.42, a source written ``42%``, a number in source text, or a
  plain 42 stored under a percent-like key (``share_pct``, ``level``, ``rate``; digits in key names such as
  ``lo_80`` count too), but not any other stored number: ``6198.5%`` for a ``total_hi_80`` of 6198.5 is flagged;
  ``0.42`` matches a source written ``42%``
- signs: ``a 5% drop`` matches -0.05, but a number written with a minus sign (``-13381.51``) needs a negative
  source number: a margin of 13381.51 reported as -13381.51 is flagged
- ISO dates must appear as dates in the sources; their year/month/day also count as source numbers.
- worked out: a sum, difference, ratio or percentage of sourced numbers in the same sentence, where the
  sentence says so ("8.3% of the 828 forecast", "2.5 times", "in all"); see :mod:`assistant.derived`.

Exempt: list markers at the start of a line (``1.`` / ``2)``), period labels (``week 3``, ``month 2``; but
``3 weeks`` is a number) and digits glued to letters (ids such as ``C1078`` or ``85099B``, ordinals like
``3rd``). Spelled-out numbers are not checked.

``check_attribution(answer, by_entity, shared)`` goes one step further when several products' results are in
play: a number written beside one product id (in a clause naming only that id, or paired in order in a
"..., respectively" sentence) that appears only in another product's results is reported with both ids,
and with the first product's own number at the same place in its result when there is one (``counterpart``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.derived import derivation

_DATE = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?![\w-])")
_NUMBER = re.compile(
    r"""
    (?<![\w.])                                   # not glued to a word, id, decimal point
    (?P<sign>(?<![\d])[-\u2212+])?                 # a sign only when not part of a range (80-95)
    (?P<cur>[$\u00a3\u20ac])?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?P<suffix>\s?%|\s?(?:percent|per\ cent|pct)\b|\s?(?:k|K|thousand|m|M|mn|million|bn|billion)\b)?
    (?![\w]|\.\d|,\d{3})                          # the number ends here (not 12kg, not 1.2.3)
    """,
    re.VERBOSE,
)
_LIST_MARKER = re.compile(r"^\s*(?:[-*]\s+)?\d{1,2}[.)](?=\s)", re.MULTILINE)
_PERIOD_LABEL = re.compile(r"\b(?:week|month|day|quarter|period) (\d{1,2})\b(?![.,]\d)", re.IGNORECASE)
_ANY_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_PERCENT_WORDS = {"pct", "percent", "percentage", "share", "rate", "level", "levels", "ratio", "coverage", "wape",
                  "mape", "smape", "growth", "change", "uplift", "discount"}
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


@dataclass(frozen=True)
class NumberMention:
    """A number written in a text: the literal, its value, shown precision and where it is."""

    text: str
    value: float
    tolerance: float  # half a unit of the last shown digit, in value units
    percent: bool = False
    start: int = 0
    end: int = 0


@dataclass
class NumberCheck:
    """Outcome of checking an answer: numbers checked and those found in no source."""

    checked: list[NumberMention] = field(default_factory=list)
    unsupported: list[NumberMention] = field(default_factory=list)
    unsupported_dates: list[str] = field(default_factory=list)
    derived: list[tuple[NumberMention, str]] = field(default_factory=list)  # worked out: (mention, "69 / 828 = 8.3%")

    @property
    def ok(self) -> bool:
        return not self.unsupported and not self.unsupported_dates

    def messages(self) -> list[str]:
        out = [f"The number {m.text!r} does not appear in any tool result or the question."
               for m in self.unsupported]
        out += [f"The date {d!r} does not appear in any tool result or the question."
                for d in self.unsupported_dates]
        return out


@dataclass
class SourcePool:
    """Numbers (absolute values) and ISO dates found in the sources."""

    values: list[float] = field(default_factory=list)
    percent_values: list[float] = field(default_factory=list)  # values written as "42%" in a source
    percent_like: list[float] = field(default_factory=list)  # plain numbers that may be percentages (see add)
    negative: list[float] = field(default_factory=list)  # the negative source numbers (as written)
    dates: set[str] = field(default_factory=set)
    quoted: SourcePool | None = None  # numbers inside customer-written text (review "text", "quote", ...)

    def add_text(self, text: str) -> None:
        for m in _DATE.finditer(text):
            self.dates.add(m.group(0)[:10])
            self.values.extend(float(g) for g in m.groups())
        for mention in extract_numbers(text, skip_list_markers=False):
            (self.percent_values if mention.percent else self.values).append(abs(mention.value))
            if mention.value < 0:
                self.negative.append(mention.value / 100.0 if mention.percent else mention.value)
        # digits inside ids / glued to words ("C1078", "85099B", "lo_80") also count as sources
        digits = [float(d) for d in _ANY_DIGITS.findall(text)]
        self.values.extend(digits)
        self.percent_like.extend(digits)  # what a text means by a plain number is not known: "80 interval"

    def add(self, obj: Any, percent: bool = False) -> None:
        """Take the numbers in ``obj``; ``percent``: a plain number in it may be written as a percentage (it
        sits under a key such as ``share_pct`` or ``level``)."""
        if obj is None or isinstance(obj, bool):
            return
        if isinstance(obj, (int, float)):
            if math.isfinite(obj):
                self.values.append(abs(float(obj)))
                if percent:
                    self.percent_like.append(abs(float(obj)))
                if obj < 0:
                    self.negative.append(float(obj))
        elif isinstance(obj, str):
            self.add_text(obj)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                self.add_text(str(k))
                if str(k).lower() in _QUOTED_KEYS and isinstance(v, str):  # untrusted: see check_numbers
                    self.quoted = self.quoted or SourcePool()
                    self.quoted.add_text(v)
                    continue
                self.add(v, percent or _percent_key(str(k)))
        elif isinstance(obj, (list, tuple, set)):
            for v in obj:
                self.add(v, percent)
        elif hasattr(obj, "isoformat"):
            self.add_text(obj.isoformat())
        else:
            try:
                self.add(float(obj), percent)  # numpy scalars
            except (TypeError, ValueError):
                self.add_text(str(obj))

    def supports(self, m: NumberMention) -> bool:
        def shown(s: float) -> bool:
            return _shows(m, s)

        if m.value < 0:  # written with a minus sign: only a negative source number (or share) will do
            return any(shown(s) or (m.percent and shown(100.0 * s)) for s in self.negative)
        if m.percent:  # "42%" from a share 0.42, a source's "42%", or a plain 42 that may be a percentage
            return any(shown(s) for s in (*self.percent_values, *self.percent_like)) or \
                any(shown(100.0 * s) for s in self.values)
        if any(shown(s) for s in self.values):
            return True
        return any(shown(s / 100.0) or shown(s) for s in self.percent_values)  # 0.42 from "42%"


def _percent_key(key: str) -> bool:
    """Whether a value under ``key`` may be a percentage: ``share_pct``, ``level``, ``knn_share``."""
    return bool(key_words(key) & _PERCENT_WORDS)


def key_words(key: str) -> set[str]:
    """The words of a result key: ``"total_hi_80"`` -> {"total", "hi"}; ``"cv_mase"`` -> {"cv", "mase"}."""
    return {w for w in re.split(r"[^a-z]+", key.lower()) if w}


def extract_numbers(text: str, *, skip_list_markers: bool = True) -> list[NumberMention]:
    """Numbers written in ``text`` (ISO dates and list markers excluded)."""
    masked = _DATE.sub(lambda m: " " * len(m.group(0)), text)
    if skip_list_markers:
        masked = _LIST_MARKER.sub(lambda m: " " * len(m.group(0)), masked)
        masked = _PERIOD_LABEL.sub(lambda m: m.group(0)[: m.start(1) - m.start()] + " " * len(m.group(1)), masked)
    out: list[NumberMention] = []
    for m in _NUMBER.finditer(masked):
        num = m.group("num").replace(",", "")
        value = float(num)
        decimals = len(num.split(".", 1)[1]) if "." in num else 0
        tolerance = 0.5 * 10.0 ** (-decimals)
        suffix = (m.group("suffix") or "").strip().lower()
        percent = suffix in {"%", "percent", "per cent", "pct"}
        scale = _SCALE.get(suffix, 1.0)
        if m.group("sign") in ("-", "\u2212"):
            value = -value
        out.append(NumberMention(text=m.group(0).strip(), value=value * scale, tolerance=tolerance * scale,
                                 percent=percent, start=m.start(), end=m.end()))
    return out


def extract_dates(text: str) -> list[str]:
    """ISO dates (YYYY-MM-DD) written in ``text``."""
    return [m.group(0)[:10] for m in _DATE.finditer(text)]


def source_pool(sources: Iterable[Any]) -> SourcePool:
    pool = SourcePool()
    for src in sources:
        pool.add(src)
    return pool


# Keys whose string values are customer-written text inside tool results: numbers there support an answer's
# number only where the answer's sentence presents it as quoted ("one buyer says it lasted 2 weeks"), so a
# review that plants "99999 units" cannot pass that figure off as a tool's.
_QUOTED_KEYS = frozenset({"text", "quote", "sentence", "snippet", "excerpt", "review_text"})
_QUOTING = re.compile(r"[\"\u201c\u201d]|\b(?:buyers?|reviewers?|customers?|shoppers?|reviews?)\s+(?:says?|said|wrote|"
                      r"writes?|mentions?|mentioned|reports?|reported|complains?|complained|notes?|noted)\b|"
                      r"\baccording to (?:a|one|the|this|that|another) (?:review|buyer|reviewer|customer)\b|"
                      r"\b[A-Z]{1,2}\d+\s*(?:says?|said|wrote|writes)\b|\[[A-Z]{1,2}\d+", re.IGNORECASE)


def check_numbers(answer: str, sources: Iterable[Any]) -> NumberCheck:
    """Check that every number and ISO date in ``answer`` appears in ``sources`` (see module doc). A number that
    only customer-written text in the sources holds counts only in a sentence that quotes or cites a review."""
    pool = source_pool(sources)
    result = NumberCheck()
    mentions = extract_numbers(answer)
    pieces = sentences(answer)

    def sentence_of(m: NumberMention) -> tuple[int, str]:
        return next(((i, t) for i, t in reversed(pieces) if i <= m.start), (0, answer))

    sourced = [m for m in mentions if pool.supports(m) or (
        pool.quoted is not None and pool.quoted.supports(m) and _QUOTING.search(sentence_of(m)[1]) is not None)]
    sourced_at = {m.start for m in sourced}
    for mention in mentions:
        result.checked.append(mention)
        if mention.start in sourced_at:
            continue
        start, sentence = sentence_of(mention)
        near = [m for m in sourced if start <= m.start < start + len(sentence)]
        how = derivation(mention, sentence, near)
        if how is None:
            result.unsupported.append(mention)
        else:
            result.derived.append((mention, how))
    for date in extract_dates(answer):
        if date not in pool.dates:
            result.unsupported_dates.append(date)
    return result


def _shows(m: NumberMention, s: float) -> bool:
    """Whether ``m`` is the source value ``s`` (in absolute value) rounded or truncated to the digits ``m`` shows."""
    a = abs(m.value)
    tol = m.tolerance + 1e-9 * max(1.0, a)
    if a == 0:  # a bare 0 is a zero, rounded ("0.0" for 0.04), not the dropped decimals of 0.63
        return abs(s) < tol
    return -tol <= abs(s) - a < 2 * tol


@dataclass(frozen=True)
class Misattribution:
    """A number written beside ``entity`` that only the results of ``source`` hold; ``path`` is where the
    source's result holds it (e.g. ``total.units``) and ``expected`` the entity's own value there, when the
    entity's result has exactly one value at the place(s) the number came from."""

    mention: NumberMention
    entity: str
    source: str
    path: str | None = None
    expected: float | None = None


def counterpart(mention: NumberMention, source_results: Iterable[Any], entity_results: Iterable[Any],
                ) -> tuple[str, float] | None:
    """Where ``mention`` sits in the source's results (key path) and the entity's number at the same place:
    ``("total.units", 8441.4)``; None unless exactly one such number exists."""
    entity_results = list(entity_results)
    found: dict[float, str] = {}
    for res in source_results:
        for path, value in leaves(res):
            if not shows(mention, value):
                continue
            for other in entity_results:
                theirs = _at(other, path)
                if isinstance(theirs, int | float) and not isinstance(theirs, bool) and math.isfinite(theirs):
                    found.setdefault(float(theirs), path_text(path))
    if len(found) != 1:
        return None
    (value, where), = found.items()
    return where, value


def shows(mention: NumberMention, value: float) -> bool:
    """Whether ``mention`` is the number ``value`` as written (rounded or truncated, or a share as a percentage)."""
    return _shows(mention, value) or (mention.percent and _shows(mention, 100.0 * value))


def leaves(obj: Any, path: tuple[Any, ...] = ()) -> Iterable[tuple[tuple[Any, ...], float]]:
    """(key path, number) for every finite number inside ``obj`` (dicts and lists, walked in order)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, (*path, k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from leaves(v, (*path, i))
    elif isinstance(obj, int | float) and not isinstance(obj, bool) and math.isfinite(obj):
        yield path, float(obj)


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        in_dict = isinstance(obj, dict) and key in obj
        in_list = isinstance(obj, list | tuple) and isinstance(key, int) and 0 <= key < len(obj)
        if not (in_dict or in_list):
            return None
        obj = obj[key]
    return obj


def path_text(path: tuple[Any, ...]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")


_CLAUSE_END = re.compile(r"[.;!?](?=\s|$)|,\s|\n|\s(?:and|but|while|whereas)\s")  # not ":" ("R1: 80")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def check_attribution(answer: str, by_entity: Mapping[str, Iterable[Any]],
                      shared: Iterable[Any] = ()) -> list[Misattribution]:
    """Numbers in ``answer`` written beside one entity (product id) but found only in another entity's
    sources (``by_entity``: id -> its tool results); numbers in ``shared`` (the question, arguments) or in the
    entity's own sources are fine. A clause naming exactly one id pairs it with the clause's numbers; a
    sentence with "respectively" pairs ids and numbers in order when their counts match."""
    by_entity = {e: list(srcs) for e, srcs in by_entity.items()}
    if len(by_entity) < 2:
        return []
    pools = {e: source_pool(srcs) for e, srcs in by_entity.items()}
    common = source_pool(shared)
    found: dict[int, Misattribution] = {}

    def judge(entity: str, mention: NumberMention) -> None:
        if common.supports(mention) or pools[entity].supports(mention):
            return
        others = [o for o, pool in pools.items() if o != entity and pool.supports(mention)]
        if others and mention.start not in found:
            where = counterpart(mention, by_entity[others[0]], by_entity[entity])
            found[mention.start] = Misattribution(mention, entity, others[0], *(where or (None, None)))

    for start, sentence in sentences(answer):
        if re.search(r"\brespectively\b", sentence, re.I):
            ids = _named(sentence, pools)
            nums = [m for m in extract_numbers(sentence)
                    if not common.supports(m) and not all(p.supports(m) for p in pools.values())]
            if len(ids) >= 2 and len(ids) == len(nums):
                for (_, entity), m in zip(ids, nums, strict=True):
                    judge(entity, _shifted(m, start))
            continue
        for offset, clause in _pieces(sentence, _CLAUSE_END):
            ids = _named(clause, pools)
            if len({e for _, e in ids}) == 1:
                for m in extract_numbers(clause):
                    judge(ids[0][1], _shifted(m, start + offset))
    return [found[k] for k in sorted(found)]


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) for every sentence of ``text`` (split at ". ! ?" and line breaks)."""
    return _pieces(text, _SENTENCE_END)


def clauses(text: str) -> list[tuple[int, str]]:
    """(offset, clause) for every clause of ``text``: the pieces between ". ; ! ?", ", ", line breaks and
    "and / but / while / whereas" (a ":" does not split, so "R1: 80 units" stays one clause)."""
    return [(start + offset, clause) for start, sentence in sentences(text)
            for offset, clause in _pieces(sentence, _CLAUSE_END)]


def _pieces(text: str, splitter: re.Pattern[str]) -> list[tuple[int, str]]:
    out, last = [], 0
    for m in splitter.finditer(text):
        out.append((last, text[last:m.start()]))
        last = m.end()
    out.append((last, text[last:]))
    return [(i, t) for i, t in out if t.strip()]


def _named(text: str, pools: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(position, id) of every known id written in ``text`` as a whole word, in order."""
    hits = [(m.start(), e) for e in pools
            for m in re.finditer(rf"(?<![\w-]){re.escape(e)}(?![\w-])", text, re.IGNORECASE)]
    return sorted(hits)


def _shifted(m: NumberMention, by: int) -> NumberMention:
    return NumberMention(m.text, m.value, m.tolerance, m.percent, m.start + by, m.end + by)
