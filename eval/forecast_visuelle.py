"""New-product (cold-start) sales forecasting on VISUELLE: first 12 weeks of sales of new fashion items.

    .venv/bin/python eval/forecast_visuelle.py [--train TRAIN.csv] [--test TEST.csv] [--trends gtrends.csv|'']

Without --test the script holds out the latest season by release date (AW19 in train.csv) as the
validation slice (score it once: the config below was chosen on rolling-origin folds of the earlier
seasons; ``--tune`` re-chooses among a few configs on such folds of whatever training part is given). Prints WAPE = 100*sum|y-yhat|/sum(y) over all products x weeks and
MAE x 1065 (normalised units x the VISUELLE de-normalisation factor), beside a category-mean-curve and
an attribute-kNN baseline computed in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

from assistant.forecast import analogues as A  # noqa: E402
from assistant.forecast.datasets import VISUELLE_COLUMNS, VISUELLE_WEEKS, load_visuelle  # noqa: E402
from assistant.forecast.newproduct import NewProductConfig, NewProductModel  # noqa: E402
from assistant.scripting import require_columns, require_file, run_script  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "visuelle_new_product_sales"
VISUELLE = "a VISUELLE train.csv / test.csv"
ATTRS = ["category", "color", "fabric", "extra"]
# Chosen by rolling-origin validation on SS17..SS19 (4 chunks of 500 products by release date, each
# forecast from all earlier releases; AW19 untouched): the boosted model alone (blend 1.0) beats any kNN
# blend, a 100-launch level window tracks the drifting sales level better than 300, the text embedding of
# "color fabric category extra" adds nothing over exact attribute matches, and an L1 fit on
# log1p(curve) (a median forecast) edges out the raw L1 fit.
VISUELLE_CONFIG: dict[str, Any] = {"blend": 1.0, "level_window": 100, "text_weight": 0.0, "log_target": True}
INNER_FOLDS, INNER_SIZE = 2, 500
TUNE_GRID: list[dict[str, Any]] = [{}, {"min_child_samples": 100, "num_leaves": 15}, {"level_window": 300}]


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    return float(100 * np.abs(y - yhat).sum() / y.sum())


def mae(y: np.ndarray, yhat: np.ndarray) -> float:
    return float(np.abs(y - yhat).mean() * 1065)


def rolling_origin(df: pd.DataFrame, folds: int = INNER_FOLDS, size: int = INNER_SIZE,
                   ) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Inner folds by release date: the last ``folds`` chunks of ``size`` products, each forecast from
    all products released before the chunk's first release date."""
    d = df.sort_values(["release_date", "external_code"], kind="stable").reset_index(drop=True)
    out = []
    for i in range(folds):
        end = len(d) - i * size
        va = d.iloc[max(end - size, 0): end]
        tr = d.iloc[: max(end - size, 0)]
        tr = tr[tr["release_date"] < va["release_date"].min()]
        if len(tr) >= 100:
            out.append((tr.reset_index(drop=True), va.reset_index(drop=True)))
    return out


def split_latest_season(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validation = the season holding the latest release date; training = the other seasons."""
    last = df["season"].iloc[int(np.argmax(df["release_date"].to_numpy()))]
    return df[df["season"] != last].reset_index(drop=True), df[df["season"] == last].reset_index(drop=True)


def products(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"product_id": df["external_code"], "launch_date": df["release_date"],
                         **{c: df[c] for c in ATTRS}})


def category_mean(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    means = train.groupby("category")[VISUELLE_WEEKS].mean()
    overall = train[VISUELLE_WEEKS].mean().to_numpy()
    return np.vstack([means.loc[c].to_numpy() if c in means.index else overall for c in test["category"]])


def attribute_knn(train: pd.DataFrame, test: pd.DataFrame, k: int) -> np.ndarray:
    """Mean curve of the k training products sharing most attributes (category, color, fabric)."""
    cols = ["category", "color", "fabric"]
    enc = A.AttributeEncoder.fit(train, cols, weights=dict.fromkeys(cols, 1.0))
    sim = enc.transform(test) @ enc.transform(train).T
    sim = sim + 1e-6 * np.arange(sim.shape[1])[None, ::-1] / sim.shape[1]  # deterministic tie-break
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return train[VISUELLE_WEEKS].to_numpy()[idx].mean(axis=1)


def fit_predict(train: pd.DataFrame, test: pd.DataFrame, trends: pd.DataFrame | None, cfg: NewProductConfig,
                embedder: object) -> tuple[NewProductModel, np.ndarray, np.ndarray, np.ndarray]:
    model = NewProductModel(cfg, embedder=embedder, attributes=ATTRS)
    model.fit(products(train), train[VISUELLE_WEEKS].to_numpy(), trends=trends)
    pred = model.predict(products(test))
    return model, pred.yhat, pred.lo, pred.hi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, default=DATA / "train.csv",
                    help="VISUELLE train.csv (a file; default: %(default)s)")
    ap.add_argument("--test", type=Path, default=None,
                    help="VISUELLE test.csv (a file; default: hold out the latest season of --train)")
    ap.add_argument("--trends", default=str(DATA / "gtrends.csv"),
                    help="VISUELLE gtrends.csv, Google Trends per attribute (a file; '' for none; "
                         "default: %(default)s)")
    ap.add_argument("--no-text", action="store_true",
                    help="no MiniLM text embeddings. The tuned config (VISUELLE_CONFIG) already gives text weight 0, "
                         "so this changes results only with a config that uses text")
    ap.add_argument("--tune", action="store_true",
                    help="choose among a few configs by rolling-origin validation inside the training part")
    args = ap.parse_args()
    require_columns(require_file(args.train, VISUELLE, f"pass --train CSV (default {DATA / 'train.csv'})"),
                    VISUELLE_COLUMNS, VISUELLE)
    if args.test:
        require_columns(require_file(args.test, VISUELLE, "pass --test CSV"), VISUELLE_COLUMNS, VISUELLE)
    trends_csv = None
    if args.trends:
        trends_csv = require_file(args.trends, "the VISUELLE gtrends.csv",
                                  f"pass --trends CSV (default {DATA / 'gtrends.csv'}), or --trends '' for none")
        require_columns(trends_csv, ["date"], "the VISUELLE gtrends.csv")

    train = load_visuelle(args.train)
    if args.test:
        test = load_visuelle(args.test)
        split_note = f"train={args.train.name} ({len(train)}), test={args.test.name} ({len(test)})"
    else:
        train, test = split_latest_season(train)
        split_note = (f"release-date split of {args.train.name}: train seasons {sorted(train.season.unique())} "
                      f"({len(train)}), validation {sorted(test.season.unique())} ({len(test)})")
    trends = pd.read_csv(trends_csv) if trends_csv else None
    embedder = None
    if not args.no_text and VISUELLE_CONFIG.get("text_weight", 0.5) > 0:
        import torch

        torch.set_num_threads(1)
        from assistant.forecast.newproduct import default_embedder

        embedder = default_embedder()
    print(f"VISUELLE new-product forecast, 12 weeks; {split_note}; trends={'yes' if trends is not None else 'no'}; "
          f"text={'on' if embedder is not None else 'off'}")

    base = NewProductConfig(n_threads=1, **{**VISUELLE_CONFIG, "use_text": not args.no_text})
    best = base
    if args.tune:  # rolling-origin validation inside the training part only (by release date)
        print(f"rolling-origin inner validation: {INNER_FOLDS} chunks of {INNER_SIZE} products by release date")
        results = []
        for g in TUNE_GRID:
            cfg = NewProductConfig(**{**base.__dict__, **g})
            scores = []
            for inner_tr, inner_va in rolling_origin(train):
                _, yh, _, _ = fit_predict(inner_tr, inner_va, trends, cfg, embedder)
                scores.append(wape(inner_va[VISUELLE_WEEKS].to_numpy(), yh))
            results.append((float(np.mean(scores)), g))
            print(f"  {g}: inner WAPE {results[-1][0]:.2f} ({', '.join(f'{x:.2f}' for x in scores)})")
        score, params = min(results, key=lambda r: r[0])
        best = NewProductConfig(**{**base.__dict__, **params})
        print(f"chosen on inner folds: {params} (mean inner WAPE {score:.2f})")

    y = test[VISUELLE_WEEKS].to_numpy()
    t0 = time.perf_counter()
    _, yhat, lo, hi = fit_predict(train, test, trends, best, embedder)
    fit_s = time.perf_counter() - t0
    rows = [
        ("category-mean curve", category_mean(train, test)),
        ("attribute kNN (k=20)", attribute_knn(train, test, 20)),
        ("analogues + LightGBM (ours)", yhat),
    ]
    print(f"\n{'method':34s} {'WAPE':>7s} {'MAE x1065':>10s}")
    for name, pred in rows:
        print(f"{name:34s} {wape(y, pred):7.2f} {mae(y, pred):10.2f}")
    tot, tlo, thi = y.sum(axis=1), lo.sum(axis=1), hi.sum(axis=1)
    cover = float(np.mean((tot >= tlo) & (tot <= thi)) * 100)
    print(f"\n{best.level}% interval on the 12-week total: coverage {cover:.1f}% of {len(test)} products; "
          f"fit+predict {fit_s:.1f}s")
    print("reference (GTM-Transformer paper, its own test split): attribute kNN ~59-62 WAPE, GTM-Transformer 55.2")


if __name__ == "__main__":
    run_script(main)
