"""The launch planner tool: validate candidates, solve the MILP, explain every decision."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import DataValidationError
from assistant.plan.candidates import ALIASES, REQUIRED, Candidate, validate_candidates, validate_settings
from assistant.plan.solver import Problem, Solution, solve_milp

MAX_REGRET_CHECKS = 25  # excluded products whose "cost of forcing it in" is computed with an extra MILP


def read_candidates_csv(path: str | Path) -> list[Candidate]:
    """Candidates from a CSV / TSV file (header row + one product per row), or Parquet / JSON lines (one
    product per row); errors name file, line and column, and a required column missing from the file is
    reported once."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"Candidates file {path} does not exist; pass a CSV with columns "
                                  "product_id, forecast_mean, forecast_low, unit_cost, price[, category].")
    name = path.name.lower()
    rows: list[dict[str, Any]]
    if name.endswith((".parquet", ".pq", ".jsonl", ".jsonl.gz", ".ndjson")):
        import pandas as pd

        try:
            frame = pd.read_parquet(path) if name.endswith((".parquet", ".pq")) else pd.read_json(path, lines=True)
        except Exception as exc:  # pyarrow / json raise several types for a bad file
            raise DataValidationError(f"{path}: not a readable {name.rsplit('.', 1)[-1]} file ({exc}).") from exc
        rows = [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
        first = 1
    else:
        dialect = "excel-tab" if name.endswith((".tsv", ".tab")) else "excel"
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.DictReader(fh, dialect=dialect))
        except UnicodeDecodeError:
            with path.open(newline="", encoding="latin-1") as fh:
                rows = list(csv.DictReader(fh, dialect=dialect))
        first = 2
    have = {ALIASES.get(str(k).strip().lower()) for k in (rows[0] if rows else {})}
    missing = [c for c in REQUIRED if c not in have]
    if rows and missing:
        raise DataValidationError(f"{path}: missing column(s) {', '.join(missing)} (found "
                                  f"{', '.join(map(str, rows[0]))}). Candidates need product_id, forecast_mean, "
                                  "unit_cost and price; forecast_low and category are optional.")
    return validate_candidates(rows, source=str(path), first_line=first)


def _fmt(v: float) -> float:
    return round(float(v), 2)


def _explain(cands: Sequence[Candidate], p: Problem, sol: Solution, risk: float) -> tuple[list[dict], list[dict]]:
    sel = sol.x.astype(bool)
    used = float(p.cost[sel].sum())
    left = p.budget - used
    n_sel = int(sel.sum())
    cat_count: dict[str, int] = {}
    for cat, chosen in zip(p.category, sel, strict=True):
        if chosen:
            cat_count[cat] = cat_count.get(cat, 0) + 1
    ratio = p.margin / np.maximum(p.cost, 1e-9)
    rank = {int(i): r + 1 for r, i in enumerate(np.argsort(-ratio, kind="stable"))}
    regret_for = [int(i) for i in np.argsort(-p.margin) if not sel[i] and p.margin[i] > 0
                  and p.cost[i] <= p.budget][:MAX_REGRET_CHECKS]
    regret = {}
    for i in regret_for:
        forced = solve_milp(p, fixed={i: 1}, time_limit=10.0)
        regret[i] = sol.objective - forced.objective if np.isfinite(forced.objective) else None
    selected, excluded = [], []
    for i, c in enumerate(cands):
        row: dict[str, Any] = {
            "product_id": c.product_id, "title": c.title, "category": c.category,
            "margin": _fmt(p.margin[i]), "cost": _fmt(p.cost[i]), "demand_used": _fmt(c.demand(risk)),
            "margin_per_budget": round(float(ratio[i]), 4), "ratio_rank": rank[i],
        }
        if sel[i]:
            share = p.cost[i] / p.budget * 100 if p.budget > 0 else 0.0
            row["decision"] = "launch"
            row["reason"] = (f"expected margin {p.margin[i]:.2f} at risk {risk:g}; uses {p.cost[i]:.2f} "
                             f"({share:.1f}% of the budget); margin per budget unit {ratio[i]:.3f} "
                             f"(#{rank[i]} of {p.n})")
            selected.append(row)
            continue
        row["decision"] = "skip"
        if p.margin[i] <= 0:
            row["binding"] = ["margin"]
            row["reason"] = (f"risk-adjusted margin {p.margin[i]:.2f} is not positive: {c.demand(risk):.1f} "
                             f"units at price {c.price:g} do not cover the cost {p.cost[i]:.2f}")
        elif p.cost[i] > p.budget:
            row["binding"] = ["budget"]
            row["reason"] = f"costs {p.cost[i]:.2f} on its own, more than the whole budget {p.budget:.2f}"
        else:
            why, binding = [], []
            if p.cost[i] > left + 1e-6:
                binding.append("budget")
                why.append(f"needs {p.cost[i]:.2f} but only {left:.2f} of the budget is left")
            if p.max_per_category is not None and cat_count.get(c.category, 0) >= p.max_per_category:
                binding.append("max_per_category")
                why.append(f"category {c.category or '(none)'!r} already has its maximum of "
                           f"{p.max_per_category} product(s) in the plan")
            if p.shelf_slots is not None and n_sel >= p.shelf_slots:
                binding.append("shelf_slots")
                why.append(f"all {p.shelf_slots} shelf slots are taken")
            if not why:
                why.append("a better plan uses its resources elsewhere")
            if regret.get(i) is not None:
                why.append(f"forcing it in lowers the plan's margin by {regret[i]:.2f}")
            row["binding"] = binding
            row["reason"] = "; ".join(why)
        excluded.append(row)
    excluded.sort(key=lambda r: -r["margin"])
    selected.sort(key=lambda r: -r["margin"])
    return selected, excluded


def plan_portfolio(cands: Sequence[Candidate], budget: float, *, max_per_category: int | None = None,
                   shelf_slots: int | None = None, risk: float = 0.5, time_limit: float = 60.0) -> dict[str, Any]:
    """Full plan (every candidate explained) for validated candidates."""
    validate_settings(budget, max_per_category, shelf_slots, risk)
    p = Problem.build(cands, float(budget), float(risk), max_per_category, shelf_slots)
    sol = solve_milp(p, time_limit=time_limit)
    selected, excluded = _explain(cands, p, sol, float(risk))
    used = float(p.cost[sol.x.astype(bool)].sum())
    counts: dict[str, int] = {}
    for r in selected:
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    constraints: dict[str, Any] = {
        "budget": {"limit": _fmt(budget), "used": _fmt(used), "left": _fmt(budget - used),
                   "binding": any("budget" in r.get("binding", []) for r in excluded if r["margin"] > 0)},
    }
    if shelf_slots is not None:
        constraints["shelf_slots"] = {"limit": shelf_slots, "used": len(selected),
                                      "binding": len(selected) >= shelf_slots}
    if max_per_category is not None:
        constraints["max_per_category"] = {
            "limit": max_per_category, "per_category": dict(sorted(counts.items())),
            "full_categories": sorted(c for c, n in counts.items() if n >= max_per_category)}
    return {
        "status": sol.status, "risk": float(risk), "expected_margin": _fmt(sol.objective),
        "budget_used": _fmt(used), "n_candidates": len(cands), "n_selected": len(selected),
        "selected": selected, "excluded": excluded, "constraints": constraints,
        "solver": {"method": "milp (scipy.optimize.milp / HiGHS)", "seconds": round(sol.seconds, 4)},
    }


def plan_rows(candidates: Sequence[Mapping[str, Any]], budget: float, *, max_per_category: int | None = None,
              shelf_slots: int | None = None, risk: float = 0.5) -> dict[str, Any]:
    """The full plan (every candidate explained) for raw candidate objects (JSON rows, numbered from 1 in
    error messages)."""
    if not isinstance(candidates, Sequence) or isinstance(candidates, str | bytes | Mapping):
        raise DataValidationError("candidates must be a list of objects (one per product).")
    cands = validate_candidates(list(candidates), source="candidates (item number)", first_line=1)
    return plan_portfolio(cands, budget, max_per_category=max_per_category, shelf_slots=shelf_slots, risk=risk)


def plan_launch(candidates: list[dict], budget: float, max_per_category: int | None = None,
                shelf_slots: int | None = None, risk: float = 0.5) -> dict:
    """Choose which new products to launch to maximise risk-adjusted expected margin.

    Each candidate needs product_id, forecast_mean (units), unit_cost and price; optional forecast_low
    (lower forecast bound, default = mean), category, title, fixed_cost and order_qty (default = mean).
    risk 0 plans on the mean forecast, 1 on the lower bound. Solved exactly (MILP) under the budget, at
    most max_per_category products per category and shelf_slots products in total. Returns the chosen
    products and, for the 20 best excluded ones, why they were left out.
    """
    plan = plan_rows(candidates, budget, max_per_category=max_per_category, shelf_slots=shelf_slots, risk=risk)
    plan["n_excluded"] = len(plan["excluded"])
    plan["excluded"] = plan["excluded"][:20]
    return plan
