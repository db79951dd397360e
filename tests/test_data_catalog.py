"""Catalog: SQLite round trip, upsert by id, deletes, filters, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assistant.config import get_settings
from assistant.data.catalog import Catalog
from assistant.errors import DataValidationError


def products(n: int = 3, title: str = "Item") -> pd.DataFrame:
    return pd.DataFrame({
        "product_id": [f"P{i}" for i in range(n)], "title": [f"{title} {i}" for i in range(n)],
        "description": ["" for _ in range(n)], "category": ["Home > Kitchen", "Home > Kitchen > Mugs", "Bags"][:n],
        "attributes": [{"color": "red"}, {}, {"size": "L", "material": "cotton"}][:n],
        "price": [1.5, float("nan"), 3.0][:n], "launch_date": pd.to_datetime(["2024-01-01", None, "2024-03-01"][:n]),
    })


def reviews() -> pd.DataFrame:
    return pd.DataFrame({"review_id": ["r1", "r2", "r3"], "product_id": ["P0", "P0", "P2"],
                         "rating": [5.0, float("nan"), 2.0], "title": ["", "Meh", ""],
                         "text": ["Love it", "It is fine", "Strap broke"],
                         "date": pd.to_datetime(["2024-02-01", None, "2024-02-03"])})


@pytest.fixture()
def cat(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path / "catalog.sqlite")


def test_open_uses_settings_store(isolated_home: Path) -> None:
    with Catalog.open(get_settings()) as c:
        assert c.path == isolated_home / "store" / "catalog.sqlite" and c.path.is_file()
        assert c.counts() == {"products": 0, "reviews": 0, "sales": 0, "transactions": 0}


def test_products_round_trip(cat: Catalog) -> None:
    src = products()
    assert cat.upsert_products(src) == 3
    out = cat.products()
    pd.testing.assert_frame_equal(out, src, check_dtype=False)
    assert out["launch_date"].dtype == "datetime64[ns]" and out["price"].dtype == float


def test_upsert_replaces_by_id(cat: Catalog) -> None:
    cat.upsert_products(products())
    changed = products(2, title="New")
    changed["attributes"] = [{}, {"color": "blue"}]
    cat.upsert_products(changed)
    out = cat.products().set_index("product_id")
    assert len(out) == 3
    assert out.loc["P0", "title"] == "New 0" and out.loc["P1", "attributes"] == {"color": "blue"}
    assert out.loc["P2", "title"] == "Item 2"


def test_a_file_with_some_columns_keeps_the_others(cat: Catalog, tmp_path: Path) -> None:
    from assistant.data.loaders import load_table

    cat.upsert_products(products())
    (tmp_path / "prices.csv").write_text("product_id,title,price\nP0,Item 0,9.5\nP9,New lamp,20\n")
    loaded = load_table(tmp_path / "prices.csv", "products")
    assert loaded.columns == ["product_id", "title", "price"]
    assert cat.upsert("products", loaded) == 2
    out = cat.products().set_index("product_id")
    assert out.loc["P0", "price"] == 9.5  # what the file gives changes
    assert out.loc["P0", "category"] == "Home > Kitchen" and out.loc["P0", "attributes"] == {"color": "red"}
    assert out.loc["P0", "launch_date"] == pd.Timestamp("2024-01-01")  # what it leaves out stays
    assert out.loc["P9", "title"] == "New lamp" and out.loc["P9", "category"] == ""  # a new product: as given
    (tmp_path / "blank.csv").write_text("product_id,title,price,category\nP0,Item 0,,\n")  # an export's blanks
    cat.upsert("products", load_table(tmp_path / "blank.csv", "products"))
    out = cat.products().set_index("product_id")
    assert out.loc["P0", "price"] == 9.5 and out.loc["P0", "category"] == "Home > Kitchen"  # kept, not erased
    (tmp_path / "colors.csv").write_text("product_id,title,attr.color\nP2,Item 2,green\n")
    cat.upsert("products", load_table(tmp_path / "colors.csv", "products"))
    assert cat.products(["P2"]).iloc[0]["attributes"] == {"color": "green"}  # attr.* columns are the attributes
    cat.upsert_reviews(reviews())
    (tmp_path / "r.csv").write_text("review_id,product_id,rating,text\nr2,P0,3,It is fine really\n")
    cat.upsert("reviews", load_table(tmp_path / "r.csv", "reviews"))
    r2 = cat.reviews().set_index("review_id").loc["r2"]
    assert r2["rating"] == 3 and r2["title"] == "Meh"  # the stored title stays


def test_filters_and_category_prefix(cat: Catalog) -> None:
    cat.upsert_products(products())
    assert list(cat.products(["P2", "P0"])["product_id"]) == ["P0", "P2"]
    assert list(cat.products(category="home > kitchen")["product_id"]) == ["P0", "P1"]
    assert list(cat.products(category="Home > Kitchen > Mugs")["product_id"]) == ["P1"]
    assert cat.products(category="Home > Kit").empty
    assert cat.categories() == {"Bags": 1, "Home > Kitchen": 1, "Home > Kitchen > Mugs": 1}


def test_reviews_and_cascading_delete(cat: Catalog) -> None:
    cat.upsert_products(products())
    cat.upsert_reviews(reviews())
    pd.testing.assert_frame_equal(cat.reviews(), reviews(), check_dtype=False)
    assert list(cat.reviews(["P2"])["review_id"]) == ["r3"]
    assert cat.delete_products(["P0", "missing"]) == 1
    assert cat.counts()["products"] == 2 and list(cat.reviews()["review_id"]) == ["r3"]
    assert cat.delete_reviews(["r3"]) == 1 and cat.counts()["reviews"] == 0


def test_sales_with_exogenous(cat: Catalog) -> None:
    sales = pd.DataFrame({"unique_id": ["B", "A", "A"], "ds": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-01"]),
                          "y": [1.0, 2.0, 3.0], "promo": [0.0, 1.0, 0.0]})
    assert cat.upsert_sales(sales) == 3
    cat.upsert_sales(pd.DataFrame({"unique_id": ["A"], "ds": ["2024-01-08"], "y": [9], "promo": [1]}))
    out = cat.sales()
    assert list(out.columns) == ["unique_id", "ds", "y", "promo"]
    assert list(out["unique_id"]) == ["A", "A", "B"] and list(out["y"]) == [3.0, 9.0, 1.0]
    assert list(cat.sales(["B"])["y"]) == [1.0]


def test_invalid_frame_writes_nothing(cat: Catalog) -> None:
    bad = products()
    bad.loc[2, "price"] = -5
    with pytest.raises(DataValidationError, match="nothing was written"):
        cat.upsert_products(bad)
    assert cat.counts()["products"] == 0


def test_many_ids_and_transactions(cat: Catalog) -> None:
    n = 1200  # more ids than one IN (...) chunk
    df = pd.DataFrame({"product_id": [f"X{i}" for i in range(n)], "title": ["t"] * n})
    cat.upsert_products(df)
    assert len(cat.products([f"X{i}" for i in range(0, n, 2)])) == n // 2
    tx = pd.DataFrame({"customer_id": ["c1", "c2", "c1"], "product_id": ["X1", "X1", "X2"],
                       "ts": ["2011-01-01 10:00:00", "2011-01-02 09:00:00", "2011-01-03 08:00:00"],
                       "quantity": [2, 1, 5]})
    assert cat.upsert_transactions(tx) == 3
    assert list(cat.transactions(product_ids=["X1"])["customer_id"]) == ["c1", "c2"]
    assert list(cat.transactions(customer_ids=["c1"])["quantity"]) == [2.0, 5.0]
    assert cat.counts()["transactions"] == 3


def test_resolve_product_id_forgives_case_and_a_dropped_source_prefix(cat: Catalog) -> None:
    df = products(3)
    df["product_id"] = ["C1078", "C2001", "R2001"]
    cat.upsert_products(df)
    assert cat.resolve_product_id("C1078") == ("C1078", [])
    assert cat.resolve_product_id(" c1078 ") == ("C1078", [])
    assert cat.resolve_product_id("1078") == ("C1078", [])  # only one id ends in 1078 behind a prefix
    assert cat.resolve_product_id("2001") == (None, ["C2001", "R2001"])  # ambiguous: the candidates
    assert cat.resolve_product_id("78")[0] is None  # too short to guess
    assert cat.resolve_product_id("X1078")[0] is None  # a different prefix is a different product
