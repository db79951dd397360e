"""Demand forecasting API: shapes, intervals, selection, fallback, hierarchy and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.errors import DataValidationError, ForecastError
from assistant.forecast import aggregate_sales, forecast_demand, infer_freq, plot_forecast
from assistant.forecast.models import classify_demand

FIX = Path(__file__).parent / "fixtures" / "forecast"


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return pd.read_csv(FIX / "weekly_sales.csv", parse_dates=["ds"])


def _check_intervals(frame: pd.DataFrame, levels: list[int]) -> None:
    for lv in levels:
        assert (frame[f"yhat_lo_{lv}"] <= frame["yhat"] + 1e-9).all()
        assert (frame["yhat"] <= frame[f"yhat_hi_{lv}"] + 1e-9).all()
    lo, hi = sorted(levels)[0], sorted(levels)[-1]
    assert (frame[f"yhat_lo_{hi}"] <= frame[f"yhat_lo_{lo}"] + 1e-9).all()
    assert (frame[f"yhat_hi_{hi}"] >= frame[f"yhat_hi_{lo}"] - 1e-9).all()


def test_forecast_shapes_intervals_and_selection(sales: pd.DataFrame) -> None:
    res = forecast_demand(sales, h=6, level=[80, 95])
    assert res.freq == "W-MON"
    assert len(res.frame) == 4 * 6
    assert list(res.frame.columns) == ["unique_id", "ds", "model", "yhat", "yhat_lo_80", "yhat_hi_80",
                                       "yhat_lo_95", "yhat_hi_95"]
    assert not res.frame.isna().any().any()
    _check_intervals(res.frame, [80, 95])
    first = res.series("A")["ds"].iloc[0]
    assert first == sales["ds"].max() + pd.Timedelta(days=7)
    assert set(res.chosen) == {"A", "B", "C", "D"}
    assert all(res.scores[u] is not None and res.scores[u] >= 0 for u in res.chosen)
    # the intermittent series is routed to the intermittent candidate set
    assert res.patterns["D"] in ("intermittent", "lumpy")
    assert res.chosen["D"] in ("CrostonOptimized", "ADIDA", "Naive")
    assert set(res.cv["model"]) >= {"AutoETS", "CrostonOptimized"}
    d = res.to_dict(max_series=2)
    json.dumps(d)
    assert d["n_series"] == 4 and len(d["series"]) == 2 and d["truncated"] is True
    assert len(d["series"][0]["yhat"]) == 6 and "lo_95" in d["series"][0]


def test_level_of_series_is_roughly_right(sales: pd.DataFrame) -> None:
    res = forecast_demand(sales, h=4, level=[90], models=["AutoETS"], select=False)
    means = sales.groupby("unique_id")["y"].mean()
    for uid in ("A", "B", "C"):
        assert abs(res.series(uid)["yhat"].mean() - means[uid]) < 0.5 * means[uid] + 3
    assert set(res.chosen.values()) == {"AutoETS"}


def test_fallback_when_a_model_breaks_on_one_series(sales: pd.DataFrame) -> None:
    from statsforecast.models import Naive

    class Fragile(Naive):  # a custom model that fails on the high-volume series only
        def __init__(self) -> None:
            super().__init__(alias="Fragile")

        def forecast(self, y, h, X=None, X_future=None, level=None, fitted=False):  # type: ignore[no-untyped-def]
            if np.max(y) > 40:
                raise ValueError("boom")
            return super().forecast(y, h, X, X_future, level, fitted)

    res = forecast_demand(sales, h=3, level=[80], models=[Fragile()], select=False)
    assert len(res.frame) == 12 and not res.frame["yhat"].isna().any()
    c = res.series("C")  # fell back to Naive: last observed value
    assert c["yhat"].iloc[0] == pytest.approx(sales[sales.unique_id == "C"]["y"].iloc[-1])


def test_short_series_error_and_options(sales: pd.DataFrame) -> None:
    short = pd.concat([sales, pd.DataFrame({"unique_id": ["E", "E"], "ds": sales["ds"].iloc[-2:].to_list(),
                                            "y": [1.0, 2.0]})])
    with pytest.raises(ForecastError, match=r"at least 4.*on_short='naive'"):
        forecast_demand(short, h=3)
    res = forecast_demand(short, h=3, on_short="naive", level=[80])
    assert res.chosen["E"] == "Naive" and len(res.series("E")) == 3
    res = forecast_demand(short, h=3, on_short="drop", level=[80])
    assert "E" not in res.chosen


def test_gaps_duplicates_negatives(sales: pd.DataFrame) -> None:
    gappy = sales.drop(index=[5, 6])
    with pytest.raises(DataValidationError, match="fill_gaps='zero'"):
        forecast_demand(gappy, h=2)
    res = forecast_demand(gappy, h=2, fill_gaps="zero", level=[80])
    assert len(res.history) == len(sales)
    dup = pd.concat([sales, sales.iloc[[0]]])
    with pytest.raises(DataValidationError, match="duplicates='sum'"):
        forecast_demand(dup, h=2)
    assert forecast_demand(dup, h=2, duplicates="sum", level=[80]).history["y"].iloc[0] == 2 * sales["y"].iloc[0]
    neg = sales.copy()
    neg.loc[3, "y"] = -4
    with pytest.raises(DataValidationError, match="clip_negative=True"):
        forecast_demand(neg, h=2)
    assert forecast_demand(neg, h=2, clip_negative=True, level=[80]).history["y"].min() == 0


def test_bad_values_missing_columns_and_horizon(sales: pd.DataFrame) -> None:
    bad = sales.astype({"y": object})
    bad.loc[2, "y"] = "ten"
    with pytest.raises(DataValidationError, match=r"line 4, column 'y'"):
        forecast_demand(bad, h=2)
    with pytest.raises(DataValidationError, match="missing"):
        forecast_demand(sales.rename(columns={"y": "qty"}), h=2)
    with pytest.raises(ForecastError, match="positive"):
        forecast_demand(sales, h=0)
    off = sales.copy()
    off.loc[0, "ds"] = pd.Timestamp("2022-12-28")  # a Wednesday
    with pytest.raises(DataValidationError, match="not on the 'W-MON' grid"):
        forecast_demand(off, h=2, freq="W-MON")


def test_monthly_and_daily_frequency_inference() -> None:
    m = pd.DataFrame({"unique_id": "m", "ds": pd.date_range("2020-01-01", periods=30, freq="MS"),
                      "y": np.arange(30, dtype=float) + 10})
    assert infer_freq(m) == "MS"
    res = forecast_demand(m, h=3, level=[80])
    assert res.series("m")["ds"].iloc[0] == pd.Timestamp("2022-07-01")
    d = m.assign(ds=pd.date_range("2020-01-01", periods=30, freq="D"))
    assert infer_freq(d) == "D"


def test_category_aggregation(sales: pd.DataFrame) -> None:
    cats = pd.read_csv(FIX / "categories.csv")
    agg = aggregate_sales(sales, cats, level="category")
    assert set(agg["unique_id"]) == {"Home > Candles", "Toys"}
    assert agg["y"].sum() == pytest.approx(sales["y"].sum())
    res = forecast_demand(sales, h=4, agg_level="category", hierarchy=cats, level=[80])
    assert set(res.chosen) == {"Home > Candles", "Toys"}
    with pytest.raises(DataValidationError, match="mapping"):
        forecast_demand(sales, h=4, agg_level="category")


def test_classify_demand() -> None:
    df = pd.DataFrame({"unique_id": ["s"] * 8 + ["i"] * 8,
                       "y": [5, 6, 5, 7, 6, 5, 6, 5] + [0, 0, 3, 0, 0, 0, 4, 0]})
    c = classify_demand(df)
    assert c.loc["s", "pattern"] == "smooth" and c.loc["i", "pattern"] in ("intermittent", "lumpy")


def test_plot_returns_png(sales: pd.DataFrame) -> None:
    res = forecast_demand(sales, h=4, level=[80, 95], models=["Naive"], select=False)
    png = plot_forecast(res.history, res.frame, max_series=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_horizon_total_interval(sales: pd.DataFrame) -> None:
    res = forecast_demand(sales, h=8, level=[80, 95])
    tot = res.totals().set_index("unique_id")
    steps = res.frame.groupby("unique_id")[["yhat", "yhat_lo_80", "yhat_hi_80"]].sum()
    assert np.allclose(tot["total"], steps["yhat"].reindex(tot.index))
    for uid, row in tot.iterrows():
        assert 0 <= row["total_lo_95"] <= row["total_lo_80"] <= row["total"] <= row["total_hi_80"] <= row["total_hi_95"]
        # the spreads of 8 steps partly cancel: narrower than adding up the per-step bounds ...
        assert row["total_hi_80"] - row["total"] < steps.at[uid, "yhat_hi_80"] - steps.at[uid, "yhat"] + 1e-9
    # ... but wider than if the steps were independent (correlation 0)
    indep = res.totals(rho=0.0).set_index("unique_id")
    assert (tot["total_hi_80"] > indep["total_hi_80"]).all()
    # one step: the total's interval is the step's band
    one = forecast_demand(sales, h=1, level=[80])
    t1 = one.totals().set_index("unique_id")
    f1 = one.frame.set_index("unique_id")
    assert np.allclose(t1["total_hi_80"], f1["yhat_hi_80"].reindex(t1.index))
    d = res.to_dict()
    assert all(s["total_lo_80"] <= s["total"] <= s["total_hi_80"] for s in d["series"])


def test_short_history_ets_keeps_bounds_sane() -> None:
    """Multiplicative-error ETS on a short volatile series gave an 8-week upper bound of ~300,000 for a
    product that never sold over 508 a week (Online Retail R23437); additive errors keep it in range."""
    y = [12.0, 26.0, 29.0, 64.0, 160.0, 78.0, 508.0]
    df = pd.DataFrame({"unique_id": "R23437", "ds": pd.date_range("2011-08-22", periods=7, freq="W-MON"), "y": y})
    res = forecast_demand(df, h=8, level=[80], models=["AutoETS"], select=False)
    assert res.frame["yhat_hi_80"].max() < 10 * max(y)


def test_series_too_short_for_cv_take_the_groups_winner(sales: pd.DataFrame) -> None:
    trend = pd.DataFrame({"unique_id": np.repeat(["T1", "T2", "T3"], 40),
                          "ds": np.tile(pd.date_range("2011-01-03", periods=40, freq="W-MON"), 3),
                          "y": np.concatenate([np.arange(40) * k + 5.0 for k in (1, 2, 3)])})
    short = pd.DataFrame({"unique_id": "S", "ds": pd.date_range("2011-08-15", periods=6, freq="W-MON"),
                          "y": [3.0, 5, 7, 9, 11, 13]})
    res = forecast_demand(pd.concat([trend, short]), h=4, level=[80], models=["HistoricAverage", "Naive"])
    assert res.chosen["T1"] == res.chosen["S"] == "Naive"  # not the first candidate, HistoricAverage
    assert res.scores["S"] is None  # it had no CV score of its own


def test_small_groups_get_more_cv_windows() -> None:
    """One product (or a 3-product plan) is cross-validated over up to six windows, as its history
    allows; a batch of many series keeps the cheaper two."""
    from assistant.forecast.demand import _cv_plan

    one = pd.Series({"A": 40})
    cv_h, windows, eligible = _cv_plan(one, h=8, m=1, n_windows=2)
    assert (cv_h, windows, list(eligible)) == (5, 6, ["A"])
    many = pd.Series({f"S{i}": 40 for i in range(30)})
    assert _cv_plan(many, h=8, m=1, n_windows=2)[:2] == (8, 2)
    short = pd.Series({"A": 9})  # too short for six windows (plus 4 points to fit on): as many as fit
    cv_h, windows, eligible = _cv_plan(short, h=8, m=1, n_windows=2)
    assert (cv_h, windows, list(eligible)) == (1, 5, ["A"])
    tiny = pd.Series({"A": 5})  # too short for any: the caller's two windows, nobody eligible
    _, windows, eligible = _cv_plan(tiny, h=8, m=1, n_windows=2)
    assert windows == 2 and len(eligible) == 0


def test_forecast_each_does_not_depend_on_the_other_series(sales: pd.DataFrame) -> None:
    """A product forecast on its own and picked together with others gets the same model and numbers;
    validation of the whole input still names the input's own line numbers."""
    from assistant.forecast import forecast_each

    ids = sales["unique_id"].unique().tolist()
    both = forecast_each(sales, h=6, level=[80])
    for uid in ids:
        alone = forecast_demand(sales[sales["unique_id"] == uid], h=6, level=[80])
        assert both.chosen[uid] == alone.chosen[uid]
        np.testing.assert_allclose(both.series(uid)["yhat"], alone.series(uid)["yhat"])
        np.testing.assert_allclose(both.series(uid)["yhat_hi_80"], alone.series(uid)["yhat_hi_80"])
    assert set(both.chosen) == set(ids) and both.freq == "W-MON"
    assert len(both.to_dict(max_series=len(ids))["series"]) == len(ids)
    bad = sales.astype({"y": object})
    bad.loc[len(bad) - 1, "y"] = "lots"
    with pytest.raises(DataValidationError) as err:
        forecast_each(bad, h=6, source="sales.csv")
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("sales.csv", len(bad) + 1, "y")
