"""Cells of a user's file: blank / NA tokens, any value as text, header names (shared by the readers and validators)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from assistant.errors import DataValidationError

_NA_TOKENS = {"", "na", "n/a", "nan", "nat", "null", "none"}


def is_na(s: pd.Series) -> pd.Series:
    """Blank or an NA token ("NaN", "null", "N/A", ...) — used for optional numbers and dates."""
    def na(v: Any) -> bool:
        if v is None or v is pd.NaT or v is pd.NA:
            return True
        if isinstance(v, float) and math.isnan(v):
            return True
        return isinstance(v, str) and v.strip().lower() in _NA_TOKENS
    return s.map(na).astype(bool)


def to_str(v: Any) -> str:
    if v is None or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, np.floating):
        return to_str(float(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v).strip()


def clean_header(rec: list[str], source: str, line: int) -> list[str]:
    """Header names stripped (a blank one becomes unnamed_<i>); repeated names are refused."""
    header = []
    for i, name in enumerate(rec):
        name = name.strip()
        header.append(name or f"unnamed_{i}")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise DataValidationError(f"{source}, line {line}: column name(s) {', '.join(map(repr, dups))} appear "
                                  "more than once in the header. Rename them so every column is unique.")
    return header
