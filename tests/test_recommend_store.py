from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.index.fakes import FakeEmbedder

from assistant.errors import ModelNotFoundError
from assistant.recommend.audience import stored_recommender
from assistant.recommend.model import HybridRecommender
from assistant.recommend.store import data_fingerprint, load_or_fit, load_recommender, read_meta


def _data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six mug buyers, six candle buyers; everyone also buys the gift card."""
    products = pd.DataFrame({
        "product_id": ["mug1", "mug2", "can1", "can2", "gift"],
        "title": ["red ceramic mug", "blue ceramic mug", "vanilla scented candle", "rose scented candle", "gift card"],
        "category": ["Kitchen", "Kitchen", "Home", "Home", "Cards"],
        "description": [""] * 5,
    })
    rows = []
    for g, items in (("m", ["mug1", "mug2"]), ("c", ["can1", "can2"])):
        for i in range(6):
            for j, item in enumerate(items):
                if i < 3 or j == i % 2:
                    rows.append((f"{g}{i}", item, f"2011-01-{1 + j:02d}", 1))
            rows.append((f"{g}{i}", "gift", "2011-02-01", 1))
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "ts", "quantity"]), products


@pytest.fixture
def counting_fit(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real HybridRecommender.fit calls (the fit itself runs unchanged)."""
    calls: list[int] = []
    original = HybridRecommender.fit.__func__  # type: ignore[attr-defined]

    def fit(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(HybridRecommender, "fit", classmethod(fit))
    return calls


def test_save_load_round_trip_and_reuse(tmp_path: Path, counting_fit: list[int]) -> None:
    tx, products = _data()
    emb = FakeEmbedder(dim=32)
    d = tmp_path / "rec"
    model, meta = stored_recommender(tx, products, emb, factors=4, iterations=5, directory=d)
    assert meta["loaded"] is False and len(counting_fit) == 1
    assert meta["n_customers"] == 12 and meta["n_items"] == 5 and meta["trained_at"]
    again, meta2 = stored_recommender(tx.sample(frac=1.0, random_state=1), products, emb, factors=4,
                                      iterations=5, directory=d)  # row order does not matter
    assert meta2["loaded"] is True and len(counting_fit) == 1 and meta2["fingerprint"] == meta["fingerprint"]
    assert again.customers == model.customers and again.items == model.items
    np.testing.assert_allclose(again.user_factors, model.user_factors)
    assert (again.user_items != model.user_items).nnz == 0
    np.testing.assert_allclose(again.warm_scores("mug1"), model.warm_scores("mug1"))
    e = emb.encode(["green ceramic mug"])[0]
    np.testing.assert_allclose(again.cold_scores(e), model.cold_scores(e), rtol=1e-6)
    assert again.also_bought("mug1", 3) == model.also_bought("mug1", 3)
    assert not list(tmp_path.glob(".rec-*"))  # no temporary folders left behind


def test_changed_data_or_settings_retrain(tmp_path: Path, counting_fit: list[int]) -> None:
    tx, products = _data()
    emb = FakeEmbedder(dim=32)
    d = tmp_path / "rec"
    _, m1 = stored_recommender(tx, products, emb, factors=4, iterations=5, directory=d)
    more = pd.concat([tx, pd.DataFrame([("c0", "mug1", "2011-03-01", 2)], columns=tx.columns)])
    model, m2 = stored_recommender(more, products, emb, factors=4, iterations=5, directory=d)
    assert m2["loaded"] is False and m2["fingerprint"] != m1["fingerprint"] and len(counting_fit) == 2
    assert model.bought("mug1")[model.customers.index("c0")]
    assert (read_meta(d) or {}).get("fingerprint") == m2["fingerprint"]  # the store now holds the new fit
    _, m3 = stored_recommender(more, products.assign(title=products["title"] + " new"), emb, factors=4,
                               iterations=5, directory=d)  # product texts changed
    _, m4 = stored_recommender(more, products.assign(title=products["title"] + " new"), emb, factors=3,
                               iterations=5, directory=d)  # parameters changed
    assert not m3["loaded"] and not m4["loaded"] and len(counting_fit) == 4
    _, m5 = stored_recommender(more, products, emb, factors=4, iterations=5, directory=d, force=True)
    assert not m5["loaded"] and len(counting_fit) == 5


def test_fingerprint_ignores_returns_and_unreadable_model_is_refitted(tmp_path: Path) -> None:
    tx, products = _data()
    texts = {"mug1": "red ceramic mug"}
    ret = pd.concat([tx, pd.DataFrame([("m0", "mug1", "2011-04-01", -1)], columns=tx.columns)])
    assert data_fingerprint(tx, texts, "e") == data_fingerprint(ret, texts, "e")
    assert data_fingerprint(tx, texts, "e") != data_fingerprint(tx, texts, "other-embedder")
    with pytest.raises(ModelNotFoundError, match="recommend train"):
        load_recommender(tmp_path / "nothing")
    d = tmp_path / "rec"
    _, meta = load_or_fit(tx, texts, FakeEmbedder(dim=16), directory=d, factors=3, iterations=3)
    (d / "arrays.npz").write_bytes(b"garbage")
    model, meta2 = load_or_fit(tx, texts, FakeEmbedder(dim=16), directory=d, factors=3, iterations=3)
    assert meta2["loaded"] is False and len(model.customers) == 12
    meta_json = json.loads((d / "meta.json").read_text())
    meta_json["format_version"] = 0
    (d / "meta.json").write_text(json.dumps(meta_json))
    assert load_or_fit(tx, texts, FakeEmbedder(dim=16), directory=d, factors=3, iterations=3)[1]["loaded"] is False


def test_cli_recommend_train_and_tool_use_the_stored_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           counting_fit: list[int]) -> None:
    from typer.testing import CliRunner

    from assistant.cli.main import app
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog
    from assistant.recommend import audience as mod

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    get_settings.cache_clear()
    monkeypatch.setattr("assistant.index.embedder.get_embedder", lambda settings=None: FakeEmbedder(dim=32))
    runner = CliRunner()
    bad = runner.invoke(app, ["recommend", "train"])
    assert bad.exit_code != 0 and "No purchase transactions" in bad.output
    tx, products = _data()
    with Catalog.open(get_settings()) as cat:
        catalog_rows = products.assign(price=1.0, launch_date=None)
        catalog_rows["attributes"] = pd.Series([{} for _ in range(len(products))], dtype=object)
        cat.upsert_products(catalog_rows)
        cat.upsert_transactions(tx)
    out = runner.invoke(app, ["recommend", "train", "--json"])
    assert out.exit_code == 0, out.output
    first = json.loads(out.output)
    assert first["loaded"] is False and first["n_customers"] == 12 and len(counting_fit) == 1
    out = runner.invoke(app, ["recommend", "train"])
    assert out.exit_code == 0 and "up to date" in out.output and len(counting_fit) == 1
    mod._CACHE.clear()
    res = mod.recommend_audience(product_id="mug1", k=3)  # a fresh process would load, not refit
    assert len(res["customers"]) == 3 and len(counting_fit) == 1
    get_settings.cache_clear()
