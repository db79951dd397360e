"""Index benchmark: embedding throughput, hybrid query latency, and HNSW at 1M vectors.

1. Build pipeline (chunk + embed + FAISS add + BM25 + atomic write) embeddings/s vs the model's raw
   ``encode`` on the same passage texts in the same process (target ratio >= 0.9x).
2. Hybrid / dense / BM25 single-query latency p50/p95 on the demo store (assistant/demo/data, else a
   women's clothing reviews subset) and on >= 100k review chunks (target hybrid p50 <= 20 ms).
3. 1M x 384 synthetic vectors (real MiniLM embeddings of review sentences + product descriptions,
   tiled with Gaussian jitter and renormalised): HNSW p50 and recall@10 vs exact Flat on 200 queries
   (target p50 <= 5 ms at recall@10 >= 0.95), over a few efSearch values.

    .venv/bin/python bench/index_bench.py [--quick] [--threads 1]

FAISS runs with 1 OpenMP thread for single queries (Settings.faiss_threads). Figures depend on machine
load; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

from assistant.index import vectors  # noqa: E402
from assistant.index.chunking import review_chunks, split_sentences  # noqa: E402
from assistant.index.hybrid import HybridIndex  # noqa: E402
from assistant.scripting import (  # noqa: E402
    nonneg_int,
    positive_int,
    require_columns,
    require_dir,
    require_file,
    run_script,
)

DATA = REPO.parent / "shared" / "data"
PARTS = ("embed", "demo", "100k", "1m")
rng = np.random.default_rng(0)


def clothing_reviews(data: Path) -> pd.DataFrame:
    df = pd.read_csv(data / "womens_clothing_reviews" / "Womens_Clothing_E-Commerce_Reviews.csv")
    df = df.dropna(subset=["Review Text"]).reset_index(drop=True)
    return pd.DataFrame({"review_id": "W" + df.iloc[:, 0].astype(str), "product_id": "C" + df["Clothing ID"].astype(str),
                         "rating": df["Rating"].astype(float), "title": df["Title"].fillna(""),
                         "text": df["Review Text"], "date": pd.NaT})


def retail_descriptions(data: Path) -> list[str]:
    df = pd.read_csv(data / "online_retail" / "online_retail.csv.gz", usecols=["Description"])
    return sorted(set(df["Description"].dropna().astype(str).str.strip()) - {""})


def pct(xs: list[float]) -> str:
    a = np.array(xs) * 1000
    return f"p50 {np.percentile(a, 50):6.2f} ms  p95 {np.percentile(a, 95):6.2f} ms"


class TableEmbedder:
    """Bench helper: returns precomputed vectors for indexed texts, the real model for queries."""

    def __init__(self, real, table: dict[str, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
        self.real, self.table, self.name, self.dim = real, table, real.name, real.dim

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) == 1 and texts[0] not in self.table:
            return self.real.encode(texts)  # type: ignore[no-any-return]
        return np.stack([self.table[t] for t in texts])


def jitter(base: np.ndarray, n: int, sigma: float) -> np.ndarray:
    """``n`` vectors: ``base`` rows tiled, plus N(0, sigma^2) per dimension, renormalised."""
    reps = int(np.ceil(n / len(base)))
    out = np.tile(base, (reps, 1))[:n].astype(np.float32)
    out[len(base):] += rng.normal(0, sigma, size=(n - len(base), base.shape[1])).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def bench_embedding(emb, reviews: pd.DataFrame, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    texts = review_chunks(reviews)["text"].tolist()
    emb.encode(texts[:64])  # warm-up
    t = time.perf_counter()
    emb.model.encode(texts, batch_size=emb.batch_size, normalize_embeddings=True, convert_to_tensor=True)
    raw = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    HybridIndex.build(tmp / "emb", None, reviews, emb)
    pipe = len(texts) / (time.perf_counter() - t)
    print(f"[1] embeddings ({emb.name}, dtype {emb.dtype}, batch {emb.batch_size}) on {len(texts)} review passages "
          f"of {len(reviews)} women's clothing reviews:")
    print(f"    raw model.encode {raw:7.1f} emb/s | build pipeline {pipe:7.1f} emb/s | ratio {pipe / raw:.2f}x "
          f"(target >= 0.9x)")


def bench_queries(index: HybridIndex, queries: list[str], label: str) -> None:
    """End-to-end latency (query embedding included, embedding cache off) and index-side latency
    (query vectors precomputed: FAISS + BM25 + fusion + hits)."""
    st = index.stats()
    print(f"[2] {label}: {st['n_chunks']} chunks ({st['n_products']} products, {st['n_review_chunks']} review "
          f"chunks), index {st['index_type']} {st['params']}, {len(queries)} queries, k=10")
    real = index.embedder
    model = getattr(real, "real", real)  # TableEmbedder wraps the model used for queries
    model_cache = getattr(model, "cache_size", 0)
    if hasattr(model, "cache_size"):
        model.cache_size = 0  # type: ignore[union-attr]  # end-to-end means every query is embedded
    for q in queries[:5]:
        index.search(q, 10)  # warm-up
    pre: dict[str, np.ndarray] = {}

    class Precomputed:
        name, dim = real.name, real.dim

        def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
            return pre[texts[0]]

    for side, emb in (("end-to-end", real), ("index-side", Precomputed())):
        if side == "index-side":
            pre.update({q: real.encode([q]) for q in queries})
        index.embedder = emb
        for mode in ("hybrid", "dense", "bm25"):
            if side == "end-to-end" and mode == "bm25":
                continue
            times = []
            for q in queries:
                t = time.perf_counter()
                index.search(q, 10, mode=mode)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t)
            target = "  (target p50 <= 20 ms)" if mode == "hybrid" else ""
            print(f"    {side:<10} {mode:<6} {pct(times)}{target}")
    index.embedder = real
    if hasattr(model, "cache_size"):
        model.cache_size = model_cache  # type: ignore[union-attr]


def demo_store(data: Path, reviews: pd.DataFrame, n_reviews: int) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    demo = REPO / "assistant" / "demo" / "data"
    if (demo / "products.csv.gz").is_file() and (demo / "reviews.csv.gz").is_file():
        from assistant.data.loaders import load_table

        prods = load_table(demo / "products.csv.gz", "products").frame
        revs = load_table(demo / "reviews.csv.gz", "reviews").frame
        label = f"demo store (assistant/demo/data): all {len(prods)} products"
        if len(revs) > n_reviews:
            label += f", {n_reviews} of its {len(revs)} reviews (sampled: embedding all is slow on 2 busy cores)"
            revs = revs.sample(n_reviews, random_state=0)
        return prods, revs, label
    sub = reviews.sample(n_reviews, random_state=0)
    return None, sub, f"women's clothing reviews subset ({n_reviews} reviews; demo data absent)"


def real_pool(emb, reviews: pd.DataFrame, descs: list[str], n_real: int) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    """All distinct review sentences + product descriptions, and real embeddings of ``n_real`` of them."""
    sents = [s for t in reviews["text"] for s in split_sentences(t) if len(s.split()) >= 3]
    texts = list(dict.fromkeys(sents + descs))
    sample = [texts[i] for i in rng.choice(len(texts), size=min(n_real, len(texts)), replace=False)]
    t = time.perf_counter()
    real = emb.encode(sample, show_progress=False)
    dt = time.perf_counter() - t
    print(f"    embedded {len(sample)} real texts (sentences/descriptions) in {dt:.0f} s = {len(sample) / dt:.0f} emb/s")
    return texts, real


def bench_100k(emb, texts: list[str], real: np.ndarray, target: int,  # type: ignore[no-untyped-def]
               queries: list[str], tmp: Path, index_types: list[str]) -> None:
    texts = texts[:target]
    vecs = jitter(real, len(texts), 0.01)
    table = {x: vecs[i] for i, x in enumerate(texts)}
    chunks = pd.DataFrame({"review_id": [f"S{i}" for i in range(len(texts))], "product_id": "X", "rating": 4.0,
                           "title": "", "text": texts, "date": pd.NaT})
    for itype in index_types:
        t = time.perf_counter()
        index = HybridIndex.build(tmp / f"big-{itype}", None, chunks, TableEmbedder(emb, table), itype)
        print(f"    built {itype} over {len(texts)} chunks in {time.perf_counter() - t:.0f} s")
        bench_queries(index, queries, f"{len(texts)} review-sentence/product-description chunks "
                      f"(BM25 over the real texts; vectors: {len(real)} real MiniLM embeddings tiled "
                      f"with N(0, 0.01^2) jitter)")


def bench_1m(real: np.ndarray, n: int, tmp: Path, ef_values: list[int]) -> None:
    faiss = vectors.faiss_mod()
    base = jitter(real, n, 0.02)
    q = jitter(real[rng.choice(len(real), 200, replace=False)], 400, 0.02)[200:]  # fresh jittered copies
    print(f"[3] {n} x {base.shape[1]} synthetic set: {len(real)} real MiniLM embeddings (review sentences + "
          f"product descriptions) tiled {int(np.ceil(n / len(real)))}x with N(0, 0.02^2) per-dim jitter, "
          f"renormalised; 200 queries = fresh jittered copies of random real vectors")
    flat = faiss.IndexFlatIP(base.shape[1])
    flat.add(base)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    _, gt = flat.search(q, 10)
    print(f"    exact Flat ground truth: {time.perf_counter() - t:.1f} s for 200 queries (batched)")
    faiss.omp_set_num_threads(1)
    times = []
    for i in range(50):
        t = time.perf_counter()
        flat.search(q[i: i + 1], 10)
        times.append(time.perf_counter() - t)
    print(f"    Flat single query (1 thread): {pct(times)}")
    del flat
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    hnsw = vectors.create("hnsw", base.shape[1])
    vectors.add(hnsw, base, np.arange(n, dtype=np.int64))
    print(f"    HNSW M={vectors.HNSW_M} efConstruction={vectors.HNSW_EF_CONSTRUCTION} build: "
          f"{time.perf_counter() - t:.0f} s")
    faiss.omp_set_num_threads(1)
    for ef in ef_values:
        vectors.set_search_params(hnsw, "hnsw", ef_search=ef)
        times, found = [], []
        for i in range(len(q)):
            t = time.perf_counter()
            ids, _ = vectors.search(hnsw, "hnsw", q[i], 10)
            times.append(time.perf_counter() - t)
            found.append(len(set(ids.tolist()) & set(gt[i].tolist())) / 10)
        ok = "OK" if np.percentile(times, 50) * 1000 <= 5 and np.mean(found) >= 0.95 else "miss"
        print(f"    HNSW efSearch {ef:4d}: {pct(times)}  recall@10 {np.mean(found):.3f}  "
              f"(target p50 <= 5 ms, recall >= 0.95: {ok})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA,
                    help="the shared data folder, holding womens_clothing_reviews/ and online_retail/ "
                         "(default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="Smaller sets (minutes, not tens of minutes).")
    ap.add_argument("--threads", type=positive_int, default=2, help="torch threads for embedding.")
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--parts", default=",".join(PARTS), help="Comma list of parts to run (default: %(default)s).")
    ap.add_argument("--real", type=nonneg_int, default=0, help="Real texts embedded for the 100k/1M sets (20000 full).")
    ap.add_argument("--demo-reviews", type=nonneg_int, default=0, help="Demo reviews indexed (2000 full).")
    ap.add_argument("--pipeline-reviews", type=nonneg_int, default=0, help="Reviews for the throughput test (600 full).")
    args = ap.parse_args(argv)
    if unknown := set(args.parts.split(",")) - set(PARTS):
        ap.error(f"argument --parts: unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    hint = f"pass --data DIR, the folder holding womens_clothing_reviews/ and online_retail/ (default {DATA})"
    require_dir(args.data, "the shared data folder", hint)
    clothing = require_file(args.data / "womens_clothing_reviews" / "Womens_Clothing_E-Commerce_Reviews.csv",
                            "the Women's Clothing Reviews CSV", hint)
    require_columns(clothing, ["Clothing ID", "Title", "Review Text", "Rating"], "the Women's Clothing Reviews CSV")
    retail = require_file(args.data / "online_retail" / "online_retail.csv.gz", "the Online Retail CSV", hint)
    require_columns(retail, ["Description"], "the Online Retail CSV")

    import torch

    from assistant.config import get_settings
    from assistant.index.embedder import get_embedder

    torch.set_num_threads(args.threads)
    vectors.faiss_mod().omp_set_num_threads(get_settings().faiss_threads)
    q = args.quick
    t0 = time.perf_counter()
    emb = get_embedder(get_settings())
    reviews = clothing_reviews(args.data)
    descs = retail_descriptions(args.data)
    queries = list(dict.fromkeys(reviews["title"][reviews["title"] != ""].sample(400, random_state=1)))[:200]
    print(f"index bench ({'quick' if q else 'full'}); machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"queries: 200 review titles from women's clothing reviews")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        parts = set(args.parts.split(","))
        if "embed" in parts:
            bench_embedding(emb, reviews.sample(args.pipeline_reviews or (150 if q else 600), random_state=2), tmp)
        if "demo" in parts:
            products, demo_reviews, label = demo_store(args.data, reviews, args.demo_reviews or (500 if q else 2000))
            bench_queries(HybridIndex.build(tmp / "demo", products, demo_reviews, emb), queries, label)
        if parts & {"100k", "1m"}:
            print("[2b] >= 100k chunks")
            texts, real = real_pool(emb, reviews, descs, args.real or (2000 if q else 20000))
        if "100k" in parts:
            bench_100k(emb, texts, real, 20_000 if q else 100_000, queries, tmp, ["auto"] if q else ["auto", "flat"])
        if "1m" in parts and not args.skip_1m:
            bench_1m(real, 100_000 if q else 1_000_000, tmp, [16, 32, 64, 128] if q else [16, 32, 64, 128, 256])
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    run_script(main)
