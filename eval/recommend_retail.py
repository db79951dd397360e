"""Recommendation quality on the UCI Online Retail transactions (UK gift retailer, 2010-12 .. 2011-12).

Clean sales only (Quantity > 0, UnitPrice > 0, known CustomerID, StockCode starting with 5 digits).
Time split: train = invoices before 2011-09-01, test = on/after.

1. Existing items: for each customer known in train, rank the train items they have not bought yet;
   recall@10 (hits / min(10, |test items|)) and NDCG@10 against the items they bought in the test period,
   ALS (implicit) vs popularity (most customers in train).
2. New items (first sold on/after 2011-09-01, >= 5 buyers among train customers): rank ALL train customers
   by the cold-start model from the item's description only; recall@100 of the actual buyers, vs random
   and popularity (customers ranked by how many products they bought). The blend weights are chosen on a
   validation split inside the train period (fit before 2011-07-01, pseudo-new items first sold
   2011-07-01 .. 2011-08-31), never on the test period.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python eval/recommend_retail.py [--data ../shared/data/online_retail]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from assistant.scripting import require_columns, require_file, run_script  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "online_retail"
RETAIL = "the Online Retail CSV"
RETAIL_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
                  "Country"]
SPLIT = pd.Timestamp("2011-09-01")
VAL_SPLIT = pd.Timestamp("2011-07-01")
MIN_BUYERS = 5


def load(path: Path) -> pd.DataFrame:
    f = path / "online_retail.csv.gz" if path.is_dir() else path
    df = pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
                     parse_dates=["InvoiceDate"])
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0) & df["CustomerID"].notna()
            & df["StockCode"].str.match(r"^\d{5}")]
    return pd.DataFrame({"customer_id": df["CustomerID"].astype(str), "product_id": df["StockCode"].str.upper(),
                         "ts": df["InvoiceDate"], "quantity": df["Quantity"], "country": df["Country"],
                         "description": df["Description"].fillna("").str.strip()})


def cold_eval(model, emb_of, tx_after: pd.DataFrame, first_sale: pd.Series, start, end, blends, k=100):  # type: ignore[no-untyped-def]
    """Mean recall@k of real buyers for items first sold in [start, end); one entry per blend name."""
    known = set(model.customers)
    new_items = first_sale[(first_sale >= start) & (first_sale < end)].index
    sub = tx_after[tx_after["product_id"].isin(new_items) & tx_after["customer_id"].isin(known)]
    buyers = sub.groupby("product_id")["customer_id"].apply(set)
    buyers = buyers[buyers.apply(len) >= MIN_BUYERS]
    cidx = {c: i for i, c in enumerate(model.customers)}
    res: dict[str, list[float]] = {name: [] for name in blends}
    for pid, bset in buyers.items():
        truth = np.zeros(len(model.customers), dtype=bool)
        truth[[cidx[c] for c in bset]] = True
        parts = model.cold_parts(emb_of[pid])
        for name, w in blends.items():
            s = sum(w.get(p, 0.0) * v for p, v in parts.items())
            top = np.argpartition(-s, k - 1)[:k]
            res[name].append(truth[top].sum() / truth.sum())
    return {n: float(np.mean(v)) for n, v in res.items()}, len(buyers), float(np.mean([len(b) for b in buyers]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="the Online Retail folder or its online_retail.csv.gz (default: %(default)s)")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "merch-assistant-cache",
                    help="folder for cached item-text embeddings (default: %(default)s)")
    args = ap.parse_args()
    data = require_file(args.data, RETAIL, f"pass --data DIR or CSV (default {DEFAULT_DATA})",
                        name="online_retail.csv.gz")
    require_columns(data, RETAIL_COLUMNS, RETAIL)

    import torch

    from assistant.index.embedder import get_embedder
    from assistant.recommend.model import HybridRecommender
    from assistant.sentiment.features import embed_cached

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    tx = load(data)
    names = (tx.groupby(["product_id", "description"]).size().rename("n").reset_index()
             .sort_values(["product_id", "n"], ascending=[True, False]).drop_duplicates("product_id")
             .set_index("product_id")["description"])
    first_sale = tx.groupby("product_id")["ts"].min()
    train, test = tx[tx["ts"] < SPLIT], tx[tx["ts"] >= SPLIT]
    print(f"dataset: {args.data} — {len(tx)} clean sales lines, {tx['customer_id'].nunique()} customers, "
          f"{tx['product_id'].nunique()} products ({time.perf_counter() - t0:.1f} s)")
    print(f"split {SPLIT.date()}: train {len(train)} lines / {train['customer_id'].nunique()} customers / "
          f"{train['product_id'].nunique()} products; test {len(test)} lines")

    embedder = get_embedder()
    ids = names.index.tolist()
    vecs = embed_cached([names[p] for p in ids], embedder, args.cache_dir)
    emb_of = dict(zip(ids, vecs, strict=True))
    print(f"item text embeddings: {embedder!r}, {vecs.shape}")

    # ---- blend weights on a validation split inside the train period
    t0 = time.perf_counter()
    val_model = HybridRecommender.fit(train[train["ts"] < VAL_SPLIT], {}, None, item_embeddings=emb_of)
    grid = {f"c{c}_k{k}_r{r}_a{a}": {"content": c, "knn": k, "ridge": r, "activity": a}
            for c, k, r, a in itertools.product((0.0, 0.5, 1.0), (0.0, 0.5, 1.0), (0.0, 0.5, 1.0), (0.0, 0.5, 1.0))
            if c or k or r or a}
    val, n_val, _ = cold_eval(val_model, emb_of, train[train["ts"] >= VAL_SPLIT], first_sale, VAL_SPLIT, SPLIT, grid)
    best = max(val, key=lambda n: val[n])
    print(f"validation (fit before {VAL_SPLIT.date()}, {n_val} pseudo-new items): best blend {grid[best]} "
          f"recall@100 {val[best]:.4f} ({len(grid)} blends tried, {time.perf_counter() - t0:.1f} s)")

    # ---- fit on the full train period
    t0 = time.perf_counter()
    model = HybridRecommender.fit(train, {}, None, item_embeddings=emb_of, blend=grid[best])
    print(f"ALS fit (64 factors, 15 iterations, 1 thread) + content model: {time.perf_counter() - t0:.1f} s")

    # ---- 1. existing items
    cidx = {c: i for i, c in enumerate(model.customers)}
    iidx = {p: i for i, p in enumerate(model.items)}
    t = test[test["customer_id"].isin(cidx) & test["product_id"].isin(iidx)]
    truth = t.groupby("customer_id")["product_id"].apply(lambda s: {iidx[p] for p in s})
    seen = model.user_items
    pop = np.asarray((seen > 0).sum(axis=0)).ravel().astype(float)
    rec_als, rec_pop, nd_als, nd_pop = [], [], [], []
    disc = 1.0 / np.log2(np.arange(2, 12))
    for cust, items in truth.items():
        u = cidx[cust]
        bought = set(seen[u].indices.tolist())
        items = items - bought
        if not items:
            continue
        for scores, rl, nl in ((model.item_factors @ model.user_factors[u], rec_als, nd_als), (pop.copy(), rec_pop, nd_pop)):
            scores[list(bought)] = -np.inf
            top = np.argpartition(-scores, 9)[:10]
            top = top[np.argsort(-scores[top])]
            hits = np.array([i in items for i in top], dtype=float)
            rl.append(hits.sum() / min(10, len(items)))
            nl.append((hits * disc).sum() / disc[: min(10, len(items))].sum())
    print(f"\n1. EXISTING ITEMS — {len(rec_als)} customers with new purchases of known items after the split")
    print(f"   ALS         recall@10 {np.mean(rec_als):.4f}  NDCG@10 {np.mean(nd_als):.4f}")
    print(f"   popularity  recall@10 {np.mean(rec_pop):.4f}  NDCG@10 {np.mean(nd_pop):.4f}")

    # ---- 2. new items (cold start)
    named = {"blend (chosen on validation)": grid[best], "content only (profile cosine)": {"content": 1.0},
             "content only (text kNN)": {"knn": 1.0},
             "ridge->ALS only": {"ridge": 1.0}, "popularity (customer activity)": {"activity": 1.0}}
    res, n_items, mean_buyers = cold_eval(model, emb_of, test, first_sale, SPLIT, pd.Timestamp("2100-01-01"), named)
    n_c = len(model.customers)
    rng = np.random.default_rng(0)
    rand = []
    known = set(model.customers)
    sub = test[test["product_id"].isin(first_sale[first_sale >= SPLIT].index) & test["customer_id"].isin(known)]
    for _pid, b in sub.groupby("product_id")["customer_id"].apply(set).items():
        if len(b) >= MIN_BUYERS:
            pick = set(rng.choice(model.customers, 100, replace=False).tolist())
            rand.append(len(pick & b) / len(b))
    print(f"\n2. NEW ITEMS — {n_items} products first sold after the split with >= {MIN_BUYERS} buyers among the "
          f"{n_c} train customers (mean {mean_buyers:.1f} buyers); rank all {n_c} customers, recall@100:")
    for name, v in res.items():
        print(f"   {name:32s} {v:.4f}")
    print(f"   {'random (seed 0)':32s} {np.mean(rand):.4f}  (expected 100/{n_c} = {100 / n_c:.4f})")


if __name__ == "__main__":
    run_script(main)
