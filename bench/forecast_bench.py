"""Forecast speed: batch demand forecast for all Online Retail weekly series, and per-request latency
of forecast_new_product (VISUELLE history, real MiniLM embedder).

    .venv/bin/python bench/forecast_bench.py [--retail online_retail.csv.gz] [--visuelle train.csv]
                                             [--n-jobs 2] [--requests 50]

Also the latency of one product's demand forecast (what the assistant's tool runs per question).
Targets: batch fit+predict of ~3,900 series < 60 s on 2 cores. Ratios are against a Naive-only run in the
same process.
"""

from __future__ import annotations

import argparse
import os
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
from assistant.forecast.datasets import (  # noqa: E402
    VISUELLE_COLUMNS,
    VISUELLE_WEEKS,
    load_online_retail,
    load_visuelle,
    retail_weekly,
)
from assistant.forecast.launch import forecast_new_product  # noqa: E402
from assistant.forecast.newproduct import NewProductConfig, NewProductModel, default_embedder  # noqa: E402
from assistant.scripting import positive_int, require_columns, require_file, run_script  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RETAIL_DATA = SHARED / "online_retail" / "online_retail.csv.gz"
VISUELLE_DATA = SHARED / "visuelle_new_product_sales" / "train.csv"


def bench_batch(path: Path, n_jobs: int) -> None:
    t0 = time.perf_counter()
    weekly = retail_weekly(load_online_retail(path))
    print(f"Online Retail weekly: {weekly.unique_id.nunique()} series, {len(weekly)} rows "
          f"(load+aggregate {time.perf_counter() - t0:.1f}s; cpu count {os.cpu_count()})")
    warm = weekly[weekly["unique_id"].isin(weekly["unique_id"].unique()[:3])]
    forecast_demand(warm, 2, models=["AutoETS"], select=False, on_short="naive")  # imports + numba warm-up
    t0 = time.perf_counter()
    forecast_demand(weekly, 8, models=["Naive"], select=False, on_short="naive", level=[80, 95], n_jobs=n_jobs)
    naive = time.perf_counter() - t0
    print(f"  baseline Naive only, h=8, 2 levels, n_jobs={n_jobs}: {naive:.1f}s")
    for jobs in (n_jobs, 1) if n_jobs != 1 else (1,):
        t0 = time.perf_counter()
        res = forecast_demand(weekly, 8, on_short="naive", level=[80, 95], n_jobs=jobs)
        dt = time.perf_counter() - t0
        print(f"  auto (ETS/Naive/ADIDA + Croston/ADIDA/Naive for intermittent, 2-window CV selection, intervals), "
              f"n_jobs={jobs}: {dt:.1f}s  ({dt / naive:.1f}x Naive; target < 60 s) models: "
              f"{res.to_dict(0)['models_used']}")
    bench_one_product(weekly, 30)


def bench_one_product(weekly: pd.DataFrame, requests: int) -> None:
    """Latency of one product's forecast, as the assistant's forecast_demand tool makes it: a group of one
    gets up to 6 CV windows (demand.SMALL_GROUP_WINDOWS) instead of the batch's 2."""
    lengths = weekly.groupby("unique_id").size()
    ids = np.random.default_rng(0).choice(lengths[lengths >= 12].index.to_numpy(), requests, replace=False)
    print(f"\nOne product per request (h=8, 2 levels, n_jobs=1), {requests} random products with >= 12 weeks:")
    for label, kw in (("baseline Naive only", {"models": ["Naive"], "select": False}),
                      ("auto, CV selection (what the tool runs)", {})):
        ms = []
        for uid in ids:
            t0 = time.perf_counter()
            forecast_demand(weekly[weekly["unique_id"] == uid], 8, level=[80, 95], on_short="naive", **kw)
            ms.append((time.perf_counter() - t0) * 1000)
        print(f"  {label:42s} p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms")


def bench_new_product(path: Path, requests: int) -> None:
    import torch

    torch.set_num_threads(1)
    vis = load_visuelle(path)
    prods = vis.rename(columns={"external_code": "product_id", "release_date": "launch_date"})
    t0 = time.perf_counter()
    emb = default_embedder()
    model = NewProductModel(NewProductConfig(n_threads=1), embedder=emb,
                            attributes=["category", "color", "fabric", "extra"]).fit(prods, vis[VISUELLE_WEEKS].to_numpy())
    print(f"\nNewProductModel fit on {len(vis)} VISUELLE products (with MiniLM): {time.perf_counter() - t0:.1f}s")
    rng = np.random.default_rng(0)
    cats, cols, fabs = vis.category.unique(), vis.color.unique(), vis.fabric.unique()
    for label, mdl in (("with text embedding", model),):
        lat = []
        for i in range(requests + 3):
            product = {"category": str(rng.choice(cats)), "color": str(rng.choice(cols)),
                       "fabric": str(rng.choice(fabs)), "extra": "hem", "launch_date": "2019-11-04",
                       "title": f"new item {i}"}
            t0 = time.perf_counter()
            forecast_new_product(product, mdl, horizon=12)
            if i >= 3:  # warm-up
                lat.append(time.perf_counter() - t0)
        ms = np.array(lat) * 1000
        print(f"  forecast_new_product ({label}, 1 thread), {requests} requests: p50 {np.percentile(ms, 50):.1f} ms, "
              f"p95 {np.percentile(ms, 95):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--retail", type=Path, default=RETAIL_DATA,
                    help="online_retail.csv.gz or the folder holding it (default: %(default)s)")
    ap.add_argument("--visuelle", type=Path, default=VISUELLE_DATA,
                    help="VISUELLE train.csv or the folder holding it (default: %(default)s)")
    ap.add_argument("--n-jobs", type=int, default=2, help="statsforecast worker processes (-1: all cores)")
    ap.add_argument("--requests", type=positive_int, default=50, help="forecast_new_product requests timed")
    args = ap.parse_args()
    retail = require_file(args.retail, "the Online Retail CSV", f"pass --retail CSV or DIR (default {RETAIL_DATA})",
                          name=RETAIL_DATA.name)
    require_columns(retail, ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice"],
                    "the Online Retail CSV")
    visuelle = require_file(args.visuelle, "the VISUELLE train.csv",
                            f"pass --visuelle CSV or DIR (default {VISUELLE_DATA})", name=VISUELLE_DATA.name)
    require_columns(visuelle, VISUELLE_COLUMNS, "the VISUELLE train.csv")
    bench_batch(retail, args.n_jobs)
    bench_new_product(visuelle, args.requests)


if __name__ == "__main__":
    run_script(main)
