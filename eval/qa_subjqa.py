"""Launch Q&A on SubjQA electronics (test split): answer quality and abstention.

    .venv/bin/python eval/qa_subjqa.py [CSV] [--model qwen2.5-coder-0.5b] [--limit 120]

The test split's reviews (ANSWERNOTFOUND stripped) are indexed with the assistant's real hybrid index
(MiniLM + FAISS + BM25) in a temp folder; each question is answered by ``answer_question`` from the
item's own reviews (retrieval filtered to the item). Questions are unique (q_reviews_id); a question is
answerable when any annotator marked a span. Prints token F1 (SQuAD normalisation, max over the gold
spans, citations stripped) on answerable questions, abstention rate on unanswerable ones (and the
false-abstention rate on answerable ones), beside an extractive baseline computed in the same run (the
item's review sentence sharing most TF-IDF-weighted words with the question; it never abstains).
``--limit`` takes a deterministic random sample (seed 0) of questions.
"""

from __future__ import annotations

import argparse
import collections
import re
import string
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

from assistant.gen.citations import strip_citations  # noqa: E402
from assistant.gen.extractive import best_sentence  # noqa: E402
from assistant.gen.qa import answer_question  # noqa: E402
from assistant.scripting import (  # noqa: E402
    nonneg_int,
    positive_int,
    require_columns,
    require_file,
    require_model,
    run_script,
)

DATA = (Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "subjqa_electronics"
        / "electronics_test.csv")
SUBJQA = "a SubjQA electronics CSV"
SUBJQA_COLUMNS = ["item_id", "q_reviews_id", "question", "review_id", "review", "human_ans_spans"]


def normalize(text: str) -> list[str]:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return text.split()


def token_f1(pred: str, gold: str) -> float:
    p, g = normalize(pred), normalize(gold)
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if not p or not g or same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)


def load(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(path, dtype=str)
    df["review"] = df["review"].str.replace(r"\s*ANSWERNOTFOUND\s*$", "", regex=True)
    reviews = df.drop_duplicates("review_id")[["review_id", "item_id", "review"]].rename(
        columns={"item_id": "product_id", "review": "text"})
    reviews["rating"] = float("nan")
    reviews["title"] = ""
    reviews["date"] = pd.NaT
    spans = df[df["human_ans_spans"] != "ANSWERNOTFOUND"].groupby("q_reviews_id")["human_ans_spans"].apply(
        lambda s: sorted(set(s)))
    qs = df.groupby("q_reviews_id").agg(question=("question", "first"), item_id=("item_id", "first")).reset_index()
    qs["spans"] = qs["q_reviews_id"].map(spans).apply(lambda v: v if isinstance(v, list) else [])
    qs["answerable"] = qs["spans"].map(bool)
    return reviews, qs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DATA),
                    help="a SubjQA electronics CSV, or its folder for electronics_test.csv (default: %(default)s)")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b", help="LLM key (see `assistant models`)")
    ap.add_argument("--limit", type=nonneg_int, default=120,
                    help="sample this many questions (0 = all; the test split has 335)")
    ap.add_argument("--k", type=positive_int, default=6, help="passages retrieved per question")
    ap.add_argument("--out", default="")
    ap.add_argument("--index-dir", default="", help="reuse/keep the built index here (default: a temp dir)")
    args = ap.parse_args()
    data = require_file(args.data, SUBJQA, f"pass the CSV or its folder as the first argument (default {DATA})",
                        name=DATA.name)
    require_columns(data, SUBJQA_COLUMNS, SUBJQA)
    require_model(args.model)  # before the index build (~20 s)

    from assistant.index.embedder import get_embedder
    from assistant.index.hybrid import HybridIndex
    from assistant.index.types import Filters
    from assistant.llm import get_llm

    reviews, qs = load(str(data))
    n_questions = len(qs)
    if args.limit and args.limit < len(qs):
        qs = qs.sample(n=args.limit, random_state=0).reset_index(drop=True)
    t0 = time.perf_counter()
    idx_path = Path(args.index_dir or tempfile.mkdtemp(prefix="subjqa_idx_")) / "idx"
    if (idx_path / "manifest.json").exists():
        index = HybridIndex.load(idx_path, get_embedder())
    else:
        index = HybridIndex.build(idx_path, None, reviews, get_embedder())
    print(f"indexed {len(reviews)} reviews in {time.perf_counter() - t0:.0f}s", flush=True)
    sentences = {pid: [s for t in g["text"] for s in re.split(r"(?<=[.!?])\s+", t) if s.strip()]
                 for pid, g in reviews.groupby("product_id")}
    llm = get_llm(model=args.model)
    rows = []
    for i, q in enumerate(qs.itertuples(index=False), 1):
        res = answer_question(q.question, llm=llm, index=index, k=args.k,
                              filters=Filters(product_ids=(q.item_id,)), max_tokens=160)
        pred = strip_citations(res["answer"]) if not res["abstained"] else ""
        base = best_sentence(q.question, sentences.get(q.item_id, []))
        f1 = max((token_f1(pred, s) for s in q.spans), default=0.0)
        bf1 = max((token_f1(base, s) for s in q.spans), default=0.0)
        rows.append({"q": q.q_reviews_id, "answerable": q.answerable, "abstained": res["abstained"],
                     "f1": f1, "baseline_f1": bf1, "n_cited": len(res["citations"]), "answer": pred})
        print(f"[{i}/{len(qs)}] ans={q.answerable} abst={res['abstained']} f1={f1:.2f} base={bf1:.2f} "
              f"{time.perf_counter() - t0:.0f}s", flush=True)
    df = pd.DataFrame(rows)
    if args.out:
        df.to_csv(args.out, index=False)
    a, u = df[df["answerable"]], df[~df["answerable"]]
    print(f"\nDataset: SubjQA electronics ({data.name}), {len(df)} questions sampled of {n_questions} "
          f"({len(a)} answerable, {len(u)} unanswerable); model {args.model}; hybrid retrieval within the item, k={args.k}.")
    print(f"{'':34}{'assistant':>12}{'extractive baseline':>22}")
    print(f"{'token F1, answerable (all)':34}{a['f1'].mean():12.4f}{a['baseline_f1'].mean():22.4f}")
    answered = a[~a["abstained"]]
    print(f"{'token F1, answerable (answered)':34}{answered['f1'].mean() if len(answered) else float('nan'):12.4f}"
          f"{answered['baseline_f1'].mean() if len(answered) else float('nan'):22.4f}")
    print(f"{'abstention on unanswerable':34}{u['abstained'].mean() if len(u) else float('nan'):12.4f}{0.0:22.4f}")
    print(f"{'false abstention on answerable':34}{a['abstained'].mean():12.4f}{0.0:22.4f}")
    print(f"answers with >=1 valid citation: {(df['n_cited'] > 0).mean():.4f}; wall {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    run_script(main)
