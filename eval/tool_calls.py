"""Tool-choice and argument accuracy of the agent's first step, per installed model, with baselines.

For each question in eval/data/tool_questions.jsonl (realistic launch questions on the demo store, each
with the expected tool, the expected arguments and keywords for free-text arguments) the model sees the
agent's real system prompt and tool specs, and its FIRST tool call is compared with the expectation.
Tools are not executed. Baselines in the same run: keyword rules (tool + regex arguments) and always
the most frequent tool.

Metrics:
- tool accuracy: the first call names the expected tool;
- args accuracy: expected tool AND every expected argument matches (ids case-insensitive, numbers
  equal, lists as sets, category equal or a more specific path; free-text arguments contain the keywords);
- schema-valid: the call's arguments pass the tool's own validation (what the agent would run).

    .venv/bin/python eval/tool_calls.py --models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_questions import load_questions as read_questions  # noqa: E402

from assistant.offline import use_offline_defaults  # noqa: E402
from assistant.scripting import nonneg_int, positive_int, require_file, require_model, run_script  # noqa: E402

use_offline_defaults()

DEFAULT_DATA = REPO / "eval" / "data" / "tool_questions.jsonl"
ID_RE = re.compile(r"\b([CR]\d{3,6}[A-Z]{0,2})\b")


def load_questions(path: Path) -> list[dict[str, Any]]:
    return read_questions(path, required=("id", "question", "tool", "args"))


# ----------------------------------------------------------------------------- scoring


def _norm(s: Any) -> str:
    return " ".join(str(s).lower().split())


def arg_matches(key: str, expected: Any, got: Any) -> bool:
    if got is None:
        return False
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, (int, float)):
        try:
            return abs(float(got) - float(expected)) < 1e-6
        except (TypeError, ValueError):
            return False
    if isinstance(expected, list):
        if not isinstance(got, list):
            got = [got]
        return {_norm(v) for v in expected} == {_norm(v) for v in got}
    if key == "category":
        return _norm(got) == _norm(expected) or _norm(got).startswith(_norm(expected) + " >")
    return _norm(got) == _norm(expected)


def score_call(q: dict[str, Any], name: str | None, args: dict[str, Any]) -> dict[str, bool]:
    tool_ok = name == q["tool"]
    ok = tool_ok and all(arg_matches(k, v, args.get(k)) for k, v in q["args"].items())
    for key, words in (q.get("text_args") or {}).items():
        value = _norm(args.get(key, ""))
        ok = ok and all(_norm(w) in value for w in words)
    return {"tool": tool_ok, "args": ok}


# ----------------------------------------------------------------------------- baselines


def keyword_rules(question: str, categories: list[str]) -> tuple[str, dict[str, Any]]:
    """A hand-written router: keywords pick the tool, regexes fill the arguments."""
    q = question.lower()
    ids = ID_RE.findall(question)
    if "budget" in q:
        tool = "plan_launch"
    elif any(w in q for w in ("customer", "target", "audience", "segment", "email")):
        tool = "recommend_audience"
    elif any(w in q for w in ("review", "rating", "rated", "aspect", "customers think", "say", "mention")):
        stats = ("share", "average", "distribution", "how many", "statistic", "aspects", "rated")
        tool = "review_stats" if any(w in q for w in stats) else "search_reviews"
    elif any(w in q for w in ("similar", "analogue", "product ids", "closest")):
        tool = "find_similar_products"
    elif any(w in q for w in ("new ", "launch", "introduce", "no sales history")):
        tool = "forecast_new_product"
    else:
        tool = "forecast_demand"
    args: dict[str, Any] = {}
    by_product = tool in ("find_similar_products", "recommend_audience")  # one `product` argument: id or text
    if ids:
        if tool == "plan_launch":
            args["candidates"] = ids
        else:
            args["product" if by_product else "product_id"] = ids[0]
    elif by_product and (quoted := re.search(r"'([^']+)'", question)):
        args["product"] = quoted.group(1)
    m = re.search(r"(\d+)[- ]weeks?", q)
    if m:
        args["horizon"] = int(m.group(1))
    m = re.search(r"budget of (\d[\d,.]*)|(\d[\d,.]*) budget|budget (\d[\d,.]*)", q)
    if m:
        args["budget"] = float(next(g for g in m.groups() if g).replace(",", ""))
    m = re.search(r"(\d+)% (?:prediction )?interval", q)
    if m:
        args["level"] = int(m.group(1))
    if not ids:
        for cat in sorted(categories, key=len, reverse=True):
            if cat.lower() in q:
                args["category"] = cat
                break
    return tool, args


# ----------------------------------------------------------------------------- model runs


def run_model(key: str, questions: list[dict[str, Any]], registry: Any, settings: Any,
              max_tokens: int) -> list[dict[str, Any]]:
    from assistant.llm import get_llm
    from assistant.prompts import render

    llm = get_llm(settings, model=key)
    specs = registry.specs()
    system = render("agent_system", tools=specs, max_steps=5)
    out = []
    for q in questions:
        t0 = time.perf_counter()
        messages = [{"role": "system", "content": system}, {"role": "user", "content": q["question"]}]
        try:
            gen = llm.generate(messages, tools=specs, max_tokens=max_tokens)  # type: ignore[arg-type]
            call = gen.tool_calls[0] if gen.tool_calls else None  # type: ignore[union-attr]
            name, args = (call.name, dict(call.arguments)) if call else ("(answer)", {})
            error = None
        except Exception as exc:  # a failed generation counts as wrong, and is reported
            name, args, error = "(error)", {}, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        valid, checked = False, args
        tool = registry.get(name)
        if tool is not None:
            try:
                checked, valid = tool.validate(args), True
            except Exception:
                checked = args
        s = score_call(q, name, checked)
        out.append({"id": q["id"], "tool": name, "args": args, "valid": valid, "seconds": seconds,
                    "error": error, **s})
        print(f"  [{key}] {q['id']} {'OK ' if s['args'] else ('tool' if s['tool'] else 'BAD ')} "
              f"{name} {json.dumps(args, ensure_ascii=False)[:120]} ({seconds:.1f}s)", flush=True)
    return out


def summarise(label: str, results: list[dict[str, Any]], n: int) -> str:
    tool_acc = sum(r["tool"] for r in results) / n
    args_acc = sum(r["args"] for r in results) / n
    n_tool = sum(r["tool"] for r in results)
    cond = sum(r["args"] for r in results) / n_tool if n_tool else 0.0
    valid = sum(r.get("valid", True) for r in results) / n
    secs = [r["seconds"] for r in results if "seconds" in r]
    mean_s = f"{sum(secs) / len(secs):7.2f}" if secs else "      -"
    return f"{label:<24} {n:>3} {tool_acc:>9.3f} {args_acc:>9.3f} {cond:>14.3f} {valid:>12.3f} {mean_s}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA), help="questions JSONL file (default: %(default)s)")
    ap.add_argument("--models", default="qwen2.5-coder-0.5b", help="comma-separated model keys")
    ap.add_argument("--limit", type=nonneg_int, default=0, help="only the first N questions (0: all)")
    ap.add_argument("--max-tokens", type=positive_int, default=200)
    ap.add_argument("--out", help="write per-question results as JSON here")
    opts = ap.parse_args(argv)
    data = require_file(opts.data, "a questions JSONL file",
                        f"pass a questions file as the first argument (default {DEFAULT_DATA})")
    keys = [m.strip() for m in opts.models.split(",") if m.strip()]
    for key in keys:  # an unknown or missing model fails now, not after the baselines
        require_model(key)

    from assistant.config import get_settings
    from assistant.tools import default_registry

    questions = load_questions(data)
    if opts.limit:
        questions = questions[: opts.limit]
    n = len(questions)
    registry = default_registry()
    settings = get_settings()
    categories = _demo_categories()

    rows: dict[str, list[dict[str, Any]]] = {}
    freq_tool = Counter(q["tool"] for q in questions).most_common(1)[0][0]
    rows["baseline: most frequent"] = [{**score_call(q, freq_tool, {}), "tool_name": freq_tool} for q in questions]
    kw = []
    for q in questions:
        name, args = keyword_rules(q["question"], categories)
        valid = True
        try:
            args = registry.get(name).validate(args)
        except Exception:
            valid = False
        kw.append({**score_call(q, name, args), "valid": valid})
    rows["baseline: keyword rules"] = kw
    for key in keys:
        print(f"model {key}: {n} questions", flush=True)
        rows[key] = run_model(key, questions, registry, settings, opts.max_tokens)

    print()
    print(f"dataset: {opts.data} ({n} questions; tools: "
          f"{dict(Counter(q['tool'] for q in questions).most_common())})")
    print(f"{'model':<24} {'n':>3} {'tool_acc':>9} {'args_acc':>9} {'args|tool_ok':>14} {'schema_valid':>12} "
          f"{'mean_s':>7}")
    for label, res in rows.items():
        print(summarise(label, res, n))
    print()
    tools = sorted({q["tool"] for q in questions})
    print("tool accuracy per expected tool:")
    print(f"{'model':<24} " + " ".join(f"{t[:14]:>14}" for t in tools))
    for label, res in rows.items():
        cells = []
        for t in tools:
            idx = [i for i, q in enumerate(questions) if q["tool"] == t]
            cells.append(f"{sum(res[i]['tool'] for i in idx)}/{len(idx)}")
        print(f"{label:<24} " + " ".join(f"{c:>14}" for c in cells))
    if opts.out:
        Path(opts.out).write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    return 0


def _demo_categories() -> list[str]:
    import pandas as pd

    path = REPO / "assistant" / "demo" / "data" / "products.csv.gz"
    if not path.exists():
        return []
    cats = pd.read_csv(path, usecols=["category"])["category"].dropna().astype(str).unique().tolist()
    parts = {" > ".join(c.split(" > ")[:i]) for c in cats for i in (1, 2, 3)}
    return sorted(parts)


if __name__ == "__main__":
    run_script(main)
