"""Numbers as spreadsheets and shop systems write them: "1,234.50" (US, UK), "1.234,50" (most of Europe),
"1 234,50" (France), "$12.50", "12,50 €".

One decimal separator is chosen per column, from the values that can only be read one way ("12,5" and
"1.234,5" are European, "12.5" and "1,234.5" are not). A column whose values could be read either way
("1.104", "1,104") follows the file: a semicolon-separated file (what Excel writes where the comma is the
decimal separator) is read the European way, any other the English way. A column that holds both kinds is
read the way most of its values ask, and the values that only fit the other way are reported, never guessed.
Currency signs or codes around a number and spaces between its thousands are dropped; percentages are not
numbers here (write 0.15, not 15%)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

_CURRENCY = re.compile(r"^(?:[$€£¥]|(?:USD|EUR|GBP|CHF|SEK|DKK|NOK)\b)\s*|\s*(?:[$€£¥]|\b(?:USD|EUR|GBP|CHF|SEK|"
                       r"DKK|NOK))$", re.IGNORECASE)
_SPACED = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?$")  # 1 234,5 (thin or no-break spaces)
_ENGLISH = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?$")  # 1,234.5  12.5  .5
_EUROPEAN = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d+)?$")  # 1.234,5  12,5
ENGLISH, EUROPEAN = "english", "european"


def clean_number_text(value: str) -> str:
    """``value`` without a currency sign or code around it and without spaces between thousands."""
    text = value.strip()
    for _ in range(2):  # a sign on each side at most
        text = _CURRENCY.sub("", text).strip()
    if _SPACED.match(text):
        text = re.sub(r"[ \u00a0\u202f]", "", text)
    return text


def _style(text: str) -> str | None:
    """ENGLISH or EUROPEAN when ``text`` can only be read that way, None when either (or neither) fits."""
    if not re.search(r"\d", text) or ("," not in text and "." not in text):
        return None
    english, european = bool(_ENGLISH.match(text)), bool(_EUROPEAN.match(text))
    if english == european:
        return None
    return ENGLISH if english else EUROPEAN


def _reader(style: str) -> Callable[[str], float]:
    pattern = _ENGLISH if style == ENGLISH else _EUROPEAN

    def read(text: str) -> float:
        if not re.search(r"\d", text) or not pattern.match(text):
            return float("nan")
        plain = text.replace(",", "") if style == ENGLISH else text.replace(".", "").replace(",", ".")
        try:
            return float(plain)
        except ValueError:
            return float("nan")

    return read


def read_number_texts(texts: pd.Series, *, decimal_comma: bool = False) -> tuple[pd.Series, str | None]:
    """Floats (NaN where a text is no number in the column's style) and, when the column was read the
    European way, a note that says so (None otherwise). ``texts``: stripped strings, no missing values."""
    cleaned = texts.map(clean_number_text)
    styles = cleaned.map(_style)
    english, european = int((styles == ENGLISH).sum()), int((styles == EUROPEAN).sum())
    if english or european:
        style = EUROPEAN if european > english else ENGLISH
        because = "most of its values are written that way" if english and european else \
            "values such as " + repr(str(cleaned[styles == style].iloc[0])) + " can only be read that way"
    else:
        style = EUROPEAN if decimal_comma else ENGLISH
        because = "the file is separated by semicolons"
    values = cleaned.map(_reader(style)).astype(float)
    separated = cleaned.str.contains(r"[.,]", regex=True)
    note = None
    if style == EUROPEAN and bool(separated.any()):
        example = str(cleaned[separated].iloc[0])
        note = (f"read with a decimal comma ({example!r} = {_reader(style)(example):g}) because {because}; "
                "write numbers like 1234.5 to be read the English way")
    return values.where(np.isfinite(values), np.nan), note
