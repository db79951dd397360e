"""Turn ``Filters`` into a boolean row mask over the chunk table (vectorised; categories and product
ids are factorised once so a filter costs a few numpy operations, not a string scan)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from assistant.index.types import Filters


def category_matches(category: str, wanted: str) -> bool:
    """Prefix match on the category path, case-insensitive, at a level boundary: "Dresses" matches
    "Dresses", "Dresses > Maxi" and (as a sub-path) "General > Dresses > Maxi"; "Dress" matches none."""
    cat = category.strip().lower()
    want = " > ".join(p.strip() for p in wanted.strip().lower().split(">") if p.strip())
    if not want:
        return True
    levels = [p.strip() for p in cat.split(">")]
    for start in range(len(levels)):
        tail = " > ".join(levels[start:])
        if tail == want or tail.startswith(want + " >"):
            return True
    return False


class ChunkColumns:
    """Column arrays of the chunk table, prepared for fast masking."""

    def __init__(self, meta: pd.DataFrame) -> None:
        self.n = len(meta)
        self.is_review = (meta["kind"].to_numpy() == "review") if self.n else np.zeros(0, bool)
        self.rating = meta["rating"].to_numpy(dtype=np.float64) if self.n else np.zeros(0)
        self.date = meta["date"].fillna("").astype(str).to_numpy() if self.n else np.zeros(0, object)
        pid_codes, pid_uniques = pd.factorize(meta["product_id"].astype(str).to_numpy())
        cat_codes, cat_uniques = pd.factorize(meta["category"].fillna("").astype(str).to_numpy())
        self.pid_codes: np.ndarray = np.asarray(pid_codes)
        self.cat_codes: np.ndarray = np.asarray(cat_codes)
        self.pid_uniques: list[str] = [str(p) for p in pid_uniques]
        self.cat_uniques: list[str] = [str(c) for c in cat_uniques]
        self._pid_lookup: dict[Any, int] = {p: i for i, p in enumerate(self.pid_uniques)}

    def mask(self, kind: str | None, filters: Filters | None) -> np.ndarray | None:
        """Rows passing ``kind`` and ``filters``; None means all rows."""
        m: np.ndarray | None = None

        def _and(x: np.ndarray) -> None:
            nonlocal m
            m = x if m is None else (m & x)

        if kind == "review":
            _and(self.is_review.copy())
        elif kind == "product":
            _and(~self.is_review)
        f = filters
        if f is not None:
            if f.product_ids is not None:
                codes = [self._pid_lookup[p] for p in f.product_ids if p in self._pid_lookup]
                _and(np.isin(self.pid_codes, np.asarray(codes, dtype=self.pid_codes.dtype)))
            if f.category:
                ok = [i for i, c in enumerate(self.cat_uniques) if category_matches(str(c), f.category)]
                _and(np.isin(self.cat_codes, np.asarray(ok, dtype=self.cat_codes.dtype)))
            if f.min_rating is not None:
                _and(np.nan_to_num(self.rating, nan=-np.inf) >= f.min_rating)
            if f.max_rating is not None:
                _and(np.nan_to_num(self.rating, nan=np.inf) <= f.max_rating)
            if f.date_from:
                lo = str(pd.Timestamp(f.date_from).date())
                _and((self.date != "") & (self.date >= lo))
            if f.date_to:
                hi = str(pd.Timestamp(f.date_to).date())
                _and((self.date != "") & (self.date <= hi))
        return m
