"""Demand-forecast accuracy on real series, every model beside the naive baselines, in one run.

    .venv/bin/python eval/forecast_retail.py [--us PATH.csv] [--retail online_retail.csv.gz] [--n-jobs 2] [--single 150]

1. US monthly retail sales (Prophet example, 293 months): hold out the last 24 months.
2. Online Retail weekly units per product (~3,800 series): hold out the last 8 weeks.
Prints MASE (scaled by the in-sample seasonal-naive MAE; lag 12 monthly, lag 1 weekly) and sMAPE per
model, with fit+predict time. "auto (ours)" is forecast_demand(): per-series model choice by
rolling-origin CV; below it, the coverage of its 80% interval for each series' horizon total.
3. Online Retail again, --single products forecast one at a time (what the assistant's tool does).
Prophet is an optional comparator: used only if it is importable.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()
warnings.filterwarnings("ignore")

from assistant.forecast import forecast_demand  # noqa: E402
from assistant.forecast.datasets import load_online_retail, load_us_retail, retail_weekly  # noqa: E402
from assistant.forecast.models import make_model  # noqa: E402
from assistant.forecast.result import ForecastResult  # noqa: E402
from assistant.scripting import nonneg_int, require_columns, require_file, run_script  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
US_DATA = SHARED / "us_retail_sales_monthly" / "example_retail_sales.csv"
RETAIL_DATA = SHARED / "online_retail" / "online_retail.csv.gz"


def scores(train: pd.DataFrame, test: pd.DataFrame, fc: pd.DataFrame, col: str, m: int) -> tuple[float, float]:
    """Mean MASE and mean sMAPE (%) over series."""
    merged = test.merge(fc[["unique_id", "ds", col]], on=["unique_id", "ds"], how="left")
    merged[col] = merged[col].fillna(0.0).clip(lower=0)
    mases, smapes = [], []
    hist = {k: g["y"].to_numpy() for k, g in train.groupby("unique_id")}
    for uid, g in merged.groupby("unique_id"):
        y, p = g["y"].to_numpy(), g[col].to_numpy()
        h = hist[uid]
        lag = m if len(h) > m else 1
        scale = np.abs(h[lag:] - h[:-lag]).mean() if len(h) > lag else np.nan
        if scale and np.isfinite(scale) and scale > 0:
            mases.append(np.abs(y - p).mean() / scale)
        den = np.abs(y) + np.abs(p)
        smapes.append(np.mean(np.where(den > 0, 2 * np.abs(y - p) / np.where(den > 0, den, 1), 0.0)) * 100)
    return float(np.mean(mases)), float(np.mean(smapes))


def run_models(train: pd.DataFrame, test: pd.DataFrame, h: int, freq: str, m: int, names: list[str],
               n_jobs: int, label: str) -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    print(f"\n== {label}: {train.unique_id.nunique()} series, train {train.ds.min().date()}..{train.ds.max().date()}, "
          f"test {h} periods ==")
    print(f"{'model':28s} {'MASE':>7s} {'sMAPE%':>8s} {'fit+predict s':>14s}")
    long_enough = train.groupby("unique_id").size().min() >= 2 * m  # seasonal fits need two full seasons
    for name in names:
        season = m if name in ("SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta") and long_enough else 1
        shown = f"{name}(m={season})" if season > 1 else name
        t0 = time.perf_counter()
        sf = StatsForecast(models=[make_model(name, season)], freq=freq, n_jobs=n_jobs, fallback_model=Naive())
        fc = sf.forecast(h=h, df=train[["unique_id", "ds", "y"]])
        dt = time.perf_counter() - t0
        mase, smape = scores(train, test, fc, name, m)
        print(f"{shown:28s} {mase:7.3f} {smape:8.2f} {dt:14.2f}")
    for select_by in ("group", "series"):
        t0 = time.perf_counter()
        res = forecast_demand(train, h, level=[80], freq=freq, mode="full" if len(names) > 5 else "fast",
                              on_short="naive", fill_gaps="zero", select_by=select_by, n_jobs=n_jobs)
        dt = time.perf_counter() - t0
        mase, smape = scores(train, test, res.frame, "yhat", m)
        inside = test.merge(res.frame, on=["unique_id", "ds"])
        cover = float(((inside.y >= inside.yhat_lo_80) & (inside.y <= inside.yhat_hi_80)).mean() * 100)
        print(f"{'auto (ours), CV per ' + select_by:28s} {mase:7.3f} {smape:8.2f} {dt:14.2f}   "
              f"80% PI coverage {cover:.1f}%; models: {res.to_dict(0)['models_used']}")
        total_interval_report(test, res)


def total_interval_report(test: pd.DataFrame, res: ForecastResult, summed: bool = True) -> None:
    """Coverage and interval score (alpha 0.2, relative to the actual total) of the 80% interval for
    each series' horizon total: ours (ForecastResult.totals) beside summing the per-step bounds."""
    y = test.groupby("unique_id")["y"].sum()
    ours = res.totals().set_index("unique_id").reindex(y.index)
    steps = res.frame.groupby("unique_id")[["yhat_lo_80", "yhat_hi_80"]].sum().reindex(y.index)
    shown = [("horizon total, ours", ours["total_lo_80"], ours["total_hi_80"])]
    if summed:
        shown.append(("horizon total, summed steps", steps["yhat_lo_80"], steps["yhat_hi_80"]))
    for name, lo, hi in shown:
        inside = float(((y >= lo) & (y <= hi)).mean() * 100)
        score = float(((hi - lo) + 10 * (lo - y).clip(lower=0) + 10 * (y - hi).clip(lower=0)).sum() / y.sum())
        print(f"{'  ' + name:28s} 80% interval coverage {inside:.1f}% (below {float((y < lo).mean() * 100):.1f}%, "
              f"above {float((y > hi).mean() * 100):.1f}%), interval score / actual total {score:.3f}")


def single_product_report(train: pd.DataFrame, test: pd.DataFrame, h: int, n: int, seed: int = 0) -> None:
    """Forecast ``n`` random products one at a time, as the assistant's forecast_demand tool and a small
    launch plan do: model choice then rests on one series' CV. Small groups get up to SMALL_GROUP_WINDOWS
    CV windows; shown beside the batch setting (2 windows) and the whole-batch group choice."""
    from assistant.forecast import demand

    lengths = train.groupby("unique_id").size()
    ids = np.random.default_rng(seed).choice(lengths[lengths >= 12].index.to_numpy(), n, replace=False)
    train = train[train["unique_id"].isin(ids)]
    test = test[test["unique_id"].isin(ids)]
    print(f"\n-- {n} products forecast one at a time (>= 12 weeks of history, seed {seed}) --")
    whole = forecast_demand(train, h, level=[80], on_short="naive", fill_gaps="zero")
    runs: list[tuple[str, ForecastResult]] = [(f"all {n} in one batch (group CV)", whole)]
    for label, small in (("alone, 2 CV windows", 0), (f"alone, up to {demand.SMALL_GROUP_WINDOWS} CV windows (ours)",
                                                     demand.SMALL_GROUP)):
        saved, demand.SMALL_GROUP = demand.SMALL_GROUP, small
        try:
            parts = [forecast_demand(train[train["unique_id"] == u], h, level=[80], on_short="naive", fill_gaps="zero")
                     for u in ids]
        finally:
            demand.SMALL_GROUP = saved
        frame = pd.concat([r.frame for r in parts], ignore_index=True)
        runs.append((label, ForecastResult(frame=frame, chosen={k: v for r in parts for k, v in r.chosen.items()},
                                           scores={}, history=train, freq=parts[0].freq, h=h, levels=[80],
                                           metric="mase", cv=pd.DataFrame(), patterns={}, notes=[])))
    for label, res in runs:
        mase, _ = scores(train, test, res.frame, "yhat", 52)
        used = pd.Series(res.chosen).value_counts().to_dict()
        print(f"{label:44s} MASE {mase:.3f}; models {used}")
        total_interval_report(test, res, summed=False)


def run_prophet(train: pd.DataFrame, test: pd.DataFrame, h: int, freq: str, m: int) -> None:
    try:
        from prophet import Prophet
    except ImportError:
        print(f"{'Prophet':28s} prophet not installed")
        return
    t0 = time.perf_counter()
    mdl = Prophet(yearly_seasonality=True, weekly_seasonality=False, daily_seasonality=False)
    mdl.fit(train[["ds", "y"]])
    fut = mdl.make_future_dataframe(periods=h, freq=freq, include_history=False)
    fc = mdl.predict(fut)[["ds", "yhat"]].assign(unique_id=train.unique_id.iloc[0])
    dt = time.perf_counter() - t0
    mase, smape = scores(train, test, fc, "yhat", m)
    print(f"{'Prophet':28s} {mase:7.3f} {smape:8.2f} {dt:14.2f}")


def split_last(df: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Same cutoff for every series: the last ``h`` dates of the data are the test periods."""
    cut = np.sort(df["ds"].unique())[-h]
    return df[df["ds"] < cut].reset_index(drop=True), df[df["ds"] >= cut].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--us", type=Path, default=US_DATA,
                    help="the US retail sales CSV (columns ds, y), or its folder (default: %(default)s)")
    ap.add_argument("--retail", type=Path, default=RETAIL_DATA,
                    help="online_retail.csv.gz or the folder holding it (default: %(default)s)")
    ap.add_argument("--n-jobs", type=int, default=2, help="statsforecast worker processes (-1: all cores)")
    ap.add_argument("--single", type=nonneg_int, default=150, help="products forecast one at a time (0: skip)")
    args = ap.parse_args()
    us_csv = require_file(args.us, "the US retail sales CSV", f"pass --us CSV or DIR (default {US_DATA})",
                          name=US_DATA.name)
    require_columns(us_csv, ["ds", "y"], "the US retail sales CSV (Prophet's example_retail_sales.csv)")
    retail_csv = require_file(args.retail, "the Online Retail CSV", f"pass --retail CSV or DIR (default {RETAIL_DATA})",
                              name=RETAIL_DATA.name)
    require_columns(retail_csv, ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice"],
                    "the Online Retail CSV")

    us = load_us_retail(us_csv)
    tr, te = split_last(us, 24)
    run_models(tr, te, 24, "MS", 12, ["SeasonalNaive", "Naive", "AutoETS", "AutoARIMA", "AutoTheta", "HistoricAverage"],
               1, "US monthly retail sales (hold out 24 months)")
    run_prophet(tr, te, 24, "MS", 12)

    weekly = retail_weekly(load_online_retail(retail_csv))
    tr, te = split_last(weekly, 8)
    te = te[te["unique_id"].isin(set(tr["unique_id"]))]
    run_models(tr, te, 8, "W-MON", 52, ["Naive", "HistoricAverage", "AutoETS", "CrostonOptimized", "ADIDA"],
               args.n_jobs, "Online Retail weekly units per product (hold out 8 weeks; <1 year of history, so "
               "seasonal naive m=52 is not possible: Naive is the seasonal-naive stand-in)")
    if args.single:
        single_product_report(tr, te, 8, args.single)


if __name__ == "__main__":
    run_script(main)
