"""Launch-portfolio planner: exact MILP vs genetic algorithm (and greedy) on real new products.

Candidates: Online Retail (UCI) StockCodes first sold 2011-06-01 .. 2011-10-14 (so 8 weeks of sales are
observed), clean sales only. Real: title, category (last word of the description, rare ones -> OTHER),
price (median unit price) and the actual first-8-week units. SYNTHETIC (seed 0): the forecast
(mean = actual units x lognormal noise, sigma 0.35; low = mean x U(0.35, 0.85)) and the unit cost
(price x U(0.35, 0.75)). Constraints: budget = 25% of the cost of launching everything, at most 5 per
category, 60 shelf slots, risk 0.5. "realised" = margin the chosen plan would have made with the actual
units (price x min(actual, stock) - cost x stock).

    .venv/bin/python bench/plan_bench.py [--data ../shared/data/online_retail]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")  # before numpy: one BLAS thread

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from assistant.plan.candidates import Candidate, validate_candidates  # noqa: E402
from assistant.plan.ga import solve_ga  # noqa: E402
from assistant.plan.solver import Problem, solve_greedy, solve_milp  # noqa: E402
from assistant.scripting import require_columns, require_file, run_script  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "online_retail"
RETAIL = "the Online Retail CSV"


def build_candidates(path: Path, seed: int = 0) -> tuple[list[dict], dict[str, float]]:
    f = path / "online_retail.csv.gz" if path.is_dir() else path
    df = pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"}, parse_dates=["InvoiceDate"])
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0) & df["StockCode"].str.match(r"^\d{5}")]
    first = df.groupby("StockCode")["InvoiceDate"].min()
    new = first[(first >= "2011-06-01") & (first <= "2011-10-14")]
    sub = df[df["StockCode"].isin(new.index)].copy()
    sub["age_days"] = (sub["InvoiceDate"] - sub["StockCode"].map(new)).dt.days
    units = sub[sub["age_days"] < 56].groupby("StockCode")["Quantity"].sum()
    price = sub.groupby("StockCode")["UnitPrice"].median()
    desc = (sub[sub["Description"].fillna("").str.strip() != ""].groupby("StockCode")["Description"]
            .agg(lambda s: s.str.strip().mode().iloc[0]))
    cat = desc.str.split().str[-1]
    counts = cat.value_counts()
    cat = cat.where(cat.map(counts) >= 3, "OTHER")
    rng = np.random.default_rng(seed)
    rows, actual = [], {}
    for code in units.index:
        if code not in desc.index:
            continue
        mean = float(units[code]) * float(np.exp(rng.normal(0, 0.35)))
        p = float(price[code])
        rows.append({"product_id": code, "title": desc[code], "category": cat[code],
                     "forecast_mean": round(mean, 1), "forecast_low": round(mean * rng.uniform(0.35, 0.85), 1),
                     "price": round(p, 2), "unit_cost": round(p * rng.uniform(0.35, 0.75), 3)})
        actual[code] = float(units[code])
    return rows, actual


def realised(cands: list[Candidate], x: np.ndarray, actual: dict[str, float]) -> float:
    return float(sum(c.price * min(actual[c.product_id], c.qty) - c.cost for c, s in zip(cands, x, strict=True) if s))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="the Online Retail folder or its online_retail.csv.gz (default: %(default)s)")
    args = ap.parse_args()
    data = require_file(args.data, RETAIL, f"pass --data DIR or CSV (default {DEFAULT_DATA})",
                        name="online_retail.csv.gz")
    require_columns(data, ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice"], RETAIL)
    rows, actual = build_candidates(data)
    all_c = validate_candidates(rows)
    print(f"candidates: {len(all_c)} Online Retail products first sold 2011-06-01..2011-10-14, "
          f"{len({c.category for c in all_c})} categories (synthetic forecasts and costs, see docstring)")

    for n in (200, len(all_c)):
        cands = all_c[:n]
        budget = 0.25 * sum(c.cost for c in cands)
        p = Problem.build(cands, budget, 0.5, max_per_category=5, shelf_slots=60)
        milp = solve_milp(p)
        print(f"\n{n} candidates, budget {budget:.0f}, max 5/category, 60 slots, risk 0.5")
        print(f"  MILP (HiGHS)      objective {milp.objective:10.2f}  time {milp.seconds * 1000:8.1f} ms  "
              f"status {milp.status}  selected {int(milp.x.sum())}  realised {realised(cands, milp.x, actual):10.2f}")
        for label, sol in (("greedy ratio", solve_greedy(p)),
                           ("GA 80x300 seed 0", solve_ga(p, pop_size=80, generations=300, seed=0)),
                           ("GA 80x300 seed 1", solve_ga(p, pop_size=80, generations=300, seed=1)),
                           ("GA 200x1000", solve_ga(p, pop_size=200, generations=1000, seed=0))):
            gap = (milp.objective - sol.objective) / abs(milp.objective) * 100
            print(f"  {label:17s} objective {sol.objective:10.2f}  time {sol.seconds * 1000:8.1f} ms  "
                  f"gap {gap:6.3f}%  feasible {p.feasible(sol.x)}  time ratio vs MILP "
                  f"{sol.seconds / max(milp.seconds, 1e-9):6.1f}x")

    print("\nrisk setting (all candidates, same constraints): expected vs realised margin of the MILP plan")
    budget = 0.25 * sum(c.cost for c in all_c)
    for risk in (0.0, 0.25, 0.5, 0.75, 1.0):
        p = Problem.build(all_c, budget, risk, max_per_category=5, shelf_slots=60)
        s = solve_milp(p)
        print(f"  risk {risk:4.2f}: selected {int(s.x.sum()):3d}  expected {s.objective:10.2f}  "
              f"realised {realised(all_c, s.x, actual):10.2f}  budget used {p.cost[s.x.astype(bool)].sum():9.0f}")

    # scaling: bootstrap of the real candidates (ids made unique), no slot limit
    rng = np.random.default_rng(1)
    for n in (1000, 5000):
        pick = rng.integers(0, len(rows), n)
        big = validate_candidates([{**rows[i], "product_id": f"{rows[i]['product_id']}#{j}",
                                    "category": f"{rows[i]['category']}{j % 7}"} for j, i in enumerate(pick)])
        budget = 0.25 * sum(c.cost for c in big)
        p = Problem.build(big, budget, 0.5, max_per_category=5)
        t0 = time.perf_counter()
        milp = solve_milp(p)
        ga = solve_ga(p, pop_size=80, generations=300, seed=0)
        print(f"\nscaling: {n} bootstrapped candidates, max 5/category: MILP {milp.objective:.2f} in "
              f"{milp.seconds:.2f} s ({milp.status}); GA 80x300 {ga.objective:.2f} in {ga.seconds:.2f} s, gap "
              f"{(milp.objective - ga.objective) / abs(milp.objective) * 100:.3f}% (total {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    run_script(main)
