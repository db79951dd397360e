"""Retrieval accuracy on SubjQA electronics: can the index find the review that answers a question?

For each answerable question (human_ans_spans != ANSWERNOTFOUND; duplicate annotation rows of the same
question/review pair counted once) the gold document is the review holding the answer. All distinct
reviews of the split are indexed (trailing " ANSWERNOTFOUND" token stripped) with the production
``HybridIndex`` (review passages, real packaged MiniLM). Chunk hits are collapsed to reviews (best
rank per review). Reported: recall@1/5/10 and MRR for BM25, dense and hybrid, over all reviews and
within the item (filter product_id = item). Hybrid rows: plain RRF (k=60, weights 1/1) and the library
default (DEFAULT_FUSION/DEFAULT_WEIGHTS in assistant/index/hybrid.py). ``--tune`` searches weighted RRF
and score fusion ("cc": convex combination of min-max normalised scores) on the DEV split only, picks
the best mean of the two MRRs, and reports the pick on the test split.

    .venv/bin/python eval/retrieval_subjqa.py [--data ../shared/data/subjqa_electronics] [--tune]
"""

from __future__ import annotations

import argparse
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

from assistant.index.hybrid import DEFAULT_FUSION, DEFAULT_WEIGHTS, HybridIndex  # noqa: E402
from assistant.index.types import Filters  # noqa: E402
from assistant.scripting import positive_int, require_columns, require_dir, require_file, run_script  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "subjqa_electronics"
SUBJQA = "a SubjQA electronics split CSV"
DEPTH = 100  # chunks retrieved per question before collapsing to reviews
TAG = " ANSWERNOTFOUND"


class QueryCache:
    """Wraps an embedder so repeated queries (several modes / weights) are embedded once."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.encode(texts, show_progress=show_progress)  # type: ignore[no-any-return]
        if texts[0] not in self.cache:
            self.cache[texts[0]] = self.inner.encode(texts)
        return self.cache[texts[0]]


def load_split(data: Path, split: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(data / f"electronics_{split}.csv")
    df["review"] = df["review"].astype(str).str.replace(TAG + r"\s*$", "", regex=True).str.strip()
    reviews = (df.drop_duplicates("review_id")
               .rename(columns={"item_id": "product_id", "review": "text"})[["review_id", "product_id", "text"]]
               .assign(rating=np.nan, title="", date=None))
    qs = df[df["human_ans_spans"].astype(str) != "ANSWERNOTFOUND"]
    qs = qs.drop_duplicates(["question", "item_id", "review_id"])[["question", "item_id", "review_id"]]
    return reviews, qs.reset_index(drop=True)


Run = tuple[str, str | None, tuple[float, float] | None]  # mode, fusion, weights


def review_rank(index: HybridIndex, question: str, gold: str, run: Run, item: str | None) -> int | None:
    mode, fusion, weights = run
    filters = Filters(product_ids=(item,)) if item else None
    hits = index.search(question, DEPTH, kind="review", filters=filters, mode=mode,  # type: ignore[arg-type]
                        fusion=fusion, weights=weights)  # type: ignore[arg-type]
    seen: list[str] = []
    for h in hits:
        if h.review_id not in seen:
            seen.append(h.review_id)  # type: ignore[arg-type]
    return seen.index(gold) + 1 if gold in seen else None


def metrics(ranks: list[int | None]) -> dict[str, float]:
    r = np.array([x if x is not None else 10**9 for x in ranks], dtype=float)
    return {"R@1": float((r <= 1).mean()), "R@5": float((r <= 5).mean()), "R@10": float((r <= 10).mean()),
            "MRR": float(np.where(r < 10**9, 1.0 / r, 0.0).mean())}


def evaluate(index: HybridIndex, qs: pd.DataFrame, runs: dict[str, Run]) -> dict[tuple[str, str], dict[str, float]]:
    out = {}
    for scope in ("all", "item"):
        for label, run in runs.items():
            ranks = [review_rank(index, str(q.question), str(q.review_id), run,
                                 str(q.item_id) if scope == "item" else None) for q in qs.itertuples(index=False)]
            out[(label, scope)] = metrics(ranks)
    return out


def build(reviews: pd.DataFrame, embedder, workdir: Path, name: str) -> HybridIndex:  # type: ignore[no-untyped-def]
    return HybridIndex.build(workdir / name, None, reviews, embedder, "flat", show_progress=False)


def tune(data: Path, embedder, workdir: Path) -> tuple[str, Run, pd.DataFrame]:  # type: ignore[no-untyped-def]
    reviews, qs = load_split(data, "dev")
    index = build(reviews, embedder, workdir, "dev")
    grid: dict[str, Run] = {f"rrf {wb:g}/1": ("hybrid", "rrf", (wb, 1.0)) for wb in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)}
    grid |= {f"cc {1 - a:.1f}/{a:.1f}": ("hybrid", "cc", (round(1 - a, 2), a)) for a in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)}
    singles: dict[str, Run] = {"bm25": ("bm25", None, None), "dense": ("dense", None, None)}
    res = evaluate(index, qs, grid | singles)
    rows = [{"fusion": label, "scope": scope, "MRR": m["MRR"]} for (label, scope), m in res.items()]
    table = pd.DataFrame(rows).pivot_table(index="fusion", columns="scope", values="MRR")
    table["mean"] = table[["all", "item"]].mean(axis=1)
    best = str(table.drop(index=list(singles))["mean"].idxmax())
    return best, grid[best], table.sort_values("mean", ascending=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="the SubjQA electronics folder, holding electronics_<split>.csv (default: %(default)s)")
    ap.add_argument("--split", default="test", choices=["train", "dev", "test"])
    ap.add_argument("--tune", action="store_true", help="Tune RRF weights on the dev split, report on --split.")
    ap.add_argument("--threads", type=positive_int, default=1, help="torch threads (the machine is shared).")
    args = ap.parse_args(argv)
    hint = f"pass --data DIR (default {DEFAULT_DATA})"
    require_dir(args.data, "the SubjQA electronics folder", hint)
    for split in (["dev"] if args.tune else []) + [args.split]:
        csv = require_file(args.data, SUBJQA, hint, name=f"electronics_{split}.csv")
        require_columns(csv, ["item_id", "question", "review_id", "review", "human_ans_spans"], SUBJQA)

    import torch

    from assistant.config import get_settings
    from assistant.index.embedder import get_embedder

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    embedder = QueryCache(get_embedder(get_settings()))
    runs: dict[str, Run] = {
        "BM25": ("bm25", None, None), f"dense ({embedder.name})": ("dense", None, None),
        "hybrid plain RRF k=60 (1/1)": ("hybrid", "rrf", (1.0, 1.0)),
        f"hybrid default {DEFAULT_FUSION} {DEFAULT_WEIGHTS[0]:g}/{DEFAULT_WEIGHTS[1]:g}": ("hybrid", None, None),
    }
    with tempfile.TemporaryDirectory() as tmp:
        if args.tune:
            label, best, table = tune(args.data, embedder, Path(tmp))
            print("Dev-split fusion tuning (weights bm25/dense), MRR:")
            print(table.round(3).to_string())
            print(f"-> chosen on dev: {label}\n")
            runs[f"hybrid {label} (dev-tuned)"] = best
        reviews, qs = load_split(args.data, args.split)
        index = build(reviews, embedder, Path(tmp), args.split)
        res = evaluate(index, qs, runs)
    print(f"Dataset: SubjQA electronics, {args.split} split ({args.data.resolve()}); {len(qs)} answerable "
          f"questions, {len(reviews)} distinct reviews, {index.stats()['n_review_chunks']} review passages; "
          f"embedding model {embedder.name}")
    header = f"{'method':<44} | {'all reviews: R@1   R@5   R@10  MRR':<34} | within item: R@1  MRR"
    print(header)
    print("-" * len(header))
    for label in runs:
        a, i = res[(label, "all")], res[(label, "item")]
        print(f"{label:<44} | {a['R@1']:.3f} {a['R@5']:.3f} {a['R@10']:.3f} {a['MRR']:.3f}{'':<11}"
              f" | {i['R@1']:.3f} {i['MRR']:.3f}")
    best_single = {s: max(res[("BM25", s)]["MRR"], res[(f"dense ({embedder.name})", s)]["MRR"]) for s in ("all", "item")}
    print(f"baseline (better single arm) MRR: all {best_single['all']:.3f}, item {best_single['item']:.3f}")
    print(f"elapsed {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    run_script(main)
