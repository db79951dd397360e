"""Validation of products / reviews / sales tables on entry.

Input is a "raw" frame (strings from a CSV, or typed values from Parquet/JSONL/a DataFrame) plus the
line number of each row in its file. Output is a frame with the canonical columns of
``assistant.data.schema`` and one ``RowProblem`` per bad cell, naming file, line, column (as the user
named it) and what was expected there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from assistant.data.cells import is_na as _is_na
from assistant.data.cells import to_str as _to_str
from assistant.data.columns import ATTR_PREFIXES, map_columns
from assistant.data.dates import parse_dates
from assistant.data.numformat import read_number_texts
from assistant.data.schema import ColumnMap
from assistant.errors import DataValidationError, RowProblem

Kind = Literal["products", "reviews", "sales"]



@dataclass
class LoadResult:
    """What a load produced: the canonical frame plus an honest account of what was left out."""

    frame: pd.DataFrame
    loaded: int
    rejected: int
    problems: list[RowProblem]
    encoding: str = "utf-8"
    rejects_path: Path | None = None
    source: str = "<dataframe>"
    kind: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # canonical columns the input had (attr.* -> attributes)

    def summary(self, max_problems: int = 50) -> dict[str, Any]:
        """Small JSON-able dict for CLI/API output."""
        return {
            "kind": self.kind,
            "source": self.source,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "encoding": self.encoding,
            "rejects_path": str(self.rejects_path) if self.rejects_path else None,
            "ignored_columns": list(self.ignored_columns),
            "warnings": list(self.warnings),
            "problems": [p.as_dict() for p in self.problems[:max_problems]],
            "n_problems": len(self.problems),
        }


@dataclass
class Checked:
    """Internal result of validation: the good rows plus the reasons for each bad row position."""

    result: LoadResult
    bad_reasons: dict[int, list[RowProblem]]


# ----------------------------------------------------------------------------------------------
# value helpers


def as_text(s: pd.Series) -> pd.Series:
    """Any column as stripped strings ('' for missing; 767.0 -> '767')."""
    if pd.api.types.infer_dtype(s, skipna=False) in ("string", "empty"):
        return s.str.strip().astype(object)
    return s.map(_to_str).astype(object)


def parse_numbers(s: pd.Series, *, decimal_comma: bool = False, notes: list[str] | None = None,
                  column: str = "") -> tuple[pd.Series, pd.Series]:
    """Return (float values with NaN for missing, mask of non-missing values that are not finite numbers).
    Text pandas cannot read ("1,234.5", "12,50 €", "1 234") and, in a semicolon-separated file
    (``decimal_comma``), grouped values such as "1.104" are read as spreadsheets write them
    (:mod:`assistant.data.numformat`); a column read with a decimal comma is reported in ``notes``."""
    na = s.isna() if pd.api.types.is_numeric_dtype(s) else _is_na(s)
    if pd.api.types.is_bool_dtype(s):
        vals = s.astype(float)
    elif pd.api.types.is_numeric_dtype(s):
        vals = pd.to_numeric(s, errors="coerce").astype(float)
    else:
        txt = s.map(lambda v: v.strip() if isinstance(v, str) else v).where(~na, np.nan)
        vals = pd.to_numeric(txt, errors="coerce").astype(float)
        texts = txt[~na].map(str)
        retry = vals[~na].isna()  # text pandas cannot read, and a semicolon file's "1.104"
        if decimal_comma:
            retry |= texts.str.contains(_GROUPED_DOT, regex=True)
        if bool(retry.any()):
            read, note = read_number_texts(texts, decimal_comma=decimal_comma)
            unseparated = ~texts.str.contains(r"[.,]", regex=True)  # "1e5", "12": pandas read them already
            vals = vals.copy()
            vals[~na] = read.where(read.notna() | ~unseparated, vals[~na])
            if note and notes is not None:
                notes.append(f"column {column!r}: {note}")
    bad = ~na & (vals.isna() | np.isinf(vals))
    return vals.where(~bad, np.nan), bad


_GROUPED_DOT = r"^[+-]?\d{1,3}(?:\.\d{3})+$"  # 1.104: a thousand and 104 in a semicolon file



def _attr_value(v: Any) -> str | None:
    txt = _to_str(v)
    return txt if txt else None


def _parse_attr_object(v: Any) -> dict[str, str] | None:
    """A JSON object (string), dict or list of (key, value) pairs -> dict[str, str]; None if invalid."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return {}
    if isinstance(v, str):
        if not v.strip():
            return {}
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            return None
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in v):
        v = dict(v)
    if not isinstance(v, dict):
        return None
    return {str(k): val for k, val in ((str(k), _attr_value(x)) for k, x in v.items()) if val is not None}


# ----------------------------------------------------------------------------------------------
# validation


class _Problems:
    def __init__(self, source: str, lines: Sequence[int | None], decimal_comma: bool = False) -> None:
        self.source = source
        self.lines = lines
        self.by_row: dict[int, list[RowProblem]] = {}
        self.decimal_comma = decimal_comma  # the file is separated by semicolons (see parse_numbers)
        self.notes: list[str] = []  # how columns were read, for LoadResult.warnings

    def numbers(self, raw: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
        return parse_numbers(raw, decimal_comma=self.decimal_comma, notes=self.notes, column=column)

    def add(self, pos: int, column: str | None, value: object, expected: str) -> None:
        prob = RowProblem(self.source, self.lines[pos], column, value, expected)
        self.by_row.setdefault(pos, []).append(prob)

    def add_mask(self, mask: pd.Series, raw: pd.Series, column: str, expected: str) -> None:
        for pos in np.flatnonzero(mask.to_numpy()):
            self.add(int(pos), column, raw.iloc[pos], expected)

    def add_duplicates(self, key: pd.Series, blank: pd.Series, column: str, what: str) -> None:
        dup = key.duplicated(keep="first") & ~blank
        if not dup.any():
            return
        first: dict[Any, int] = {}
        for pos, k in enumerate(key.tolist()):
            first.setdefault(k, pos)
        for dpos in np.flatnonzero(dup.to_numpy()):
            line = self.lines[first[key.iloc[dpos]]]
            where = f"line {line}" if line is not None else "an earlier row"
            self.add(int(dpos), column, key.iloc[dpos], f"a unique {what} (already used on {where})")


def check_frame(raw: pd.DataFrame, kind: str, *, source: str, lines: Sequence[int | None] | None = None,
                column_map: ColumnMap | None = None, pre_problems: dict[int, list[RowProblem]] | None = None,
                decimal_comma: bool = False, generate_ids: bool = False) -> Checked:
    """Validate ``raw`` and return the canonical good rows plus the problems of each bad row
    (``decimal_comma``: the file is separated by semicolons, see :func:`parse_numbers`; ``generate_ids``:
    reviews without review_id / product_id columns get ids made from their line numbers, for files of
    labelled text used to train or score a model, never to fill the store)."""
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c) for c in raw.columns]
    n = len(raw)
    line_list: Sequence[int | None] = lines if lines is not None else list(range(1, n + 1))
    optional = GENERATED_IDS if generate_ids and kind == "reviews" else frozenset()
    cols = map_columns(raw, kind, column_map, source, optional)
    probs = _Problems(source, line_list, decimal_comma)
    generated = _generated_ids(raw, cols, optional, line_list, probs)

    def col(name: str) -> pd.Series:
        return raw[cols[name]] if name in cols else pd.Series([None] * n, dtype=object)

    out = pd.DataFrame(index=raw.index)
    used = set(cols.values())
    ignored: list[str] = []
    if kind == "products":
        out = _check_products(raw, cols, col, probs)
    elif kind == "reviews":
        out = _check_reviews(col, cols, probs)
    else:
        out, exog_ignored = _check_sales(raw, cols, col, probs, used)
        ignored.extend(exog_ignored)
    ignored.extend(c for c in raw.columns if c not in used and c not in ignored and c not in generated)
    # a row that could not be split into columns is reported for that alone, not for its empty cells
    probs.by_row.update({pos: list(plist) for pos, plist in (pre_problems or {}).items()})
    bad_pos = sorted(probs.by_row)
    keep = np.ones(n, dtype=bool)
    keep[bad_pos] = False
    frame = out.loc[keep].reset_index(drop=True)
    problems = [p for pos in bad_pos for p in probs.by_row[pos]]
    given = list(dict.fromkeys("attributes" if k.startswith(ATTR_PREFIXES) else k for k in cols
                               if cols[k] not in generated))
    result = LoadResult(frame=frame, loaded=len(frame), rejected=len(bad_pos), problems=problems,
                        source=source, kind=kind, ignored_columns=ignored, columns=given, warnings=probs.notes)
    return Checked(result=result, bad_reasons={pos: probs.by_row[pos] for pos in bad_pos})


def _required_text(col: Any, cols: dict[str, str], probs: _Problems, name: str, expected: str) -> pd.Series:
    raw = col(name)
    txt = as_text(raw)
    probs.add_mask(txt.eq(""), raw, cols.get(name, name), expected)
    return txt


def _optional_text(col: Any, name: str) -> pd.Series:
    return as_text(col(name))


def _dates(col: Any, cols: dict[str, str], probs: _Problems, name: str) -> pd.Series:
    raw = col(name)
    vals, bad = parse_dates(raw, day_first=probs.decimal_comma, notes=probs.notes, column=cols.get(name, name))
    probs.add_mask(bad, raw, cols.get(name, name), "a date like 2024-03-01 (or empty)")
    return vals


def _check_products(raw: pd.DataFrame, cols: dict[str, str], col: Any, probs: _Problems) -> pd.DataFrame:
    pid = _required_text(col, cols, probs, "product_id", "a non-empty product_id")
    probs.add_duplicates(pid, pid.eq(""), cols["product_id"], "product_id")
    title = _required_text(col, cols, probs, "title", "a non-empty title")
    price_raw = col("price")
    price, bad = probs.numbers(price_raw, cols.get("price", "price"))
    probs.add_mask(bad, price_raw, cols.get("price", "price"), "a number like 19.99, 1,299.00 or 1.299,00 (or empty)")
    probs.add_mask(~bad & (price < 0), price_raw, cols.get("price", "price"), "a price >= 0")
    attrs: list[dict[str, str]] = []
    attr_cols = {k[5:]: v for k, v in cols.items() if k.startswith(ATTR_PREFIXES)}
    json_raw = col("attributes")
    for pos in range(len(raw)):
        obj = _parse_attr_object(json_raw.iloc[pos])
        if obj is None:
            probs.add(pos, cols.get("attributes", "attributes"), json_raw.iloc[pos],
                      'a JSON object like {"color": "red", "size": "M"} (or empty)')
            obj = {}
        for key, src in attr_cols.items():
            val = _attr_value(raw[src].iloc[pos])
            if val is not None:
                obj[key] = val
        attrs.append(obj)
    return pd.DataFrame({
        "product_id": pid, "title": title,
        "description": _optional_text(col, "description"),
        "category": _optional_text(col, "category"),
        "attributes": pd.Series(attrs, dtype=object, index=raw.index),
        "price": price.astype(float),
        "launch_date": _dates(col, cols, probs, "launch_date"),
    })


GENERATED_IDS = frozenset({"review_id", "product_id"})  # review columns ``generate_ids`` can make up


def line_ids(lines: Sequence[int | None]) -> list[str]:
    """Review ids made from file line numbers ("L2", ...) for a file of labelled text without ids."""
    return [f"L{line if line is not None else pos + 1}" for pos, line in enumerate(lines)]


def _generated_ids(raw: pd.DataFrame, cols: dict[str, str], optional: frozenset[str],
                   lines: Sequence[int | None], probs: _Problems) -> set[str]:
    """Fill the ``optional`` id columns the file lacks (review ids "L<line>", one product "unknown"); returns the
    names of the columns added to ``raw``."""
    added: set[str] = set()
    for name in sorted(optional - set(cols)):
        tmp = f"\x00{name}"
        raw[tmp] = line_ids(lines) if name == "review_id" else "unknown"
        cols[name] = tmp
        added.add(tmp)
        probs.notes.append(f"No {name} column: " + ("reviews are numbered by their line (L2, L3, ...)."
                                                     if name == "review_id" else "all reviews count as one product."))
    return added


def _check_reviews(col: Any, cols: dict[str, str], probs: _Problems) -> pd.DataFrame:
    rid = _required_text(col, cols, probs, "review_id", "a non-empty review_id")
    probs.add_duplicates(rid, rid.eq(""), cols["review_id"], "review_id")
    pid = _required_text(col, cols, probs, "product_id", "the product_id the review is about")
    text = _required_text(col, cols, probs, "text", "a non-empty review text")
    rating_raw = col("rating")
    rating, bad = probs.numbers(rating_raw, cols.get("rating", "rating"))
    rcol = cols.get("rating", "rating")
    probs.add_mask(bad, rating_raw, rcol, "a rating from 1 to 5 (or empty)")
    probs.add_mask(~bad & rating.notna() & ((rating < 1) | (rating > 5)), rating_raw, rcol,
                   "a rating from 1 to 5 (or empty)")
    return pd.DataFrame({
        "review_id": rid, "product_id": pid, "rating": rating.astype(float),
        "title": _optional_text(col, "title"), "text": text,
        "date": _dates(col, cols, probs, "date"),
    })


def _check_sales(raw: pd.DataFrame, cols: dict[str, str], col: Any, probs: _Problems,
                 used: set[str]) -> tuple[pd.DataFrame, list[str]]:
    uid = _required_text(col, cols, probs, "unique_id", "a non-empty series id (unique_id)")
    ds_raw = col("ds")
    ds, bad = parse_dates(ds_raw, day_first=probs.decimal_comma, notes=probs.notes, column=cols["ds"])
    dcol = cols["ds"]
    probs.add_mask(bad, ds_raw, dcol, "a date like 2024-03-04")
    probs.add_mask(~bad & ds.isna(), ds_raw, dcol, "a date like 2024-03-04 (ds is required)")
    y_raw = col("y")
    y, ybad = probs.numbers(y_raw, cols["y"])
    probs.add_mask(ybad | y.isna(), y_raw, cols["y"], "a number (units sold in the period)")
    key = uid + " / " + ds.astype(str)  # shown as is in the duplicate's message
    probs.add_duplicates(key, uid.eq("") | ds.isna(), dcol, "(unique_id, ds) pair")
    out = pd.DataFrame({"unique_id": uid, "ds": ds, "y": y.astype(float)})
    ignored: list[str] = []
    exog = {k: v for k, v in cols.items() if k not in ("unique_id", "ds", "y")}
    exog.update({c: c for c in raw.columns if c not in used and not c.startswith("unnamed_")
                 and c not in ("unique_id", "ds", "y")})
    for name, src in exog.items():
        vals, xbad = probs.numbers(raw[src], src)
        filled = int((~_is_na(raw[src])).sum())
        if src not in cols.values() and (filled == 0 or xbad.sum() > 0.1 * filled):
            ignored.append(src)  # mostly text: not an exogenous regressor
            continue
        probs.add_mask(xbad, raw[src], src, f"a number (exogenous column {name!r}) or empty")
        out[name] = vals.astype(float)
        used.add(src)
    return out, ignored


def validate_frame_checked(df: pd.DataFrame, kind: str, source: str = "<dataframe>") -> pd.DataFrame:
    """Canonical frame of ``df`` or ``DataValidationError`` listing every bad row (used before writes)."""
    checked = check_frame(df, kind, source=source)
    res = checked.result
    if res.rejected:
        raise DataValidationError(f"{res.rejected} of {res.loaded + res.rejected} {kind} rows are invalid; "
                                  "nothing was written. Fix them (row numbers count from 1).", res.problems)
    return res.frame
