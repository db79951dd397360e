"""Inference speed of the sentiment models, as ratios to a TF-IDF + logistic-regression baseline timed in
the same process (the machines are noisy; the ratios travel, the absolute rates less so).

    .venv/bin/python bench/sentiment_bench.py [--data ../shared/data/womens_clothing_reviews] [--n 2000]
                                              [--threads 2] [--model STORE/models/sentiment]

Texts: ``--n`` clothing reviews ("<Title>. <Review Text>", ~83 word pieces on average), raw text in, all
predictions out, tokenisation included, best of 3 runs. Speed does not depend on the weights' values, so
the network rows use untrained weights of the shipped shapes (the encoder: packaged MiniLM-L6 + heads;
the distilled student: 3 x 256-channel CNN over MiniLM's word pieces), cast to bf16 where the CPU runs it
fast, as loading a saved model does. ``--model`` also times a saved model (any kind) on the same texts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

import numpy as np  # noqa: E402

from assistant.scripting import positive_int, require_columns, require_dir, require_file, run_script  # noqa: E402
from assistant.sentiment.datasets import CLOTHING_CSV  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_reviews"
CLOTHING = "the Women's Clothing Reviews CSV"
CLOTHING_COLUMNS = ["Clothing ID", "Title", "Review Text", "Rating", "Recommended IND"]


def _rate(fn: Callable[[list[str]], object], texts: list[str], repeats: int = 3) -> float:
    fn(texts[:64])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="the Women's Clothing Reviews folder or its CSV (default: %(default)s)")
    ap.add_argument("--n", type=positive_int, default=2000, help="test reviews timed")
    ap.add_argument("--threads", type=positive_int, default=2)
    ap.add_argument("--model", type=Path, default=None, help="a saved sentiment model folder to time as well")
    args = ap.parse_args()
    data = require_file(args.data, CLOTHING, f"pass --data DIR or CSV (default {DEFAULT_DATA})", name=CLOTHING_CSV)
    require_columns(data, CLOTHING_COLUMNS, CLOTHING)
    if args.model:
        require_dir(args.model, "a saved sentiment model folder", "pass --model STORE/models/sentiment")

    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoTokenizer

    from assistant.index.embedder import cpu_has_fast_bf16, resolve_model_path
    from assistant.sentiment.datasets import clothing_split, load_clothing_reviews
    from assistant.sentiment.encoder import EncoderConfig, EncoderSentimentModel, _network
    from assistant.sentiment.features import make_tfidf
    from assistant.sentiment.model import load_sentiment_model
    from assistant.sentiment.student import StudentConfig, StudentSentimentModel, _cnn

    torch.set_num_threads(args.threads)
    _, df, texts, _ = load_clothing_reviews(data)
    tr, te = clothing_split(df)
    sample = [texts[i] for i in te[:args.n]]
    fit_texts = [texts[i] for i in tr[:5000]]
    tf = make_tfidf().fit(fit_texts)
    lr = LogisticRegression(max_iter=2000).fit(tf.transform(fit_texts), df["Rating"].to_numpy(int)[tr[:5000]])

    name = "all-MiniLM-L6-v2"
    tok = AutoTokenizer.from_pretrained(str(resolve_model_path(name)))
    dtype = torch.bfloat16 if cpu_has_fast_bf16() else torch.float32
    common = {"tokenizer": tok, "embedder_name": name, "rating_bias": np.zeros(5), "sentiment_bias": np.zeros(3),
              "recommend_threshold": 0.5}
    encoder = EncoderSentimentModel(net=_network(name, 0, True).to(dtype), config=EncoderConfig(), **common)
    scfg = StudentConfig()
    student = StudentSentimentModel(net=_cnn(encoder.word_embeddings(), scfg, True).to(dtype), config=scfg, **common)

    rows: list[tuple[str, Callable[[list[str]], object]]] = [
        ("TF-IDF + LR (baseline)", lambda t: lr.predict(tf.transform(t))),
        (f"distilled CNN student ({dtype})", student.predict_arrays),
        (f"fine-tuned encoder, MiniLM-L6 ({dtype})", encoder.predict_arrays),
    ]
    if args.model:
        saved = load_sentiment_model(directory=args.model)
        if saved is None:
            raise SystemExit(f"no saved sentiment model under {args.model}")
        rows.append((f"saved model at {args.model} ({saved.features})",
                     lambda t: saved.predict_arrays(t)))  # type: ignore[union-attr]
    print(f"{len(sample)} clothing reviews, {args.threads} threads, best of 3; ratio = rate / baseline rate")
    base = 0.0
    for label, fn in rows:
        rate = _rate(fn, sample)
        base = base or rate
        print(f"{label:48s} {rate:9.0f} reviews/s  x{rate / base:.3f}")


if __name__ == "__main__":
    run_script(main)
