"""Aggregation of product series to category (or total) level given a product -> category mapping."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from assistant.errors import DataValidationError

TOTAL_ID = "__total__"


def category_mapping(products: pd.DataFrame, depth: int | None = None) -> dict[str, str]:
    """``product_id -> category`` from a products frame; ``depth`` keeps the first parts of
    "A > B > C" paths (depth=1 -> "A")."""
    if not {"product_id", "category"} <= set(products.columns):
        raise DataValidationError("The products frame needs columns product_id and category.")
    cats = products["category"].fillna("").astype(str)
    if depth:
        cats = cats.map(lambda c: " > ".join(p.strip() for p in c.split(">")[:depth]))
    return dict(zip(products["product_id"].astype(str), cats.replace("", "(uncategorised)"), strict=True))


def aggregate_sales(
    sales: pd.DataFrame, mapping: Mapping[str, str] | pd.DataFrame | None, *, level: str = "category",
    strict: bool = False,
) -> pd.DataFrame:
    """Sum ``unique_id, ds, y`` series to ``level`` ("category" needs ``mapping``; "total" sums all).

    Series whose id is not in the mapping go to "(uncategorised)" unless ``strict`` (then an error)."""
    if level == "series":
        return sales
    df = sales[["unique_id", "ds", "y"]].copy()
    df["unique_id"] = df["unique_id"].astype(str)
    if level == "total":
        df["unique_id"] = TOTAL_ID
    elif level == "category":
        if mapping is None:
            raise DataValidationError(
                "level='category' needs a product -> category mapping (a dict, or a products frame with "
                "product_id and category; CLI --products FILE)."
            )
        m = category_mapping(mapping) if isinstance(mapping, pd.DataFrame) else {str(k): str(v) for k, v in mapping.items()}
        cat = df["unique_id"].map(m)
        if strict and cat.isna().any():
            miss = df.loc[cat.isna(), "unique_id"].unique()[:5].tolist()
            raise DataValidationError(
                f"{int(cat.isna().sum())} sales rows belong to products without a category, e.g. {miss}. "
                "Add them to the mapping or pass strict=False to group them as '(uncategorised)'."
            )
        df["unique_id"] = cat.fillna("(uncategorised)")
    else:
        raise DataValidationError(f"Unknown aggregation level {level!r}; use 'series', 'category' or 'total'.")
    out: pd.DataFrame = df.groupby(["unique_id", "ds"], as_index=False, sort=True)[["y"]].sum()
    return out
