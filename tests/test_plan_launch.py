from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import DataValidationError
from assistant.plan import plan_launch, plan_portfolio, read_candidates_csv, validate_candidates
from assistant.plan.ga import solve_ga
from assistant.plan.solver import Problem, solve_greedy, solve_milp


def _cands(n: int = 10, seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        mean = float(rng.integers(20, 200))
        out.append({"product_id": f"P{i}", "category": "ABC"[i % 3], "forecast_mean": mean,
                    "forecast_low": mean * float(rng.uniform(0.3, 0.95)), "unit_cost": float(rng.uniform(2, 10)),
                    "price": float(rng.uniform(5, 20))})
    return out


def _brute(p: Problem) -> float:
    best = 0.0
    for bits in itertools.product((0, 1), repeat=p.n):
        x = np.array(bits)
        if p.feasible(x):
            best = max(best, p.value(x))
    return best


@pytest.mark.parametrize("cap,slots,risk", [(None, None, 0.0), (2, None, 0.5), (None, 3, 1.0), (1, 2, 0.3)])
def test_milp_matches_brute_force(cap: int | None, slots: int | None, risk: float) -> None:
    cands = validate_candidates(_cands(10))
    budget = sum(c.cost for c in cands) * 0.35
    p = Problem.build(cands, budget, risk, cap, slots)
    sol = solve_milp(p)
    assert sol.status == "optimal"
    assert p.feasible(sol.x)
    assert sol.objective == pytest.approx(_brute(p), abs=1e-6)
    ga = solve_ga(p, generations=60, seed=1)
    assert p.feasible(ga.x) and ga.objective <= sol.objective + 1e-6
    greedy = solve_greedy(p)
    assert p.feasible(greedy.x) and greedy.objective <= sol.objective + 1e-6


def test_risk_uses_lower_bound_and_excludes_risky_products() -> None:
    cands = [
        {"product_id": "safe", "forecast_mean": 100, "forecast_low": 90, "unit_cost": 5, "price": 8},
        {"product_id": "risky", "forecast_mean": 100, "forecast_low": 10, "unit_cost": 5, "price": 9},
    ]
    bold = plan_launch(cands, budget=500, risk=0.0)
    careful = plan_launch(cands, budget=500, risk=1.0)
    assert [r["product_id"] for r in bold["selected"]] == ["risky"]  # 900-500 > 800-500, only one fits
    assert [r["product_id"] for r in careful["selected"]] == ["safe"]
    assert careful["expected_margin"] == pytest.approx(8 * 90 - 500)
    risky = careful["excluded"][0]
    assert risky["product_id"] == "risky" and risky["binding"] == ["margin"]
    assert "not positive" in risky["reason"]


def test_reasons_name_the_binding_constraint() -> None:
    cands = [
        {"product_id": "a1", "category": "A", "forecast_mean": 10, "unit_cost": 1, "price": 5},
        {"product_id": "a2", "category": "A", "forecast_mean": 10, "unit_cost": 1, "price": 4},
        {"product_id": "b1", "category": "B", "forecast_mean": 10, "unit_cost": 1, "price": 3},
        {"product_id": "big", "category": "C", "forecast_mean": 1000, "unit_cost": 1, "price": 2},
    ]
    plan = plan_portfolio(validate_candidates(cands), 100, max_per_category=1, risk=0.0)
    chosen = {r["product_id"] for r in plan["selected"]}
    assert chosen == {"a1", "b1"}
    why = {r["product_id"]: r for r in plan["excluded"]}
    assert why["a2"]["binding"] == ["max_per_category"] and "category 'A'" in why["a2"]["reason"]
    assert why["big"]["binding"] == ["budget"] and "whole budget" in why["big"]["reason"]
    assert plan["constraints"]["max_per_category"]["full_categories"] == ["A", "B"]
    assert plan["budget_used"] == 20.0 and plan["expected_margin"] == 60.0

    slots = plan_portfolio(validate_candidates(cands[:3]), 100, shelf_slots=2, risk=0.0)
    b1 = next(r for r in slots["excluded"] if r["product_id"] == "b1")
    assert "shelf_slots" in b1["binding"] and "lowers the plan's margin by 10.00" in b1["reason"]
    assert slots["constraints"]["shelf_slots"] == {"limit": 2, "used": 2, "binding": True}


def test_candidate_validation_collects_every_problem(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("product_id,forecast_mean,forecast_low,unit_cost,price\n"
                 "p1,100,80,2,5\n"
                 "p2,abc,1,2,5\n"
                 "p3,10,20,2,5\n"
                 ",10,5,2,5\n"
                 "p1,10,5,-2,5\n")
    with pytest.raises(DataValidationError) as exc:
        read_candidates_csv(f)
    msg = str(exc.value)
    assert "line 3, column 'forecast_mean'" in msg and "'abc'" in msg
    assert "line 4, column 'forecast_low'" in msg
    assert "line 5, column 'product_id'" in msg
    assert "line 6, column 'unit_cost'" in msg
    assert len(exc.value.problems) == 4
    with pytest.raises(DataValidationError, match="does not exist"):
        read_candidates_csv(tmp_path / "missing.csv")


def test_aliases_and_defaults() -> None:
    (c,) = validate_candidates([{"SKU": "x", "yhat": "50", "cost": "2", "Price": 4, "Category": " Mugs "}])
    assert (c.product_id, c.forecast_mean, c.forecast_low, c.category) == ("x", 50.0, 50.0, "Mugs")
    assert c.cost == 100.0 and c.margin(0.5) == 100.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"budget": -1}, "budget"),
        ({"budget": "lots"}, "budget"),
        ({"budget": 10, "risk": 1.5}, "risk"),
        ({"budget": 10, "max_per_category": 0.5}, "max_per_category"),
        ({"budget": 10, "shelf_slots": -2}, "shelf_slots"),
    ],
)
def test_bad_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(DataValidationError, match=match):
        plan_launch(_cands(3), **kwargs)


def test_bad_candidate_shapes() -> None:
    with pytest.raises(DataValidationError, match="list of objects"):
        plan_launch({"product_id": "x"}, budget=10)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="no candidates"):
        plan_launch([], budget=10)
    with pytest.raises(DataValidationError, match="forecast_mean"):
        plan_launch([{"product_id": "x", "unit_cost": 1, "price": 2}], budget=10)
    with pytest.raises(DataValidationError, match="finite"):  # found by fuzzing: price x units overflowed
        plan_launch([{"product_id": "x", "forecast_mean": 1e300, "unit_cost": 1, "price": 1e300}], budget=10)


def test_tool_output_is_compact_and_json_ready() -> None:
    import json

    plan = plan_launch(_cands(60, seed=5), budget=3000, max_per_category=5, shelf_slots=12)
    assert plan["n_selected"] <= 12 and len(plan["excluded"]) <= 20
    assert plan["n_selected"] + plan["n_excluded"] == 60
    assert plan["status"] == "optimal"
    json.dumps(plan)


def test_plan_cli(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from assistant.cli.main import app

    f = tmp_path / "cands.csv"
    f.write_text("product_id,title,category,forecast_mean,forecast_low,unit_cost,price\n"
                 "p1,Mug A,Mugs,100,80,2,5\np2,Mug B,Mugs,120,40,2,6\np3,Candle,Home,50,45,4,9\n"
                 "p4,Bag,Bags,300,100,1,2.5\n")
    runner = CliRunner()
    res = runner.invoke(app, ["plan", "--candidates", str(f), "--budget", "500", "--max-per-category", "1",
                              "--slots", "3", "--risk", "0.5", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [r["product_id"] for r in out["selected"]] == ["p1", "p3"]
    assert out["expected_margin"] == 477.5 and out["n_candidates"] == 4
    res = runner.invoke(app, ["plan", "--candidates", str(f), "--budget", "500", "--risk", "2"])
    assert res.exit_code == 2 and "risk must be between 0" in res.output
    res = runner.invoke(app, ["plan", "--candidates", str(f), "--budget", "500"])
    assert res.exit_code == 0 and "launch" in res.output
    res = runner.invoke(app, ["plan", "--budget", "500"])
    assert res.exit_code == 2 and "--candidates FILE or one or more --product-id" in res.output


def test_plan_cli_forecasts_catalog_products(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from fixtures.agent.store import make_context
    from typer.testing import CliRunner

    from assistant.cli.main import app

    ctx = make_context(tmp_path)
    monkeypatch.setenv("ASSISTANT_HOME", str(ctx.settings.home))
    monkeypatch.setattr("assistant.index.embedder.get_embedder", lambda *a, **k: ctx.embedder)
    res = CliRunner().invoke(app, ["plan", "-p", "K1", "-p", "K2", "-p", "P4", "--budget", "300", "--horizon", "6",
                                   "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n_candidates"] == 3 and out["horizon_weeks"] == 6 and out["budget_used"] <= 300
    assert out["forecasts"]["K1"]["source"] == "sales history"
    assert out["forecasts"]["P4"]["source"] == "similar past launches"
    nope = CliRunner().invoke(app, ["plan", "-p", "NOPE", "--budget", "300"])
    assert nope.exit_code == 2 and "assistant search" in nope.output and "find_similar_products" not in nope.output


def test_candidate_files_other_than_csv_and_a_missing_column(tmp_path: Path) -> None:
    import pandas as pd

    rows = pd.DataFrame(_cands(3))
    rows.to_parquet(tmp_path / "c.parquet")
    rows.to_json(tmp_path / "c.jsonl", orient="records", lines=True)
    rows.to_csv(tmp_path / "c.tsv", sep="\t", index=False)
    for name in ("c.parquet", "c.jsonl", "c.tsv"):
        assert [c.product_id for c in read_candidates_csv(tmp_path / name)] == list(rows["product_id"])
    rows.drop(columns=["unit_cost"]).to_csv(tmp_path / "no_cost.csv", index=False)
    with pytest.raises(DataValidationError, match=r"missing column\(s\) unit_cost") as exc:
        read_candidates_csv(tmp_path / "no_cost.csv")
    assert exc.value.problems == []  # said once, not once per row


def test_solver_chatter_stays_off_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """HiGHS printed "HighsMipSolverData::..." lines to stdout on larger plans, breaking `assistant plan --json`
    (docs acceptance, session 20: 151 lines for 1,000 candidates). Stdout holds only what the command prints."""
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 1000
    mean = rng.uniform(20, 1200, n)
    f = tmp_path / "big.csv"
    pd.DataFrame({"product_id": [f"X{i}" for i in range(n)], "forecast_mean": mean.round(1),
                  "forecast_low": (mean * rng.uniform(0.3, 0.95, n)).round(1),
                  "unit_cost": rng.uniform(2, 10, n).round(2), "price": rng.uniform(5, 20, n).round(2),
                  "category": [f"C{i}" for i in rng.integers(0, 40, n)]}).to_csv(f, index=False)
    from typer.testing import CliRunner

    from assistant.cli.main import app

    capfd.readouterr()
    res = CliRunner().invoke(app, ["plan", "--candidates", str(f), "--budget", "60000", "--max-per-category", "5",
                                   "--slots", "60", "--json"])
    out, err = capfd.readouterr()
    assert res.exit_code == 0 and json.loads(res.stdout)["n_candidates"] == n
    assert "Highs" not in out and "Highs" in err  # the process's own stdout (fd 1) got none of it
