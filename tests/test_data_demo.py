"""The bundled demo store: files present, licensed sources only, loads into the catalog with the
expected shape (counts, ids, weekly zero-filled sales, recent launches)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assistant.data.catalog import Catalog
from assistant.data.demo import DEMO_FILES, demo_dir, demo_transactions, load_demo


@pytest.fixture(scope="module")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, dict[str, int]]:
    cat = Catalog(tmp_path_factory.mktemp("demo") / "catalog.sqlite")
    return cat, load_demo(cat)


def test_demo_files_small_and_attributed() -> None:
    folder = demo_dir()
    total = sum((folder / f).stat().st_size for f in DEMO_FILES.values())
    assert total < 5_000_000
    text = (folder / "ATTRIBUTION.md").read_text()
    assert "Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning Repository. " \
           "https://doi.org/10.24432/C5BW33" in " ".join(text.split())
    assert "CC0" in text and "CC BY 4.0" in text and "no dates" in text


def test_load_demo_counts(demo_catalog: tuple[Catalog, dict[str, int]]) -> None:
    cat, written = demo_catalog
    assert written == cat.counts()
    for kind in ("products", "reviews", "sales", "transactions"):
        rows = len(pd.read_csv(demo_dir() / DEMO_FILES[kind], usecols=[0]))
        assert written[kind] == rows
    prods = cat.products()
    clothing = prods[prods["product_id"].str.startswith("C")]
    retail = prods[prods["product_id"].str.startswith("R")]
    assert 40 <= len(clothing) <= 60 and 200 <= len(retail) <= 300
    assert clothing["category"].str.count(" > ").eq(2).all()
    assert set(clothing.iloc[0]["attributes"]) == {"division", "department", "class"}
    assert clothing["price"].isna().all() and clothing["launch_date"].isna().all()
    assert retail["price"].gt(0).all() and retail["launch_date"].notna().all()
    assert {"Kitchen", "Bags", "Christmas", "Candles & Lights"} <= set(retail["category"])


def test_demo_reviews_and_sales_shape(demo_catalog: tuple[Catalog, dict[str, int]]) -> None:
    cat, _ = demo_catalog
    rev = cat.reviews()
    assert rev["review_id"].str.startswith("W").all() and rev["text"].str.len().gt(0).all()
    assert set(rev["product_id"]) == set(cat.products()["product_id"].loc[lambda s: s.str.startswith("C")])
    assert rev["rating"].between(1, 5).all() and rev["date"].isna().all()
    sales = cat.sales()
    assert (sales["ds"].dt.dayofweek == 0).all()  # week starts on Monday
    gaps = sales.groupby("unique_id")["ds"].diff().dropna()
    assert (gaps == pd.Timedelta(weeks=1)).all()  # zero-filled: no missing weeks
    assert (sales["y"] == 0).any() and (sales["y"] >= 0).all()
    launches = cat.products().set_index("product_id")["launch_date"]
    assert (launches >= pd.Timestamp("2011-06-01")).sum() >= 5


def test_demo_transactions_match_products(demo_catalog: tuple[Catalog, dict[str, int]]) -> None:
    cat, _ = demo_catalog
    tx = demo_transactions()
    assert list(tx.columns) == ["customer_id", "product_id", "ts", "quantity"]
    assert set(tx["product_id"]) <= set(cat.products()["product_id"])
    assert (tx["quantity"] > 0).all() and tx["customer_id"].str.fullmatch(r"\d+").all()


def test_load_demo_twice_is_idempotent(tmp_path: Path, demo_catalog: tuple[Catalog, dict[str, int]]) -> None:
    cat, written = demo_catalog
    before = cat.counts()
    cat.upsert_products(cat.products().head(3))
    assert cat.counts() == before == written
