"""End-to-end accuracy of the assistant's forecast answers: does the answer give the forecast total of every
product the question names, and is it free of flagged numbers?

For each question in eval/data/answer_questions.jsonl (demand questions on the demo store's real Online
Retail products, each with the products it names and the horizon it asks for) the full agent runs: the
model picks tools, the tools run, the model answers, the answer's numbers are checked and, when some are
wrong, rewritten once. The truth comes from running `forecast_demand` directly for each product at that
horizon (its `total_units`), not from the agent's own steps.

Scores, for the first answer (what the agent says without the rewrite: the baseline, from the same run,
since decoding is greedy) and for the final answer:
- totals right: every named product's forecast total appears in the answer (as shown: rounded, or with
  its decimals dropped);
- clean: the answer has no unsupported, misattributed or mislabelled number flag.
Questions marked "dev" were used while building the number checks; the others were written after.

    .venv/bin/python eval/agent_answers.py [--model qwen2.5-coder-1.5b] [--home DIR] [--limit N]

Without --home the demo store is built in a temporary folder first (catalog, FAISS index, sentiment model).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_questions import load_questions as read_questions  # noqa: E402

from assistant.offline import use_offline_defaults  # noqa: E402
from assistant.scripting import nonneg_int, require_dir, require_file, require_model, run_script  # noqa: E402

use_offline_defaults()

DEFAULT_DATA = REPO / "eval" / "data" / "answer_questions.jsonl"
NUMBER_FLAGS = {"unsupported_number", "misattributed_number", "mislabelled_number"}


def load_questions(path: Path) -> list[dict[str, Any]]:
    return read_questions(path, required=("id", "question", "products", "horizon"))


def demo_store(home: Path) -> None:
    """The demo store of `assistant demo setup`, in ``home``."""
    os.environ["ASSISTANT_HOME"] = str(home)
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog
    from assistant.data.demo import load_demo
    from assistant.index import build_from_catalog
    from assistant.sentiment.service import ensure_store_model

    settings = get_settings()
    catalog = Catalog.open(settings)
    if not any(catalog.counts().values()):
        load_demo(catalog)
    build_from_catalog(settings, catalog, show_progress=False)
    ensure_store_model(catalog, settings, log=None)


def true_totals(agent: Any, questions: list[dict[str, Any]]) -> dict[tuple[str, int], float]:
    """``forecast_demand``'s total for each (product, horizon) asked about, run directly."""
    tool = agent.tools.get("forecast_demand")
    out = {}
    for q in questions:
        for pid in q["products"]:
            if (pid, q["horizon"]) not in out:
                res = tool.run(agent.context, {"product_id": pid, "horizon": q["horizon"]})
                out[(pid, q["horizon"])] = float(res.data["total_units"])
    return out


def score(answer: str, totals: list[float], clean: bool) -> dict[str, bool]:
    from assistant.numbers import extract_numbers, shows

    numbers = extract_numbers(answer)
    right = all(any(m.value >= 0 and shows(m, t) for m in numbers) for t in totals)
    return {"totals": right, "clean": clean}


def run(agent: Any, questions: list[dict[str, Any]], truth: dict[tuple[str, int], float]) -> list[dict[str, Any]]:
    rows = []
    for q in questions:
        totals = [truth[(p, q["horizon"])] for p in q["products"]]
        t0 = time.perf_counter()
        res = agent.run(q["question"])
        seconds = time.perf_counter() - t0
        kinds = [f.kind for f in res.flags]
        revised = next((f for f in res.flags if f.kind == "answer_revised"), None)
        clean = not NUMBER_FLAGS.intersection(kinds)
        # no rewrite kept: the first answer is the final one; else it had number flags (what a rewrite is for)
        first, first_clean = (res.answer, clean) if revised is None else (revised.detail["first_answer"], False)
        row = {"id": q["id"], "dev": bool(q.get("dev")), "seconds": seconds, "answer": res.answer,
               "first_answer": first, "flags": kinds, "totals": totals,
               "first": score(first, totals, first_clean), "final": score(res.answer, totals, clean)}
        rows.append(row)
        print(f"  {q['id']} first {_mark(row['first'])} final {_mark(row['final'])} ({seconds:.0f}s) "
              f"totals {totals}: {res.answer[:160]!r}", flush=True)
    return rows


def _mark(s: dict[str, bool]) -> str:
    return ("T" if s["totals"] else "-") + ("C" if s["clean"] else "-")


def summary(rows: list[dict[str, Any]]) -> list[str]:
    lines = [f"{'answer':<34} {'n':>3} {'totals right':>13} {'clean':>7} {'both':>6}"]
    for part, keep in (("all", lambda r: True), ("dev", lambda r: r["dev"]), ("fresh", lambda r: not r["dev"])):
        sel = [r for r in rows if keep(r)]
        if not sel:
            continue
        for which, label in (("first", "first answer (baseline)"), ("final", "final answer (after rewrite)")):
            n = len(sel)
            t = sum(r[which]["totals"] for r in sel) / n
            c = sum(r[which]["clean"] for r in sel) / n
            b = sum(r[which]["totals"] and r[which]["clean"] for r in sel) / n
            lines.append(f"{label + ', ' + part:<34} {n:>3} {t:>13.3f} {c:>7.3f} {b:>6.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA), help="questions JSONL file (default: %(default)s)")
    ap.add_argument("--model", default=None, help="model key (default: the configured model)")
    ap.add_argument("--home", help="an existing store folder (default: the demo store, built in a temporary folder)")
    ap.add_argument("--limit", type=nonneg_int, default=0, help="only the first N questions (0: all)")
    ap.add_argument("--out", help="write per-question results as JSON here")
    opts = ap.parse_args(argv)
    data = require_file(opts.data, "a questions JSONL file",
                        f"pass a questions file as the first argument (default {DEFAULT_DATA})")
    if opts.home:
        require_dir(opts.home, "a store folder", "pass --home DIR of an existing store, or leave --home out")

    questions = load_questions(data)[: opts.limit or None]
    with tempfile.TemporaryDirectory(prefix="merch-eval-") as tmp:
        os.environ["ASSISTANT_HOME"] = opts.home or tmp
        require_model(opts.model)  # before the demo store is built
        if not opts.home:
            print("building the demo store…", flush=True)
            demo_store(Path(tmp))
        from assistant.agent import build_default_agent
        from assistant.config import get_settings

        settings = get_settings()
        agent = build_default_agent(settings, model=opts.model)
        truth = true_totals(agent, questions)
        print(f"model {agent.llm.name}: {len(questions)} questions, rewrite rounds {agent.revise}", flush=True)
        rows = run(agent, questions, truth)

    print()
    print(f"dataset: {opts.data} ({len(questions)} questions on the demo store's Online Retail products; "
          f"{sum(not r['dev'] for r in rows)} written after the checks were built)")
    print(f"model: {agent.llm.name}; mean {sum(r['seconds'] for r in rows) / max(len(rows), 1):.1f} s per question")
    print("\n".join(summary(rows)))
    if opts.out:
        Path(opts.out).write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    run_script(main)
