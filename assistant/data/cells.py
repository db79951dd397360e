"""Cells of a user's file: blank / NA tokens and any value as text (shared by the validators)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

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
