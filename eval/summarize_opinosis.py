"""Review summarisation on Opinosis (51 topics, 238 human gold summaries).

    .venv/bin/python eval/summarize_opinosis.py [DATA_DIR] [--model qwen2.5-coder-0.5b] [--limit N] [--words 40]

Each topic's sentences are the "reviews" (ids S1..Sn); the assistant's grounded summariser
(``summarize_reviews``: code-computed aspect statistics + cited prose) writes the summary; citations
are stripped before scoring. Prints ROUGE-1/2/L (rouge-score, Porter stemming) F and recall against
the gold summaries, both AVERAGED over a topic's references and the MAX over them, then averaged over
topics; beside an extractive TF-IDF-centroid baseline with the same word budget, computed in the same
run. Published reference (Ganesan et al. 2010, Opinosis graph method): ROUGE-1 F ~0.33, ROUGE-2 F ~0.10
(ROUGE-1.5.5, a different implementation: compare loosely).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

from assistant.gen.citations import strip_citations  # noqa: E402
from assistant.gen.extractive import centroid_summary  # noqa: E402
from assistant.gen.summarize import summarize_reviews  # noqa: E402
from assistant.scripting import (  # noqa: E402
    ScriptUsageError,
    nonneg_int,
    positive_int,
    require_dir,
    require_model,
    run_script,
)

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "opinosis"
METRICS = ("rouge1", "rouge2", "rougeL")


def load_topics(data: Path) -> list[tuple[str, list[str], list[str]]]:
    out = []
    for f in sorted((data / "topics").glob("*.txt.data")):
        topic = f.name.removesuffix(".txt.data")
        sents = [s.strip() for s in f.read_text(encoding="latin-1").splitlines() if s.strip()]
        golds = [g.read_text(encoding="latin-1").strip() for g in sorted((data / "summaries-gold" / topic).glob("*.gold"))]
        out.append((topic, sents, golds))
    return out


def subject(topic: str) -> str:
    aspect, _, product = topic.partition("_")
    return f"the {aspect.replace('-', ' ')} of the {product.replace('_', ' ')}"


def score(scorer, pred: str, golds: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rows = [scorer.score(g, pred) for g in golds]
    out: dict[str, float] = {}
    for m in METRICS:
        for part, attr in (("F", "fmeasure"), ("R", "recall")):
            vals = [getattr(r[m], attr) for r in rows]
            out[f"{m}_{part}_avg"] = sum(vals) / len(vals)
            out[f"{m}_{part}_max"] = max(vals)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DATA),
                    help="the Opinosis folder, holding topics/ and summaries-gold/ (default: %(default)s)")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b", help="LLM key (see `assistant models`)")
    ap.add_argument("--limit", type=nonneg_int, default=0, help="first N topics only (0 = all 51)")
    ap.add_argument("--words", type=positive_int, default=40, help="word budget of the summaries (model and baseline)")
    ap.add_argument("--out", default="", help="optional CSV of per-topic scores, word counts and summaries")
    args = ap.parse_args()
    hint = f"pass the Opinosis folder as the first argument (default {DATA})"
    data = require_dir(args.data, "the Opinosis folder", hint)
    topics = load_topics(data)
    if not topics:
        raise ScriptUsageError(f"{data} has no topics/*.txt.data (is this the Opinosis folder?); {hint}")
    if missing := [topic for topic, _, golds in topics if not golds]:
        raise ScriptUsageError(f"{data} has no gold summaries for {missing[0]} (summaries-gold/{missing[0]}/*.gold)")
    require_model(args.model)

    from rouge_score import rouge_scorer

    from assistant.llm import get_llm

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    if args.limit:
        topics = topics[: args.limit]
    llm = get_llm(model=args.model)
    rows = []
    t0 = time.perf_counter()
    for i, (topic, sents, golds) in enumerate(topics, 1):
        reviews = pd.DataFrame({"review_id": [f"S{j}" for j in range(1, len(sents) + 1)], "product_id": topic,
                                "text": sents})
        res = summarize_reviews(reviews, llm=llm, subject=subject(topic), words=args.words, max_tokens=240)
        pred = strip_citations(res["summary"])
        base = " ".join(centroid_summary(sents, args.words))
        rows.append({"topic": topic, "system": "llm", "valid": res["citations_valid"],
                     "dropped": len(res["dropped_sentences"]), "words": len(pred.split()), "summary": pred,
                     **score(scorer, pred, golds)})
        rows.append({"topic": topic, "system": "centroid", "words": len(base.split()), "summary": base,
                     **score(scorer, base, golds)})
        print(f"[{i}/{len(topics)}] {topic}: R1F={rows[-2]['rouge1_F_avg']:.3f} (baseline {rows[-1]['rouge1_F_avg']:.3f})"
              f" {time.perf_counter() - t0:.0f}s", flush=True)
    df = pd.DataFrame(rows)
    if args.out:
        df.to_csv(args.out, index=False)
    print(f"\nDataset: Opinosis 1.0, {len(topics)} topics, {sum(len(g) for _, _, g in topics)} gold summaries; "
          f"model {args.model}; summary budget {args.words} words; ROUGE via rouge-score (stemmed), "
          "scores averaged over topics.")
    cols = [f"{m}_{p}_{a}" for a in ("avg", "max") for m in METRICS for p in ("F", "R")]
    table = df.groupby("system")[cols].mean().T
    table.index = [c.replace("_avg", " (avg over refs)").replace("_max", " (max over refs)") for c in table.index]
    print(table.round(4).to_string())
    print("mean words per summary: " + ", ".join(f"{k} {v:.1f}" for k, v in df.groupby("system")["words"].mean().items()))
    llm_rows = df[df["system"] == "llm"]
    print(f"LLM summaries with all citations valid: {int(llm_rows['valid'].sum())}/{len(llm_rows)}; "
          f"uncited sentences dropped: {int(llm_rows['dropped'].sum())}; wall {time.perf_counter() - t0:.0f}s")
    print("Published reference (Opinosis graph method, ROUGE-1.5.5): ROUGE-1 F ~0.33, ROUGE-2 F ~0.10")


if __name__ == "__main__":
    run_script(main)
