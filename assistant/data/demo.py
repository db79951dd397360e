"""The bundled demo store (assistant/demo/data): clothing products + reviews and gift products with
weekly sales and customer transactions, built by ``scripts/build_demo_data.py`` from public data sets
(sources and licences in ``ATTRIBUTION.md`` next to the files)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from assistant.data.catalog import TRANSACTION_COLUMNS, Catalog
from assistant.data.loaders import load_table
from assistant.errors import DataValidationError

DEMO_FILES: dict[str, str] = {
    "products": "products.csv.gz",
    "reviews": "reviews.csv.gz",
    "sales": "sales.csv.gz",
    "transactions": "transactions.csv.gz",
}


def demo_dir() -> Path:
    """Folder of the bundled demo files (products/reviews/sales/transactions .csv.gz, ATTRIBUTION.md)."""
    path = Path(str(resources.files("assistant.demo") / "data"))
    if not (path / DEMO_FILES["products"]).is_file():
        raise DataValidationError(
            f"The demo store is missing from {path}. Reinstall the package, or rebuild it with "
            "`python scripts/build_demo_data.py` from a source checkout.")
    return path


def demo_transactions() -> pd.DataFrame:
    """The demo purchase lines: customer_id, product_id (R...), ts (Timestamp), quantity."""
    df = pd.read_csv(demo_dir() / DEMO_FILES["transactions"], dtype={"customer_id": str, "product_id": str})
    df["ts"] = pd.to_datetime(df["ts"], format="ISO8601")
    return df[list(TRANSACTION_COLUMNS)]


def load_demo(catalog: Catalog) -> dict[str, int]:
    """Validate the demo files and upsert them into ``catalog``; returns rows written per table.

    Loading twice is harmless (upserts by id)."""
    folder = demo_dir()
    frames = {kind: load_table(folder / DEMO_FILES[kind], kind).frame  # type: ignore[arg-type]
              for kind in ("products", "reviews", "sales")}
    return {
        "products": catalog.upsert_products(frames["products"]),
        "reviews": catalog.upsert_reviews(frames["reviews"]),
        "sales": catalog.upsert_sales(frames["sales"]),
        "transactions": catalog.upsert_transactions(demo_transactions()),
    }
