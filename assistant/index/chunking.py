"""Turn canonical product / review frames into index chunks (one row per vector).

* A product becomes one chunk: title, category, attributes and description in one text.
* A review becomes one or more chunks: sentences merged greedily into short passages
  (``max_words``), each keeping review_id, product_id, rating, date, category and product title.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: Columns of the chunk metadata table (chunks.parquet), in order.
CHUNK_COLUMNS: tuple[str, ...] = (
    "faiss_id", "chunk_id", "kind", "product_id", "review_id", "rating", "date", "category", "title", "text",
)

# sentence end: . ! ? (possibly repeated) then whitespace - reviews are often all lower case, so no capital
# is required; also "fine.The strap" (no space, capital after) and line breaks.
_SENT_RE = re.compile(r"(?<=[.!?])\s+|(?<=[a-z][.!?])(?=[A-Z][a-z])|\n+")


def split_sentences(text: str) -> list[str]:
    """Split review text into sentences (also where reviews glue sentences: "fine.The strap")."""
    parts = [p.strip() for p in _SENT_RE.split(text or "")]
    return [p for p in parts if p]


def passages(text: str, *, max_words: int = 60, min_words: int = 8) -> list[str]:
    """Greedy sentence packing: passages of at most ``max_words`` words (a longer sentence stays whole);
    a tail shorter than ``min_words`` is merged into the previous passage."""
    out: list[list[str]] = []
    count = 0
    for sent in split_sentences(text):
        n = len(sent.split())
        if out and count + n <= max_words:
            out[-1].append(sent)
            count += n
        else:
            out.append([sent])
            count = n
    if len(out) > 1 and sum(len(s.split()) for s in out[-1]) < min_words:
        tail = out.pop()
        out[-1].extend(tail)
    return [" ".join(p) for p in out]


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def _iso_date(value: Any) -> str:
    if value is None or value is pd.NaT:
        return ""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return ""
    return "" if pd.isna(ts) else ts.strftime("%Y-%m-%d")


def _rating(value: Any) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return r


def _attributes_text(value: Any) -> str:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if _clean(v))
    return _clean(value)


def product_text(row: Mapping[Any, Any]) -> str:
    """The text embedded for a product: title, category, attributes, description."""
    parts = [_clean(row.get("title"))]
    cat = _clean(row.get("category"))
    if cat:
        parts.append(f"Category: {cat}")
    attrs = _attributes_text(row.get("attributes"))
    if attrs:
        parts.append(attrs)
    desc = _clean(row.get("description"))
    if desc:
        parts.append(desc)
    return ". ".join(p for p in parts if p)


def product_chunks(products: pd.DataFrame | None) -> pd.DataFrame:
    """One chunk per product (``chunk_id`` = ``"p:" + product_id``)."""
    rows = []
    for rec in ([] if products is None else products.to_dict("records")):
        pid = _clean(rec.get("product_id"))
        if not pid:
            continue
        rows.append({
            "chunk_id": f"p:{pid}", "kind": "product", "product_id": pid, "review_id": "",
            "rating": float("nan"), "date": _iso_date(rec.get("launch_date")),
            "category": _clean(rec.get("category")), "title": _clean(rec.get("title")),
            "text": product_text(rec),
        })
    return _frame(rows)


def review_chunks(reviews: pd.DataFrame | None, product_info: Mapping[str, tuple[str, str]] | None = None,
                  *, max_words: int = 60) -> pd.DataFrame:
    """Review passages (``chunk_id`` = ``"r:<review_id>:<n>"``). ``product_info`` maps product_id to
    (category, title) so review chunks can be filtered by category and shown with their product."""
    info = product_info or {}
    rows = []
    for rec in ([] if reviews is None else reviews.to_dict("records")):
        rid = _clean(rec.get("review_id"))
        pid = _clean(rec.get("product_id"))
        body = _clean(rec.get("text"))
        if not rid or not body:
            continue
        head = _clean(rec.get("title"))
        text = f"{head}. {body}" if head and not body.startswith(head) else body
        cat, title = info.get(pid, ("", ""))
        common = {"kind": "review", "product_id": pid, "review_id": rid, "rating": _rating(rec.get("rating")),
                  "date": _iso_date(rec.get("date")), "category": cat, "title": title}
        for n, passage in enumerate(passages(text, max_words=max_words) or [text]):
            rows.append({"chunk_id": f"r:{rid}:{n}", **common, "text": passage})
    return _frame(rows)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = [c for c in CHUNK_COLUMNS if c != "faiss_id"]
    df = pd.DataFrame(rows, columns=cols)
    df["rating"] = df["rating"].astype("float64")
    for c in cols:
        if c != "rating":
            df[c] = df[c].astype("object")
    return df
