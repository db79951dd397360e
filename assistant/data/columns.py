"""Column mapping: which of a user's columns holds each canonical column (``--map`` pairs, exact and
case/space-insensitive names, ``attr.*`` / ``attr_*`` attribute columns), with hints when one is missing."""

from __future__ import annotations

import difflib
import re

import pandas as pd

from assistant.data.schema import COLUMNS, REQUIRED, ColumnMap
from assistant.errors import DataValidationError

KINDS: tuple[str, ...] = ("products", "reviews", "sales")
ATTR_PREFIXES = ("attr.", "attr_")

def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "product_id": ("product_id", "product", "sku", "item_id", "item", "article", "asin", "stockcode", "stock_code",
                   "clothing_id", "id"),
    "review_id": ("review_id", "review", "id", "unnamed_0", "row"),
    "title": ("title", "name", "product_name", "description"),
    "text": ("text", "review_text", "review", "body", "content", "comment"),
    "unique_id": ("unique_id", "series", "sku", "product_id", "product", "item", "stockcode", "id"),
    "ds": ("ds", "date", "week", "period", "day", "month", "timestamp", "time", "invoicedate"),
    "y": ("y", "units", "quantity", "qty", "sales", "demand", "sold", "value"),
}


def _guess_column(canonical: str, free: list[str]) -> str | None:
    """The user's column most likely meant as ``canonical`` (for the --map hint), or None."""
    for syn in _SYNONYMS.get(canonical, (canonical,)):
        for col in free:
            if _norm(col) == syn:
                return col
    for syn in _SYNONYMS.get(canonical, (canonical,)):
        for col in free:
            if syn in _norm(col).split("_") or _norm(col).endswith(syn):
                return col
    near = difflib.get_close_matches(canonical, free, n=1, cutoff=0.6)
    return near[0] if near else None


def map_columns(raw: pd.DataFrame, kind: str, column_map: ColumnMap | None, source: str,
                optional: frozenset[str] = frozenset()) -> dict[str, str]:
    """Return {canonical_or_attr_or_exog_name: user's column}; raise on unknown sources or missing columns
    (``optional``: required columns the caller can do without, e.g. ids of reviews used only for training)."""
    if kind not in KINDS:
        raise DataValidationError(f"Unknown table kind {kind!r}; use one of {', '.join(KINDS)}.")
    cols = [str(c) for c in raw.columns]
    canonical = COLUMNS[kind]
    mapping = column_map.as_dict() if column_map else {}
    flag = column_map.flag if column_map else "--map"
    out: dict[str, str] = {}
    for src, dst in mapping.items():
        if src not in cols:
            near = difflib.get_close_matches(src, cols, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise DataValidationError(
                f"{flag} {src}={dst}: {source} has no column {src!r}.{hint} Its columns are: {', '.join(cols)}.")
        is_attr = kind == "products" and dst.startswith(ATTR_PREFIXES)
        if dst not in canonical and not is_attr and kind != "sales":
            raise DataValidationError(
                f"{flag} {src}={dst}: {dst!r} is not a {kind} column. Use one of: {', '.join(canonical)}"
                + (" (or attr.<name> for an attribute)." if kind == "products" else "."))
        out[dst] = src
    used = set(out.values())
    for col in cols:  # exact names first, then case/space-insensitive matches
        if col in canonical and col not in out and col not in used:
            out[col] = col
            used.add(col)
    for col in cols:
        n = _norm(col)
        if col not in used and n in canonical and n not in out:
            out[n] = col
            used.add(col)
    for col in cols:  # "Price" beside "price": which one is meant is the user's call, not a silent pick
        n = _norm(col)
        if col not in used and n in out and n not in mapping.values():
            raise DataValidationError(
                f"{source} has two columns for {n}: {out[n]!r} and {col!r}. Delete or rename one, or say which "
                f"to use, e.g. {flag} '{col}={n}'.")
    missing = [c for c in REQUIRED[kind] if c not in out and c not in optional]
    if missing:
        free = [c for c in cols if c not in used]
        hints = []
        for m in missing:
            guess = _guess_column(m, free)
            if guess:
                free.remove(guess)
            hints.append(f"{flag} '{guess or 'YOUR_COLUMN'}={m}'")
        raise DataValidationError(
            f"{source} is missing the required {kind} column(s) {', '.join(missing)}. "
            f"Its columns are: {', '.join(cols) or '(none)'}. "
            f"If your file names them differently, map them, e.g. {' '.join(hints)}.")
    if kind == "products":
        for col in cols:
            if col not in used and col.lower().startswith(ATTR_PREFIXES):
                out[ATTR_PREFIXES[0] + col[5:]] = col
                used.add(col)
    return out
