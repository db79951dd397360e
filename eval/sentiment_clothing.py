"""Review-sentiment accuracy on the Women's E-Commerce Clothing Reviews (23,486 reviews, 1,206 products).

Split: rows with non-empty review text, 80/20 by Clothing ID (GroupShuffleSplit, seed 42) so no product
is in both parts. Input text = "<Title>. <Review Text>" for every model. Rows printed on the TEST part:
  * TF-IDF (word 1-2 grams) + logistic regression with default settings (baseline),
  * the shipped model (features "stack": word 1-3 + char_wb 2-5 TF-IDF, stacked ordinal heads; see
    assistant/sentiment/stack.py) with its two decision rules: the rule chosen for macro-F1 (argmax, prior
    adjustment or per-class biases, rules.choose_biases) on
    out-of-fold predictions of the TRAIN part, and plain argmax (max accuracy),
  * the previous single-head TF-IDF model (C / class weighting / biases chosen on a grouped validation split
    of the TRAIN part),
  * with --with-embeddings, the MiniLM-embedding + TF-IDF single-head model (slow: ~30 reviews/s on CPU).
Throughput: raw texts in, all predictions out, one thread; wall-clock and CPU-time rates.
Reference (literature): BERT-base 5-class accuracy 0.68 / macro-F1 0.56.

    .venv/bin/python eval/sentiment_clothing.py [--data ../shared/data/womens_clothing_reviews]

Embeddings (only with --with-embeddings) are cached in --cache-dir (default: <tmp>/merch-assistant-cache).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

import numpy as np  # noqa: E402

from assistant.scripting import positive_int, require_columns, require_file, run_script  # noqa: E402
from assistant.sentiment.datasets import CLOTHING_CSV  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_reviews"
CLOTHING = "the Women's Clothing Reviews CSV"
CLOTHING_COLUMNS = ["Clothing ID", "Title", "Review Text", "Rating", "Recommended IND"]


def _rates(fn: object, sample: list[str], repeats: int = 3) -> tuple[float, float]:
    """(wall-clock, CPU-time) reviews/s of ``fn(sample)``, best of ``repeats`` (the machine is shared)."""
    fn(sample[:32])  # type: ignore[operator]  # warm-up
    best_w = best_c = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn(sample)  # type: ignore[operator]
        best_w, best_c = min(best_w, time.perf_counter() - w0), min(best_c, time.process_time() - c0)
    return len(sample) / best_w, len(sample) / max(best_c, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="the Women's Clothing Reviews folder or its CSV (default: %(default)s)")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "merch-assistant-cache")
    ap.add_argument("--threads", type=positive_int, default=1, help="torch threads for embedding")
    ap.add_argument("--throughput-n", type=positive_int, default=1000, help="test reviews timed for throughput")
    ap.add_argument("--with-embeddings", action="store_true",
                    help="also train/evaluate the MiniLM-embedding + TF-IDF model (slow on CPU)")
    args = ap.parse_args()
    data = require_file(args.data, CLOTHING, f"pass --data DIR or CSV (default {DEFAULT_DATA})", name=CLOTHING_CSV)
    require_columns(data, CLOTHING_COLUMNS, CLOTHING)

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    from assistant.sentiment.datasets import clothing_split, load_clothing_reviews
    from assistant.sentiment.features import make_tfidf
    from assistant.sentiment.model import rating_to_sentiment, train_sentiment_model

    path, df, texts, n_raw = load_clothing_reviews(data)
    y5 = df["Rating"].to_numpy(int)
    y3 = rating_to_sentiment(y5)
    rec = df["Recommended IND"].to_numpy(int)
    groups = df["Clothing ID"].to_numpy()
    tr, te = clothing_split(df)
    print(f"dataset: {path} — {n_raw} rows, {len(df)} with review text, "
          f"{df['Clothing ID'].nunique()} products")
    print(f"split: GroupShuffleSplit by Clothing ID, seed 42 -> train {len(tr)} reviews "
          f"({len(set(groups[tr]))} products), test {len(te)} reviews ({len(set(groups[te]))} products)")
    print("test rating distribution:", {int(k): int(v) for k, v in zip(*np.unique(y5[te], return_counts=True),
                                                                        strict=True)})
    t_tr, t_te = [texts[i] for i in tr], [texts[i] for i in te]

    # ---- baseline: TF-IDF + LR, default settings
    t0 = time.perf_counter()
    tf = make_tfidf().fit(t_tr)
    x_tr, x_te = tf.transform(t_tr), tf.transform(t_te)
    base_heads = {
        "rating": LogisticRegression(max_iter=2000).fit(x_tr, y5[tr]),
        "sent": LogisticRegression(max_iter=2000).fit(x_tr, y3[tr]),
        "rec": LogisticRegression(max_iter=2000).fit(x_tr, rec[tr]),
    }
    base = {k: h.predict(x_te) for k, h in base_heads.items()}
    print(f"baseline trained in {time.perf_counter() - t0:.1f} s")

    # ---- shipped model: stacked ordinal heads on word+char TF-IDF
    t0 = time.perf_counter()
    print("stacked model: out-of-fold (GroupKFold by Clothing ID) on the train part only:")
    model = train_sentiment_model(t_tr, y5[tr], rec[tr], groups=groups[tr], feature_sets=("stack",), log=print)
    print(f"stacked model trained in {time.perf_counter() - t0:.1f} s; rating_bias={model.params['rating_bias']} "
          f"sentiment_bias={model.params['sentiment_bias']} recommend_threshold={model.recommend_threshold}")
    pred = model.predict_arrays(t_te)

    # ---- previous default: single TF-IDF head, chosen on a grouped validation split of the train part
    t0 = time.perf_counter()
    single = train_sentiment_model(t_tr, y5[tr], rec[tr], groups=groups[tr], feature_sets=("tfidf",))
    print(f"single-head TF-IDF model trained in {time.perf_counter() - t0:.1f} s; C={single.params['C']} "
          f"class_weight={single.params['class_weight']}")
    pred_single = single.predict_arrays(t_te)

    def row(name: str, p5: np.ndarray, p3: np.ndarray, pr: np.ndarray) -> None:
        print(f"{name:34s} 5-class acc {accuracy_score(y5[te], p5):.4f} macro-F1 {f1_score(y5[te], p5, average='macro'):.4f} | "
              f"3-class acc {accuracy_score(y3[te], p3):.4f} macro-F1 {f1_score(y3[te], p3, average='macro'):.4f} | "
              f"recommend acc {accuracy_score(rec[te], pr):.4f} F1 {f1_score(rec[te], pr):.4f} "
              f"macro-F1 {f1_score(rec[te], pr, average='macro'):.4f}")

    print(f"\nTEST ({len(te)} reviews of {len(set(groups[te]))} unseen products)")
    row("TF-IDF+LR baseline", base["rating"], base["sent"], base["rec"])
    row("stack, chosen rule (default)", pred["rating_class"], pred["sentiment"], pred["recommend"])
    row("stack, argmax rule (max accuracy)", pred["rating_class_argmax"], pred["sentiment_argmax"],
        (pred["recommend_proba"] >= 0.5).astype(int))
    row("single-head TF-IDF (previous)", pred_single["rating_class"], pred_single["sentiment"], pred_single["recommend"])
    emb_model = None
    if args.with_embeddings:
        import torch

        from assistant.config import get_settings
        from assistant.index.embedder import SentenceTransformerEmbedder
        from assistant.sentiment.features import embed_cached

        torch.set_num_threads(args.threads)
        embedder = SentenceTransformerEmbedder(get_settings().embedding_model, dtype="float32")
        emb = embed_cached(texts, embedder, args.cache_dir)
        emb_model = train_sentiment_model(t_tr, y5[tr], rec[tr], embedder=embedder, embeddings=emb[tr],
                                          groups=groups[tr], feature_sets=("emb+tfidf",))
        pe = emb_model.predict_arrays(t_te, emb=emb[te])
        row("MiniLM emb+TF-IDF single head", pe["rating_class"], pe["sentiment"], pe["recommend"])
    print(f"stack rating estimate (expected stars) MAE {np.abs(pred['rating'] - y5[te]).mean():.4f}")
    print("reference: BERT-base 5-class accuracy 0.68 / macro-F1 0.56")

    # ---- throughput: raw texts in, predictions out, one thread
    n = min(args.throughput_n, len(te))
    sample = t_te[:n]

    def baseline_predict(texts_: list[str]) -> None:
        xs = tf.transform(texts_)
        for h in base_heads.values():
            h.predict(xs)

    rates = {"stack (default)": _rates(model.predict_arrays, sample),
             "single-head TF-IDF": _rates(single.predict_arrays, sample),
             "TF-IDF+LR baseline": _rates(baseline_predict, sample)}
    if emb_model is not None:
        rates["MiniLM emb+TF-IDF"] = _rates(emb_model.predict_arrays, sample[:200], repeats=1)
    print(f"\nthroughput on {n} test reviews, 1 thread (best of 3; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores): " + "; ".join(f"{k} {w:.0f} reviews/s wall, {c:.0f}/s CPU time"
                                                  for k, (w, c) in rates.items()))


if __name__ == "__main__":
    run_script(main)
