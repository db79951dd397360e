"""Review-sentiment accuracy on the Women's E-Commerce Clothing Reviews (23,486 reviews, 1,206 products).

Split: rows with non-empty review text, 80/20 by Clothing ID (GroupShuffleSplit, seed 42) so no product
is in both parts. The model (assistant.sentiment.model) chooses its features / C / class weighting on a
grouped validation split of the TRAIN part only. Baseline in the same run: TF-IDF (word 1-2 grams) +
logistic regression with default settings. Input text = "<Title>. <Review Text>" for both.
Reference (literature): BERT-base 5-class accuracy 0.68 / macro-F1 0.56.

    .venv/bin/python eval/sentiment_clothing.py [--data ../shared/data/womens_clothing_reviews]

Embeddings are cached in --cache-dir (default: <tmp>/merch-assistant-cache), so reruns are fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_k, _v)
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_reviews"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder or CSV of the clothing reviews")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "merch-assistant-cache")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for embedding")
    ap.add_argument("--throughput-n", type=int, default=1000)
    ap.add_argument("--train-dtype", default="float32", choices=["float32", "bfloat16"],
                    help="embedding dtype for the training/test features (default float32)")
    ap.add_argument("--infer-dtype", default="auto", choices=["auto", "float32", "bfloat16"],
                    help="embedding dtype for the deployment check and throughput (auto = bf16 where fast)")
    args = ap.parse_args()

    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupShuffleSplit

    from assistant.config import get_settings
    from assistant.index.embedder import SentenceTransformerEmbedder, resolve_dtype
    from assistant.sentiment.features import embed_cached, make_tfidf, review_text
    from assistant.sentiment.model import rating_to_sentiment, train_sentiment_model

    torch.set_num_threads(args.threads)
    path = args.data / "Womens_Clothing_E-Commerce_Reviews.csv" if args.data.is_dir() else args.data
    raw = pd.read_csv(path)
    df = raw[raw["Review Text"].fillna("").str.strip() != ""].reset_index(drop=True)
    texts = [review_text(t, x) for t, x in zip(df["Title"], df["Review Text"], strict=True)]
    y5 = df["Rating"].to_numpy(int)
    y3 = rating_to_sentiment(y5)
    rec = df["Recommended IND"].to_numpy(int)
    groups = df["Clothing ID"].to_numpy()
    tr, te = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=42).split(texts, y5, groups))
    print(f"dataset: {path} — {len(raw)} rows, {len(df)} with review text, {df['Clothing ID'].nunique()} products")
    print(f"split: GroupShuffleSplit by Clothing ID, seed 42 -> train {len(tr)} reviews "
          f"({len(set(groups[tr]))} products), test {len(te)} reviews ({len(set(groups[te]))} products)")
    print("test rating distribution:", {int(k): int(v) for k, v in zip(*np.unique(y5[te], return_counts=True),
                                                                        strict=True)})

    name = get_settings().embedding_model
    embedder = SentenceTransformerEmbedder(name, dtype=args.train_dtype)
    infer_dtype = resolve_dtype(args.infer_dtype)
    infer_embedder = embedder if infer_dtype == args.train_dtype else SentenceTransformerEmbedder(name, dtype=infer_dtype)
    t0 = time.perf_counter()
    emb = embed_cached(texts, embedder, args.cache_dir, show_progress=False)
    print(f"embeddings: {embedder!r}, {emb.shape}, {time.perf_counter() - t0:.1f} s (cache {args.cache_dir})")

    # ---- baseline: TF-IDF + LR, default settings
    t0 = time.perf_counter()
    tf = make_tfidf().fit([texts[i] for i in tr])
    x_tr, x_te = tf.transform([texts[i] for i in tr]), tf.transform([texts[i] for i in te])
    base_heads = {
        "rating": LogisticRegression(max_iter=2000).fit(x_tr, y5[tr]),
        "sent": LogisticRegression(max_iter=2000).fit(x_tr, y3[tr]),
        "rec": LogisticRegression(max_iter=2000).fit(x_tr, rec[tr]),
    }
    base = {k: h.predict(x_te) for k, h in base_heads.items()}
    print(f"baseline trained in {time.perf_counter() - t0:.1f} s")

    # ---- model
    t0 = time.perf_counter()
    print("model selection on a grouped 80/20 validation split of the train part:")
    model = train_sentiment_model([texts[i] for i in tr], y5[tr], rec[tr], embedder=embedder,
                                  embeddings=emb[tr], groups=groups[tr], log=print)
    print(f"model trained in {time.perf_counter() - t0:.1f} s; chosen: features={model.features} "
          f"C={model.params['C']} class_weight={model.params['class_weight']} "
          f"rating_bias={model.params['rating_bias']} sentiment_bias={model.params['sentiment_bias']} "
          f"recommend_threshold={model.recommend_threshold}")
    pred = model.predict_arrays([texts[i] for i in te], emb=emb[te])
    t0 = time.perf_counter()
    alt_fs = ("emb+tfidf",) if model.features == "tfidf" else ("tfidf",)
    alt_trial = max((t for t in model.params["trials"] if t["features"] == alt_fs[0]),
                    key=lambda t: t["val_macro_f1_5"])  # its best setting from the selection grid above
    alt = train_sentiment_model([texts[i] for i in tr], y5[tr], rec[tr], embedder=embedder, embeddings=emb[tr],
                                groups=groups[tr], feature_sets=alt_fs, cs=(alt_trial["C"],),
                                class_weights=(alt_trial["class_weight"],))
    print(f"alternative ({alt.features}, same tuning) trained in {time.perf_counter() - t0:.1f} s; "
          f"C={alt.params['C']} class_weight={alt.params['class_weight']}")
    pred_alt = alt.predict_arrays([texts[i] for i in te], emb=emb[te] if "emb" in alt.features else None)

    def row(name: str, p5: np.ndarray, p3: np.ndarray, pr: np.ndarray) -> None:
        print(f"{name:28s} 5-class acc {accuracy_score(y5[te], p5):.4f} macro-F1 {f1_score(y5[te], p5, average='macro'):.4f} | "
              f"3-class acc {accuracy_score(y3[te], p3):.4f} macro-F1 {f1_score(y3[te], p3, average='macro'):.4f} | "
              f"recommend acc {accuracy_score(rec[te], pr):.4f} F1 {f1_score(rec[te], pr):.4f} "
              f"macro-F1 {f1_score(rec[te], pr, average='macro'):.4f}")

    print(f"\nTEST ({len(te)} reviews of {len(set(groups[te]))} unseen products)")
    row("TF-IDF+LR baseline", base["rating"], base["sent"], base["rec"])
    row(f"model ({model.features})", pred["rating_class"], pred["sentiment"], pred["recommend"])
    emb_model = model if "emb" in model.features else alt
    if infer_embedder is not embedder and "emb" in emb_model.features:
        emb_te = embed_cached([texts[i] for i in te], infer_embedder, args.cache_dir)
        p2 = emb_model.predict_arrays([texts[i] for i in te], emb=emb_te)
        row(f"  {emb_model.features}, {infer_dtype} test embs", p2["rating_class"], p2["sentiment"], p2["recommend"])
    row(f"alternative ({alt.features})", pred_alt["rating_class"], pred_alt["sentiment"], pred_alt["recommend"])
    mae = np.abs(pred["rating"] - y5[te]).mean()
    print(f"model rating estimate (expected stars) MAE {mae:.4f}")
    print("reference: BERT-base 5-class accuracy 0.68 / macro-F1 0.56")

    # ---- throughput: raw texts in, predictions out (embedding included, no cache)
    model.embedder = alt.embedder = infer_embedder
    n = min(args.throughput_n, len(te))
    sample = [texts[i] for i in te[:n]]
    model.predict_arrays(sample[:32])  # warm-up
    t0 = time.perf_counter()
    model.predict_arrays(sample)
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    xs = tf.transform(sample)
    for h in base_heads.values():
        h.predict(xs)
    dtb = time.perf_counter() - t1
    alt.predict_arrays(sample[:32])
    t2 = time.perf_counter()
    alt.predict_arrays(sample)
    dtf = time.perf_counter() - t2
    print(f"\nthroughput on {n} test reviews, torch threads={args.threads}, embeddings {infer_dtype}: "
          f"model ({model.features}) {n / dt:.0f} reviews/s; alternative ({alt.features}) {n / dtf:.0f} reviews/s; "
          f"TF-IDF+LR baseline {n / dtb:.0f} reviews/s "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
