"""Canonical column names of the assistant's long-format tables.

Every loader maps a user's columns onto these names (see ``ColumnMap``) and validates them on entry.
Downstream code (index, forecasting, analytics) only ever sees these columns.
"""

from __future__ import annotations

from dataclasses import dataclass

# Products: one row per product. ``attributes`` is a dict[str, str] (stored as a JSON object).
PRODUCT_COLUMNS: tuple[str, ...] = (
    "product_id",  # str, unique, non-empty
    "title",  # str, non-empty
    "description",  # str (may be empty for a draft product)
    "category",  # str ("A > B > C" for hierarchies), may be empty
    "attributes",  # dict[str, str] key -> value (JSON object in files)
    "price",  # float >= 0 or NaN when unknown
    "launch_date",  # pandas Timestamp or NaT
)

# Reviews: one row per review.
REVIEW_COLUMNS: tuple[str, ...] = (
    "review_id",  # str, unique, non-empty
    "product_id",  # str, non-empty (should exist in products; unknown ids are reported)
    "rating",  # float in [1, 5] or NaN
    "title",  # str, may be empty
    "text",  # str, non-empty
    "date",  # pandas Timestamp or NaT
)

# Sales series: long format, one row per (series, period). Extra numeric columns are exogenous.
SALES_COLUMNS: tuple[str, ...] = (
    "unique_id",  # str: series id (usually a product_id, or a category for aggregates)
    "ds",  # pandas Timestamp
    "y",  # float: units sold in the period
)

REQUIRED: dict[str, tuple[str, ...]] = {
    "products": ("product_id", "title"),
    "reviews": ("review_id", "product_id", "text"),
    "sales": ("unique_id", "ds", "y"),
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "products": PRODUCT_COLUMNS,
    "reviews": REVIEW_COLUMNS,
    "sales": SALES_COLUMNS,
}


@dataclass(frozen=True)
class ColumnMap:
    """Maps a user's column names onto canonical names, e.g. ``{"Review Text": "text"}``.

    On the CLI: ``--map "Review Text=text" --map "Clothing ID=product_id"``.
    """

    mapping: tuple[tuple[str, str], ...] = ()
    flag: str = "--map"  # the option a user gives the pairs with, named in hints and errors

    @classmethod
    def from_pairs(cls, pairs: list[str] | None, flag: str = "--map") -> ColumnMap:
        """``["sku=product_id", ...]`` -> ColumnMap; a column named on one side twice (``a=b`` and ``a=c``, or
        ``a=b`` and ``x=b``) is a ConfigError rather than a silent choice."""
        from assistant.errors import ConfigError

        out: list[tuple[str, str]] = []
        for text in pairs or []:
            if "=" not in text:
                raise ConfigError(f"Column mapping {text!r} must look like 'their_column=our_column'.")
            src, dst = text.split("=", 1)
            out.append((src.strip(), dst.strip()))
        for side, name in ((0, "source column"), (1, "target column")):
            seen: dict[str, str] = {}
            for src, dst in out:
                this = f"{src}={dst}"
                other = seen.setdefault((src, dst)[side], this)
                if other != this:
                    raise ConfigError(f"{flag} {other!r} and {this!r} give the {name} {(src, dst)[side]!r} twice; "
                                      "keep one.")
        return cls(tuple(dict.fromkeys(out)), flag)

    def as_dict(self) -> dict[str, str]:
        return dict(self.mapping)
