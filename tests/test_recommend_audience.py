from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from assistant.errors import DataValidationError, ToolError
from assistant.recommend.audience import audience, build_recommender
from assistant.recommend.model import HybridRecommender, interactions


class FakeEmbedder:
    """Bag-of-words hashing embedder: texts sharing words get similar unit vectors."""

    name = "fake-bow"
    dim = 64

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace(".", " ").split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers m0..m9 buy mugs, c0..c9 buy candles; everyone buys the gift card."""
    products = pd.DataFrame({
        "product_id": ["mug1", "mug2", "mug3", "can1", "can2", "can3", "gift", "newmug"],
        "title": ["red ceramic mug", "blue ceramic mug", "spotty ceramic mug", "vanilla scented candle",
                  "rose scented candle", "pine scented candle", "gift card", "green ceramic mug"],
        "category": ["Kitchen"] * 3 + ["Home"] * 3 + ["Cards", "Kitchen"],
        "description": [""] * 8,
    })
    rows = []
    for g, items in (("m", ["mug1", "mug2", "mug3"]), ("c", ["can1", "can2", "can3"])):
        for i in range(10):
            cust = f"{g}{i}"
            for j, item in enumerate(items):
                if (i + j) % 3 != 0 or i < 2:  # the first two in each group bought all three
                    rows.append((cust, item, f"2011-01-{1 + j:02d}", 2))
            rows.append((cust, "gift", "2011-02-01", 1))
    rows.append(("m0", "mug1", "2011-03-01", -2))  # a return: ignored
    tx = pd.DataFrame(rows, columns=["customer_id", "product_id", "ts", "quantity"])
    return tx, products


@pytest.fixture(scope="module")
def fitted() -> tuple[HybridRecommender, pd.DataFrame, pd.DataFrame]:
    tx, products = _data()
    model = build_recommender(tx, products, FakeEmbedder(), factors=4, iterations=10)
    return model, products, tx


def test_interactions_validation() -> None:
    with pytest.raises(DataValidationError, match="customer_id"):
        interactions(pd.DataFrame({"product_id": ["a"]}))
    with pytest.raises(DataValidationError, match="No usable purchases"):
        interactions(pd.DataFrame({"customer_id": ["c"], "product_id": ["p"], "quantity": [-1]}))
    inter = interactions(_data()[0])
    assert inter["n"].min() == 1 and set(inter.columns) == {"customer_id", "product_id", "n"}


def test_cold_start_finds_customers_of_similar_products(fitted) -> None:  # type: ignore[no-untyped-def]
    model, products, tx = fitted
    res = audience(model, products, text="yellow ceramic mug", k=10)
    assert res["mode"].startswith("new product")
    ids = [c["customer_id"] for c in res["customers"]]
    assert len(ids) == 10
    assert sum(c.startswith("m") for c in ids) >= 8
    scores = [c["score"] for c in res["customers"]]
    assert scores == sorted(scores, reverse=True)
    assert res["segment"]["top_categories"][0]["category"] == "Kitchen"
    # a catalog product without sales is treated as new, using its catalog text
    by_id = audience(model, products, product_id="newmug", k=5)
    assert by_id["mode"].startswith("new product") and "green ceramic mug" in by_id["text"]
    assert "newmug has no purchases in the transaction data" in by_id["note"]
    # the products it was matched on are shown; text like nothing bought says the audience is a guess
    assert "note" not in res and res["matched_on"][0]["product_id"].startswith("mug")
    guess = audience(model, products, text="xylophone tuba", k=5)
    assert len(guess["customers"]) == 5 and guess["note"].startswith("Weak match")


def test_existing_product_excludes_past_buyers_and_lists_also_bought(fitted) -> None:  # type: ignore[no-untyped-def]
    model, products, tx = fitted
    res = audience(model, products, product_id="mug1", k=5, transactions=tx.assign(country="UK"))
    buyers = set(tx[(tx["product_id"] == "mug1") & (tx["quantity"] > 0)]["customer_id"])
    assert res["n_past_buyers"] == len(buyers)
    assert not buyers & {c["customer_id"] for c in res["customers"]}
    assert res["also_bought"][0]["product_id"] in {"mug2", "mug3"}
    assert res["segment"]["top_countries"] == [{"country": "UK", "customers": 5}]
    recs = model.recommend_items("m2", 2)
    assert all(p not in set(tx[tx["customer_id"] == "m2"]["product_id"]) for p, _ in recs)


def test_bad_requests(fitted) -> None:  # type: ignore[no-untyped-def]
    model, products, _ = fitted
    with pytest.raises(ToolError, match="product_id"):
        audience(model, products)
    with pytest.raises(ToolError, match="Unknown product"):
        audience(model, products, product_id="nope")
    with pytest.raises(ToolError, match="k must be"):
        audience(model, products, text="mug", k=0)
    with pytest.raises(DataValidationError, match="Unknown customer"):
        model.recommend_items("zzz")


def test_recommend_audience_tool_reads_the_catalog(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog
    from assistant.recommend import audience as mod

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    get_settings.cache_clear()
    tx, products = _data()
    cat = Catalog.open(get_settings())
    cat.upsert_products(products.assign(attributes=[{}] * len(products), price=1.0, launch_date=None))
    cat.upsert_transactions(tx[tx["quantity"] > 0])
    cat.close()
    monkeypatch.setattr("assistant.index.embedder.get_embedder", lambda settings=None: FakeEmbedder())
    res = mod.recommend_audience(text="white ceramic mug", k=3)
    assert len(res["customers"]) == 3
    assert sum(c["customer_id"].startswith("m") for c in res["customers"]) >= 2

    import json

    from typer.testing import CliRunner

    from assistant.cli.main import app

    out = CliRunner().invoke(app, ["recommend", "audience", "--product-id", "can1", "-k", "3", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["mode"].startswith("existing product") and len(data["customers"]) == 3
    upper = CliRunner().invoke(app, ["recommend", "audience", "--product-id", "CAN1", "-k", "3", "--json"])
    assert upper.exit_code == 0 and json.loads(upper.output)["product_id"] == "can1"  # the catalog's id
    bad = CliRunner().invoke(app, ["recommend", "audience"])
    assert bad.exit_code == 2 and "product_id" in bad.output
    table = CliRunner().invoke(app, ["recommend", "audience", "--product-id", "can1", "-k", "3"])
    assert table.exit_code == 0 and "segment: 3 customers (" in table.output and "{" not in table.output
    cat = Catalog.open(get_settings())
    cat.upsert_products(pd.DataFrame({"product_id": ["C2001", "R2001"], "title": ["Dress", "Mug"]}))
    cat.close()
    both = CliRunner().invoke(app, ["recommend", "audience", "--product-id", "2001"])
    assert both.exit_code == 2 and "matches several products: C2001, R2001" in both.output
    get_settings.cache_clear()


def test_fit_runs_blas_single_threaded_without_implicit_warning(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """implicit warns (and slows ~10x) when a BLAS pool runs beside its own threads; fit limits BLAS to 1."""
    import warnings

    import implicit.utils
    from threadpoolctl import threadpool_limits

    monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
    tx, products = _data()
    with threadpool_limits(2, "blas"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = build_recommender(tx, products, FakeEmbedder(), factors=4, iterations=2)
    assert model.user_factors.shape[0] == tx["customer_id"].nunique()
