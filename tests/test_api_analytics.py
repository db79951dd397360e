"""Launch-analytics endpoints (sentiment, audience, plan) over the agent-test store: real SQLite catalog,
real recommender (ALS + content), real forecasts and MILP, scripted LLM (never called here)."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fakes import ScriptedLLM
from fastapi.testclient import TestClient
from fixtures.agent.store import make_context

from assistant.api.app import create_app
from assistant.service import MerchAssistant


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> MerchAssistant:
    ctx = make_context(tmp_path_factory.mktemp("analytics"))
    return MerchAssistant(ctx.settings, llm=ScriptedLLM(["unused"], repeat_last=True), catalog=ctx.catalog,
                          index=ctx.index, embedder=ctx.embedder)


@pytest.fixture(scope="module")
def client(service: MerchAssistant) -> TestClient:
    return TestClient(create_app(service), raise_server_exceptions=False)


def _error(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    return str(r.json()["error"])


def test_sentiment_lexicon_fallback_then_trained_model(client: TestClient, service: MerchAssistant) -> None:
    texts = ["Love it, perfect fit and soft fabric", "Terrible quality, returned it"]
    r = client.post("/v1/sentiment", json={"texts": texts})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"].startswith("lexicon fallback")
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]

    from assistant.sentiment.service import train_from_frame

    rng = np.random.default_rng(0)
    pos, neg = ["love this, perfect fit", "soft fabric, great quality"], ["terrible quality, returned", "awful fit"]
    rows = [{"text": str(rng.choice(pos if r >= 4 else neg)), "rating": float(r), "product_id": f"p{i % 8}"}
            for i, r in enumerate(rng.choice([1, 2, 4, 5], size=80))]
    train_from_frame(pd.DataFrame(rows), features="tfidf", settings=service.settings)
    body = client.post("/v1/sentiment", json={"texts": texts}).json()
    assert body["source"].startswith("trained model (tfidf")
    preds = body["predictions"]
    assert [p["label"] for p in preds] == ["positive", "negative"] and preds[0]["rating"] > preds[1]["rating"]

    assert "texts" in _error(client.post("/v1/sentiment", json={"texts": []}), 422)
    assert "whitespace" in _error(client.post("/v1/sentiment", json={"texts": ["ok", "   "]}), 422)


def test_audience_existing_and_new_product(client: TestClient) -> None:
    r = client.post("/v1/recommend/audience", json={"product": "K1", "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"].startswith("existing product") and body["product_id"] == "K1"
    ids = [c["customer_id"] for c in body["customers"]]
    assert 1 <= len(ids) <= 3 and not {"c1", "c4"} & set(ids)  # K1's buyers are not suggested again
    assert [c["score"] for c in body["customers"]] == sorted((c["score"] for c in body["customers"]), reverse=True)
    assert body["segment"]["n_customers"] == len(ids)

    body = client.post("/v1/recommend/audience", json={"product": "glass cake stand for the kitchen", "k": 2}).json()
    assert body["mode"].startswith("new product") and len(body["customers"]) == 2

    assert "Unknown product id 'K99'" in _error(client.post("/v1/recommend/audience", json={"product": "K99"}), 400)
    assert "k" in _error(client.post("/v1/recommend/audience", json={"product": "K1", "k": 0}), 422)


def _best_by_brute_force(cands: list[dict[str, Any]], budget: float) -> float:
    best = 0.0
    for n in range(1, len(cands) + 1):
        for combo in itertools.combinations(cands, n):
            cost = sum(c["unit_cost"] * c["forecast_mean"] for c in combo)
            if cost <= budget:
                margin = sum((c["price"] - c["unit_cost"]) * c["forecast_mean"] for c in combo)
                best = max(best, margin)
    return best


def test_plan_with_own_forecasts_is_optimal_and_explained(client: TestClient) -> None:
    cands = [{"product_id": f"X{i}", "forecast_mean": m, "unit_cost": c, "price": p, "category": cat}
             for i, (m, c, p, cat) in enumerate([(100, 4, 9, "a"), (60, 10, 18, "a"), (80, 5, 7, "b"),
                                                 (40, 20, 26, "b"), (30, 2, 1.5, "c")])]
    r = client.post("/v1/plan", json={"candidates": cands, "budget": 1000, "risk": 0, "plot": True})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["status"] == "optimal" and plan["budget_used"] <= 1000
    assert plan["expected_margin"] == pytest.approx(_best_by_brute_force(cands, 1000), abs=0.01)
    assert {s["product_id"] for s in plan["selected"]} | {e["product_id"] for e in plan["excluded"]} == {
        f"X{i}" for i in range(5)}
    x4 = next(e for e in plan["excluded"] if e["product_id"] == "X4")
    assert "not positive" in x4["reason"]  # sells below cost
    assert base64.b64decode(plan["plot_png"])[:8] == b"\x89PNG\r\n\x1a\n"

    r = client.post("/v1/plan", json={"candidates": cands, "budget": 1000, "max_per_category": 1, "shelf_slots": 2})
    plan = r.json()
    assert plan["n_selected"] <= 2 and len({s["category"] for s in plan["selected"]}) == plan["n_selected"]

    bad = [{**cands[0], "forecast_low": 500}]
    r = client.post("/v1/plan", json={"candidates": bad, "budget": 100})
    assert "forecast_low" in _error(r, 400) or r.json()["problems"][0]["column"] == "forecast_low"


def test_plan_forecasts_catalog_and_draft_products(client: TestClient) -> None:
    draft = {"product_id": "NEW1", "title": "Enamel milk jug", "category": "Home > Kitchen", "price": 9.0,
             "unit_cost": 3.0, "description": "Enamel milk jug for the kitchen."}
    r = client.post("/v1/plan", json={"products": ["K1", "K2", draft], "budget": 300, "horizon": 6})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["forecasts"]["K1"]["source"] == "sales history"
    assert plan["forecasts"]["NEW1"]["source"] == "similar past launches"
    assert plan["forecasts"]["NEW1"]["unit_cost"] == 3.0 and plan["forecasts"]["K1"]["unit_cost"] == 6.0
    assert plan["n_candidates"] == 3 and plan["budget_used"] <= 300 and plan["horizon_weeks"] == 6

    assert "no price" in _error(client.post("/v1/plan", json={"products": ["K1", "N1"], "budget": 100}), 400)
    assert "exactly one" in _error(client.post("/v1/plan", json={"budget": 100}), 422)
    both = {"products": ["K1"], "candidates": [{"product_id": "a", "forecast_mean": 1, "unit_cost": 1, "price": 2}],
            "budget": 100}
    assert "exactly one" in _error(client.post("/v1/plan", json=both), 422)
    assert "budget" in _error(client.post("/v1/plan", json={"products": ["K1"], "budget": -1}), 422)
    month13 = {**draft, "launch_date": "2024-13-45"}  # matches the YYYY-MM-DD pattern, is no date (was a 500)
    assert "YYYY-MM-DD" in _error(client.post("/v1/plan", json={"products": [month13], "budget": 300}), 400)


def test_a_candidates_plan_forecast_does_not_depend_on_the_other_candidates(client: TestClient) -> None:
    """Each candidate is forecast on its own (forecast_each; tests/test_forecast_demand.py shows grouped selection
    changing a series' model), so a plan's numbers match the demand endpoint's whatever else is listed."""
    def forecast(ids: list[str]) -> dict:
        r = client.post("/v1/plan", json={"products": ids, "budget": 1000, "horizon": 4})
        assert r.status_code == 200, r.text
        return r.json()["forecasts"]["K1"]

    alone, among = forecast(["K1"]), forecast(["K1", "K2", "K3", "K4", "K5", "K6", "P1", "R1"])
    assert (alone["units"], alone["units_low"]) == (among["units"], among["units_low"])
    demand = client.post("/v1/forecast/demand", json={"unique_ids": ["K1"], "h": 4, "level": [80]}).json()
    assert round(demand["series"][0]["total"], 1) == alone["units"]


def test_service_plan_reads_a_candidates_csv(service: MerchAssistant, tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text("product_id,forecast_mean,forecast_low,unit_cost,price\nA,10,8,2,5\nB,10,9,1,x\n")
    from assistant.errors import DataValidationError

    with pytest.raises(DataValidationError) as err:
        service.plan_launch(100, candidates=path)
    problem = err.value.problems[0]
    assert (problem.line, problem.column) == (3, "price")
    path.write_text("product_id,forecast_mean,forecast_low,unit_cost,price\nA,10,8,2,5\nB,10,9,1,3\n")
    plan = service.plan_launch(25, candidates=str(path))  # risk 0.5: A costs 20, margin 25; B costs 10, margin 18.5
    assert [s["product_id"] for s in plan["selected"]] == ["A"] and plan["expected_margin"] == 25.0
    assert plan["excluded"][0]["binding"] == ["budget"]


def test_launch_tab_audience_summary(service: MerchAssistant) -> None:
    from assistant.ui.launch import audience_markdown

    out = service.audience("K1", 3)
    md = audience_markdown(out)
    assert md.startswith("**existing product") and f"{out['segment']['n_customers']} customers" in md
    assert "Customers also bought:" in md and out["also_bought"][0]["product_id"] in md
    with pytest.raises(Exception, match="k must be a whole number"):
        service.audience("K1", 0)
