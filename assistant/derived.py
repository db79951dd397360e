"""Numbers an answer works out from numbers it quotes: "69 units, 8.3% of the 828 forecast", "2.5 times as
many", "5129 more than R22423", "18533 in all". The number check (:mod:`assistant.numbers`) accepts such a
number when a sum, difference, ratio, percentage or percent change of numbers written in the same sentence,
each one found in a source, gives it at the precision shown, and the sentence has a word for that sum
("in all", "together"), difference ("more", "fewer", "gap"), ratio ("times", "x") or share (a "%").
A number with no such word is never taken as worked out, so a made-up number that happens to equal some
difference still needs a source; a wrong sum ("8.2%" for 69 / 828) is still flagged."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.numbers import NumberMention

_MAX_SUMMED = 8  # sums of any 2..8 of the sentence's numbers; with more, only the sum of all

_SUM = re.compile(r"\b(?:in all|in total|altogether|together|combined|sum|total of)\b", re.IGNORECASE)
_DIFFERENCE = re.compile(r"\b(?:more|fewer|less|higher|lower|above|below|difference|gap|short|beyond|exceeds?|"
                         r"ahead|behind)\b", re.IGNORECASE)
_RATIO = re.compile(r"(?:\b(?:times|fold)\b|\d\s?[x\u00d7](?!\w))", re.IGNORECASE)


def derivation(mention: NumberMention, sentence: str, operands: Sequence[NumberMention]) -> str | None:
    """How ``mention`` follows from ``operands`` (the other sourced numbers in its ``sentence``), e.g.
    ``"69 / 828 = 8.3%"``; None when no sum, difference, ratio or percentage the sentence speaks of gives it."""
    values = [(m.text, abs(m.value)) for m in operands if m.start != mention.start and m.value != 0]
    if not values:
        return None
    candidates: list[tuple[str, float]] = []
    if mention.percent:
        for (ta, a), (tb, b) in itertools.permutations(values, 2):
            big, small = (ta, tb) if a >= b else (tb, ta)
            candidates += [(f"{ta} / {tb}", 100 * a / b), (f"({big} - {small}) / {tb}", 100 * abs(a - b) / b)]
    else:
        if _RATIO.search(sentence):
            candidates += [(f"{ta} / {tb}", a / b) for (ta, a), (tb, b) in itertools.permutations(values, 2)]
        if _DIFFERENCE.search(sentence):
            candidates += [(f"{ta} - {tb}", a - b) for (ta, a), (tb, b) in itertools.permutations(values, 2)]
        if _SUM.search(sentence) and len(values) >= 2:
            sizes = range(2, len(values) + 1) if len(values) <= _MAX_SUMMED else [len(values)]
            for size in sizes:
                candidates += [(" + ".join(t for t, _ in group), sum(v for _, v in group))
                               for group in itertools.combinations(values, size)]
    target, tolerance = abs(mention.value), mention.tolerance * (1 + 1e-9)
    for formula, value in candidates:
        if abs(value - target) <= tolerance:  # rounded to the digits shown (not truncated)
            return f"{formula} = {mention.text}"
    return None
