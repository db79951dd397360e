"""Key figures: the numbers the front-ends show under an answer come from the tool results, by code."""

from __future__ import annotations

from assistant.agent.figures import KeyFigure, figures_markdown, key_figures
from assistant.agent.result import AgentResult, AgentStep

DEMAND = {"series": "R47566", "kind": "product", "title": "Party Bunting", "total_units": 828.0, "total_lo_80": 0.0,
          "total_hi_80": 6198.5, "frequency": "W-MON", "model": "Naive", "cv_mase": 1.68, "level": 80,
          "history": {"periods": 54, "last_period_units": 69.0, "units_last_12_periods": 2029.0,
                      "mean_units_last_12_periods": 169.1},
          "by_period": [{"period": f"2011-12-{d:02d}", "units": 69.0, "lo_80": 0.0, "hi_80": 373.4}
                        for d in (12, 19, 26)]}
NEW = {"product": {"title": "Star fairy lights", "category": "Candles & Lights", "price": 4.95}, "level": 80,
       "total_units": 925.1, "total_lo_80": 504.1, "total_hi_80": 2866.4,
       "by_week": [{"week": w, "units": 115.8} for w in range(1, 9)]}
STATS = {"scope": {"product_id": "C1078"}, "n_reviews": 987, "rating_mean": 4.19, "aspects": []}
PLAN = {"summary": "Launch R21212 (1 of 3 candidates) ...", "expected_margin": 718.33, "budget_used": 1864.28,
        "n_candidates": 3, "n_selected": 1, "selected": [{"product_id": "R21212"}], "excluded": []}


def test_key_figures_of_each_known_tool() -> None:
    steps = [AgentStep("forecast_demand", {"product_id": "R47566", "horizon": 3}, result=DEMAND),
             AgentStep("forecast_new_product", {"title": "Star fairy lights"}, result=NEW),
             AgentStep("review_stats", {"product_id": "C1078"}, result=STATS),
             AgentStep("plan_launch", {"candidates": ["R21212"], "budget": 5000}, result=PLAN),
             AgentStep("search_reviews", {"query": "zip"}, result={"reviews": [{"rating": 5}]}),  # no key figures
             AgentStep("forecast_demand", {"product_id": "R1"}, error="unknown product R1")]
    got = [(f.subject, f.figure, f.value, f.interval, f.source) for f in key_figures(steps)]
    assert got == [
        ("R47566", "forecast, next 3 weeks (units)", 828.0, "0 to 6,198.5 (80%)", "forecast_demand.total_units"),
        ("R47566", "sold, last 12 weeks (units)", 2029.0, "", "forecast_demand.history.units_last_12_periods"),
        ("Star fairy lights", "forecast, next 8 weeks (units)", 925.1, "504.1 to 2,866.4 (80%)",
         "forecast_new_product.total_units"),
        ("C1078", "reviews", 987.0, "", "review_stats.n_reviews"),
        ("C1078", "mean rating (1-5)", 4.19, "", "review_stats.rating_mean"),
        ("launch plan", "products to launch, of 3 (R21212)", 1.0, "", "plan_launch.n_selected"),
        ("launch plan", "expected margin", 718.33, "", "plan_launch.expected_margin"),
        ("launch plan", "budget used", 1864.28, "", "plan_launch.budget_used"),
    ]


def test_repeated_calls_give_one_row_and_odd_results_give_none() -> None:
    step = AgentStep("forecast_demand", {"product_id": "R47566"}, result=DEMAND)
    assert len(key_figures([step, step])) == 2
    odd = [AgentStep("forecast_demand", {}, result={"total_units": "n/a", "history": [1, 2]}),
           AgentStep("review_stats", {}, result={"n_reviews": True, "scope": None}),
           AgentStep("forecast_demand", {}, result={"total_units": 5.0, "level": 95})]  # no interval at that level
    assert [(f.figure, f.interval) for f in key_figures(odd)] == [("forecast, forecast horizon (units)", "")]


def test_markdown_table_and_result_dict() -> None:
    fig = KeyFigure("R|1", "forecast, next 4 weeks (units)", 8441.4, "forecast_demand.total_units", 3153.0,
                    13729.8, 80)
    table = figures_markdown([fig]).splitlines()
    assert table[0] == "| | figure | value | interval |"
    assert table[2] == "| R\\|1 | forecast, next 4 weeks (units) | 8,441.4 | 3,153 to 13,729.8 (80%) |"
    assert figures_markdown([]) == ""
    result = AgentResult("q", "a", steps=[AgentStep("review_stats", {}, result=STATS)])
    assert [f["value"] for f in result.as_dict()["figures"]] == [987.0, 4.19]
