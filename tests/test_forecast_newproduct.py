"""New-product (cold-start) model on a small synthetic fixture with a fake embedder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.errors import ForecastError
from assistant.forecast.launch import NewProductHistory, forecast_new_product, launch_curves
from assistant.forecast.newproduct import NewProductConfig, NewProductModel


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder (no model download)."""

    name, dim = "fake-bow", 32

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace(".", " ").split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


CATS = {"candle": 30.0, "mug": 10.0, "lamp": 3.0}
SHAPE = np.array([0.5, 1.0, 1.2, 1.0, 0.8, 0.6, 0.5, 0.4])


def synthetic(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cats = list(CATS)
    rows, curves = [], {}
    for i in range(n):
        cat = cats[i % 3]
        color = ["red", "blue", "white"][(i // 3) % 3]
        pid = f"P{i:03d}"
        rows.append({"product_id": pid, "title": f"{color} {cat} deluxe", "category": cat,
                     "attributes": {"color": color}, "price": 2.0 + (i % 5),
                     "launch_date": pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=i)})
        curves[pid] = CATS[cat] * SHAPE * rng.uniform(0.8, 1.2)
    return pd.DataFrame(rows), pd.DataFrame.from_dict(curves, orient="index")


def small_config() -> NewProductConfig:
    return NewProductConfig(k=5, n_estimators=40, min_child_samples=5, num_leaves=7, calib_frac=0.25)


@pytest.fixture(scope="module")
def fitted() -> NewProductModel:
    products, curves = synthetic()
    return NewProductModel(small_config(), embedder=FakeEmbedder()).fit(products, curves)


NEW = {"title": "red candle deluxe", "category": "candle", "attributes": {"color": "red"}, "price": 3.0,
       "launch_date": "2024-03-04"}


def test_predict_shapes_levels_and_analogues(fitted: NewProductModel) -> None:
    q = pd.DataFrame([NEW, {**NEW, "title": "blue lamp deluxe", "category": "lamp", "attributes": {"color": "blue"}}])
    pred = fitted.predict(q)
    assert pred.yhat.shape == (2, 8)
    assert (pred.lo <= pred.yhat + 1e-9).all() and (pred.yhat <= pred.hi + 1e-9).all()
    assert pred.total[0] > 3 * pred.total[1]  # candles sell ~10x lamps in the fixture
    assert all(a["product_id"] in {f"P{i:03d}" for i in range(0, 60, 3)} for a in pred.analogues[0][:3])


def test_forecast_new_product_dict_is_deterministic() -> None:
    products, curves = synthetic()
    outs = []
    for _ in range(2):
        hist = NewProductHistory(products, curves, config=small_config(), embedder=FakeEmbedder())
        outs.append(forecast_new_product(NEW, hist, horizon=6))
    assert outs[0] == outs[1]
    out = outs[0]
    json.dumps(out)
    assert out["weeks"] == [1, 2, 3, 4, 5, 6] and len(out["yhat"]) == 6
    assert out["total_lo"] <= out["total"] <= out["total_hi"]
    assert 30 * SHAPE[:6].sum() * 0.5 < out["total"] < 30 * SHAPE[:6].sum() * 1.5
    assert {"product_id", "similarity", "weight"} <= set(out["analogues"][0])
    with pytest.raises(ForecastError, match="horizon"):
        forecast_new_product(NEW, hist, horizon=20)


def test_save_load_roundtrip(fitted: NewProductModel, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "np.joblib")
    emb = FakeEmbedder()
    loaded = NewProductModel.load(path, embedder=emb)
    a = fitted.predict(pd.DataFrame([NEW])).yhat
    b = loaded.predict(pd.DataFrame([NEW])).yhat
    np.testing.assert_allclose(a, b)
    assert emb.calls == 1  # history embeddings were saved, only the query is embedded
    with pytest.raises(ForecastError, match="No saved"):
        NewProductModel.load(tmp_path / "missing.joblib")


def test_works_without_text_and_with_trends() -> None:
    products, curves = synthetic()
    dates = pd.date_range("2022-01-03", periods=130, freq="W-MON")
    trends = pd.DataFrame({"date": dates, "candle": np.linspace(10, 90, 130), "mug": 50.0, "lamp": 20.0})
    cfg = NewProductConfig(**{**small_config().__dict__, "use_text": False})
    model = NewProductModel(cfg).fit(products, curves.to_numpy(), trends=trends)
    pred = model.predict(pd.DataFrame([NEW]))
    assert np.isfinite(pred.yhat).all() and pred.yhat.sum() > 0


def test_launch_curves_from_weekly_sales() -> None:
    ds = pd.date_range("2024-01-01", periods=10, freq="W-MON")
    sales = pd.DataFrame({"unique_id": ["a"] * 10 + ["b"] * 3, "ds": list(ds) + list(ds[-3:]),
                          "y": list(range(1, 11)) + [5, 5, 5]})
    prods = pd.DataFrame({"product_id": ["a", "b"], "title": ["x", "y"]})
    c = launch_curves(prods, sales, 4)
    assert list(c.index) == ["a"] and c.loc["a"].tolist() == [1, 2, 3, 4]
    with pytest.raises(ForecastError, match="at least 5"):
        NewProductHistory.from_sales(prods, sales, horizon=4)


def test_history_from_catalog(tmp_path: Path) -> None:
    from assistant.data.catalog import Catalog

    products, _ = synthetic(30)
    rng = np.random.default_rng(1)
    sales = []
    for p in products.itertuples():
        for w in range(10):
            sales.append({"unique_id": p.product_id, "ds": p.launch_date + pd.Timedelta(weeks=w),
                          "y": float(rng.poisson(CATS[p.category]))})
    with Catalog(tmp_path / "catalog.sqlite") as cat:
        cat.upsert_products(products.assign(description=""))
        cat.upsert_sales(pd.DataFrame(sales))
        hist = NewProductHistory.from_catalog(cat, horizon=6, config=small_config(), embedder=FakeEmbedder())
    assert len(hist.curves) >= 20
    out = forecast_new_product(NEW, hist, horizon=6)
    assert out["total"] > 0 and len(out["analogues"]) == 5


def test_launch_curves_start_in_the_launch_week() -> None:
    """A mid-week launch date maps to the Monday week that holds it (the launch week is not skipped)."""
    ds = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    sales = pd.DataFrame({"unique_id": "a", "ds": ds, "y": [0.0, 7.0, 3.0, 2.0, 1.0, 1.0]})
    prods = pd.DataFrame({"product_id": ["a"], "title": ["x"], "launch_date": ["2024-01-10 14:30"]})
    c = launch_curves(prods, sales, 3)
    assert c.loc["a"].tolist() == [7.0, 3.0, 2.0]
    c2 = launch_curves(prods.drop(columns="launch_date"), sales, 3)  # first sale week when no date is given
    assert c2.loc["a"].tolist() == [7.0, 3.0, 2.0]


def test_unnormalised_log_target_scales_with_the_units() -> None:
    """Without level normalisation and with the log1p(curve / mean) target, the forecast is in the units
    of the history: the same catalogue counted in tens gives a forecast ten times larger."""
    products, curves = synthetic()
    cfg = NewProductConfig(**{**small_config().__dict__, "level_window": 0, "log_target": True, "use_text": False})
    a = NewProductModel(cfg).fit(products, curves).predict(pd.DataFrame([NEW])).yhat
    b = NewProductModel(cfg).fit(products, curves * 10).predict(pd.DataFrame([NEW])).yhat
    np.testing.assert_allclose(b, 10 * a, rtol=1e-5)
    assert 0.5 * 30 * SHAPE.sum() < a.sum() < 1.5 * 30 * SHAPE.sum()  # candles sell ~30 units a week


def test_log_target_forecast_follows_the_typical_launch_not_an_outlier() -> None:
    """One freak seller among the candles barely moves the median-type (log L1) forecast."""
    products, curves = synthetic()
    spiked = curves.copy()
    spiked.loc["P000"] *= 200
    cfg = NewProductConfig(**{**small_config().__dict__, "use_text": False})
    assert cfg.log_target and cfg.blend == 1.0
    base = NewProductModel(cfg).fit(products, curves).predict(pd.DataFrame([NEW])).total[0]
    spike = NewProductModel(cfg).fit(products, spiked).predict(pd.DataFrame([NEW])).total[0]
    assert spike < 1.5 * base


def test_launch_date_unknown_or_malformed(fitted: NewProductModel) -> None:
    """No launch date: the timing features the model learned are missing values, not a crash (a KeyError
    reached the API as a 500). A date that is not a date (month 13) says how to write one."""
    undated = {k: v for k, v in NEW.items() if k != "launch_date"}
    for row in (undated, {**NEW, "launch_date": ""}, {**NEW, "launch_date": None}):
        out = forecast_new_product(row, fitted, horizon=4)
        assert out["total_lo"] <= out["total"] <= out["total_hi"] and "launch_date" not in out
    assert fitted.predict(pd.DataFrame([{**NEW, "launch_date": pd.NaT}])).yhat.shape == (1, 8)
    for bad in ("2024-13-45", "soon", 20240304):
        with pytest.raises(ForecastError, match="YYYY-MM-DD"):
            forecast_new_product({**NEW, "launch_date": bad}, fitted, horizon=4)


def test_caveats_weak_analogues_and_launch_dates_outside_the_history(fitted: NewProductModel) -> None:
    """A forecast that rests on little says so: a product unlike any past launch, a launch date before every
    past launch (no analogues can be used), a launch years after the history. An ordinary one has no notes."""
    assert "notes" not in forecast_new_product(NEW, fitted, horizon=4)
    typical = fitted.typical_top_similarity()
    assert 0.5 < typical <= 1.0  # in the fixture every launch has same-category, same-colour earlier ones

    odd = {"title": "hydraulic excavator pump", "category": "industrial", "attributes": {"color": "yellow"},
           "price": 900.0, "launch_date": "2024-03-04"}
    out = forecast_new_product(odd, fitted, horizon=4)
    top = max(a["similarity"] for a in out["analogues"])
    assert top < 0.5 * typical
    assert len(out["notes"]) == 1 and "weak match" in out["notes"][0] and f"{top:.2f}" in out["notes"][0]

    early = forecast_new_product({**NEW, "launch_date": "1990-01-01"}, fitted, horizon=4)
    assert early["analogues"] == []
    assert any("No past launch is earlier than 1990-01-01" in n and "2023-01-02" in n for n in early["notes"])

    late = forecast_new_product({**NEW, "launch_date": "2030-06-01"}, fitted, horizon=4)
    assert any("years after the latest past launch" in n for n in late["notes"])


def test_typical_similarity_of_a_model_saved_before_it_existed(fitted: NewProductModel, tmp_path: Path) -> None:
    """Models saved by an earlier version lack the stored figure: it is worked out from the saved history."""
    path = fitted.save(tmp_path / "m.joblib")
    loaded = NewProductModel.load(path, embedder=FakeEmbedder())
    expected = loaded.__dict__.pop("top_sim_median_")
    assert loaded.typical_top_similarity() == pytest.approx(expected)
