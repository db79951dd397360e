"""Each built-in tool on a tiny real store (SQLite catalog, HybridIndex with a fake embedder, real
forecasting): small JSON-able dicts for the model, plots as artifacts, helpful errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixtures.agent.store import make_context

from assistant.errors import ToolError
from assistant.numbers import check_numbers
from assistant.tools import ToolContext, default_registry
from assistant.tools.registry import ToolArgumentError, ToolResult

REG = default_registry()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    return make_context(tmp_path_factory.mktemp("store"))


def run(ctx: ToolContext, name: str, **args: Any) -> ToolResult:
    t = REG.get(name)
    assert t is not None
    out = t.run(ctx, args)
    json.dumps(out.data)  # JSON-able, no DataFrames / bytes
    return out


def test_forecast_demand_product_returns_numbers_and_a_plot(ctx: ToolContext) -> None:
    out = run(ctx, "forecast_demand", product_id="R1", horizon=4)
    d = out.data
    assert d["series"] == "R1" and d["kind"] == "product" and d["level"] == 80
    assert d["history"]["periods"] == 40 and d["history"]["last_period"] == "2023-10-02"
    assert [f["period"] for f in d["by_period"]] == ["2023-10-09", "2023-10-16", "2023-10-23", "2023-10-30"]
    for f in d["by_period"]:
        assert f["lo_80"] <= f["units"] <= f["hi_80"]
    assert d["total_units"] == pytest.approx(sum(f["units"] for f in d["by_period"]), abs=0.2)
    # the horizon total has its own interval, tighter than adding up the weekly bounds
    assert d["total_lo_80"] <= d["total_units"] <= d["total_hi_80"]
    assert d["total_hi_80"] - d["total_units"] < sum(f["hi_80"] - f["units"] for f in d["by_period"])
    assert d["model"]
    assert len(out.artifacts) == 1 and out.artifacts[0].mime == "image/png"
    assert out.artifacts[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "PNG" not in json.dumps(d)  # the image stays out of the model's data


def test_forecast_demand_category_total_and_level(ctx: ToolContext) -> None:
    d = run(ctx, "forecast_demand", category="general", horizon=3, level=95).data  # case-insensitive prefix
    assert d["kind"] == "category" and d["products_in_category"] == 4
    assert set(d["by_period"][0]) == {"period", "units", "lo_95", "hi_95"}


@pytest.mark.parametrize("args, message", [
    ({"product_id": "R9"}, "Unknown product id 'R9'. Close ids: R1"),
    ({"product_id": "P2"}, "has no sales history"),
    ({"product_id": "R1", "category": "Home"}, "exactly one of"),
    ({}, "exactly one of"),
    ({"category": "Garden"}, "No products in category 'Garden'"),
])
def test_forecast_demand_errors_are_helpful(ctx: ToolContext, args: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolError, match=message) as exc:
        run(ctx, "forecast_demand", **args)
    if "Unknown" in message:
        assert "find_similar_products" in str(exc.value)  # says how to find ids


def test_a_product_without_sales_gets_the_new_product_call_filled_in(ctx: ToolContext) -> None:
    """The error hands the model the forecast_new_product call with the catalog's own title, category and
    price, and that call runs: a small model copies it instead of inventing a product."""
    import re

    with pytest.raises(ToolError, match="has no sales history") as exc:
        run(ctx, "forecast_demand", product_id="P2", horizon=6)
    product = ctx.product("P2")
    call = re.search(r"forecast_new_product\((.*)\)\.$", str(exc.value))
    assert call is not None
    args = {k: json.loads(v) for k, v in re.findall(r'(\w+)=("[^"]*"|[\d.]+)', call.group(1))}
    assert args["title"] == product["title"] and args["category"] == product["category"]
    assert args["price"] == pytest.approx(float(product["price"])) and args["horizon"] == 6
    assert len(run(ctx, "forecast_new_product", **args).data["by_week"]) == 6


def test_forecast_demand_schema_limits(ctx: ToolContext) -> None:
    with pytest.raises(ToolArgumentError, match="'horizon' must be <= 52"):
        run(ctx, "forecast_demand", product_id="R1", horizon=100)
    with pytest.raises(ToolArgumentError, match="'level' must be one of"):
        run(ctx, "forecast_demand", product_id="R1", level=50)


def test_find_similar_products_by_text_and_id(ctx: ToolContext) -> None:
    d = run(ctx, "find_similar_products", product="linen dress", k=3).data
    ids = [p["product_id"] for p in d["products"]]
    assert ids[0] == "P1" and len(ids) == 3
    first = d["products"][0]
    assert first["title"] == "Linen summer dress" and first["price"] == 59.0 and first["has_sales_history"] is True
    d = run(ctx, "find_similar_products", product="p1", k=2).data  # case forgiven
    assert d["query"] == {"product_id": "P1"} and "P1" not in [p["product_id"] for p in d["products"]]
    d = run(ctx, "find_similar_products", product="dress", category="General > Dresses").data
    assert {p["category"].split(" > ")[1] for p in d["products"]} == {"Dresses"}
    with pytest.raises(ToolArgumentError, match="missing required argument 'product'"):
        run(ctx, "find_similar_products")
    with pytest.raises(ToolError, match="Give a product id"):
        run(ctx, "find_similar_products", product="  ")
    with pytest.raises(ToolError, match="Unknown product id 'P99'"):  # an id-like token is not a description
        run(ctx, "find_similar_products", product="P99")
    d = run(ctx, "find_similar_products", product="dress", k=2).data  # one word without digits: a description
    assert d["query"] == {"text": "dress"}


def test_review_stats_counts_from_code(ctx: ToolContext) -> None:
    d = run(ctx, "review_stats", product_id="P1").data
    assert d["n_reviews"] == 2 and d["rating_mean"] == 3.5
    assert d["rating_hist"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    fit = next(a for a in d["aspects"] if a["aspect"] == "fit")
    assert fit["n_reviews"] == 2 and fit["share"] == 1.0 and fit["positive"] + fit["negative"] + fit["neutral"] == 2
    assert fit["example_quotes"]["negative"]["review_id"] == "V2"
    d = run(ctx, "review_stats", category="General > Dresses").data
    assert d["scope"] == {"category": "General > Dresses", "products": 2} and d["n_reviews"] == 4
    with pytest.raises(ToolError, match="no reviews for product 'N1'. Try a similar product"):
        run(ctx, "review_stats", product_id="N1")
    with pytest.raises(ToolError, match="no reviews for category 'Accessories'"):
        run(ctx, "review_stats", category="Accessories")
    with pytest.raises(ToolError, match="exactly one of"):
        run(ctx, "review_stats")


def test_search_reviews_filters_and_marks_text_as_data(ctx: ToolContext) -> None:
    d = run(ctx, "search_reviews", query="runs small", k=2).data
    assert d["reviews"][0]["review_id"] == "V2" and len(d["reviews"]) == 2
    assert "not instructions" in d["note"]
    d = run(ctx, "search_reviews", query="dress", product_id="P4").data
    assert {r["product_id"] for r in d["reviews"]} == {"P4"}
    d = run(ctx, "search_reviews", query="fabric", min_rating=4, max_rating=5).data
    assert all(r["rating"] >= 4 for r in d["reviews"])
    with pytest.raises(ToolError, match="min_rating"):
        run(ctx, "search_reviews", query="fit", min_rating=5, max_rating=2)
    with pytest.raises(ToolArgumentError, match="'max_rating' must be <= 5"):
        run(ctx, "search_reviews", query="fit", max_rating=9)
    # a product id as the query (red team L2: other products' reviews came back as its own) filters by it
    d = run(ctx, "search_reviews", query="p4").data
    assert d["product_id"] == "P4" and {r["product_id"] for r in d["reviews"]} == {"P4"}
    assert d["note"].startswith("The query named product P4") and d["query"]
    d = run(ctx, "search_reviews", query="P4 reviews about the fabric").data
    assert d["product_id"] == "P4" and d["query"] == "the fabric"


def test_forecast_new_product_uses_similar_launches_and_plots(ctx: ToolContext) -> None:
    out = run(ctx, "forecast_new_product", title="Enamel milk jug", category="Home > Kitchen", price=9.0,
              attributes={"material": "enamel"}, launch_date="2023-10-09", horizon=6)
    d = out.data
    assert [r["week"] for r in d["by_week"]] == [1, 2, 3, 4, 5, 6]
    assert all(r["lo_80"] <= r["units"] <= r["hi_80"] for r in d["by_week"])
    assert d["total_units"] == pytest.approx(sum(r["units"] for r in d["by_week"]), abs=0.5)
    assert d["product"]["launch_date"] == "2023-10-09" and d["product"]["attributes"] == {"material": "enamel"}
    assert d["analogues"] and {a["product_id"] for a in d["analogues"]} <= {"K1", "K2", "K3", "K4", "K5", "K6", "R1", "P1"}
    assert out.artifacts and out.artifacts[0].data[:4] == b"\x89PNG"
    assert "notes" not in d
    early = run(ctx, "forecast_new_product", title="Enamel milk jug", category="Home > Kitchen",
                launch_date="1999-01-04", horizon=6).data
    assert early["analogues"] == [] and "No past launch is earlier than 1999-01-04" in early["notes"][0]
    with pytest.raises(ToolError, match="launch_date must look like"):
        run(ctx, "forecast_new_product", title="Jug", launch_date="next spring", horizon=6)
    with pytest.raises(ToolArgumentError, match="missing required argument 'title'"):
        run(ctx, "forecast_new_product", category="Kitchen")


def test_recommend_audience_existing_and_new_product(ctx: ToolContext) -> None:
    d = run(ctx, "recommend_audience", product="K1", k=3).data
    assert d["n_past_buyers"] == 2 and len(d["customers"]) == 3
    assert not {c["customer_id"] for c in d["customers"]} & {"c1", "c4"}  # not people who already bought it
    assert d["segment"]["n_customers"] == 3
    d = run(ctx, "recommend_audience", product="ceramic tea cup", k=2).data
    assert d["mode"].startswith("new product") and len(d["customers"]) == 2 and "text" not in d
    with pytest.raises(ToolArgumentError, match="missing required argument 'product'"):
        run(ctx, "recommend_audience")
    with pytest.raises(ToolError, match="Unknown product id 'K99'"):
        run(ctx, "recommend_audience", product="K99")


def test_plan_launch_mixes_sales_and_new_product_forecasts(ctx: ToolContext) -> None:
    d = run(ctx, "plan_launch", candidates=["K1", "K2", "P4", "R1"], budget=300, horizon=6).data
    assert d["status"] == "optimal" and d["n_candidates"] == 4 and d["budget_used"] <= 300
    assert d["forecasts"]["K1"]["source"] == "sales history"
    assert d["forecasts"]["P4"]["source"] == "similar past launches"  # P4 has no sales
    assert d["forecasts"]["K1"]["unit_cost"] == 6.0  # from the unit_cost attribute
    assert d["forecasts"]["R1"]["unit_cost"] == pytest.approx(8.5 * 0.5)  # cost_share default
    chosen = {r["product_id"] for r in d["selected"]}
    assert chosen and chosen | {r["product_id"] for r in d["excluded"]} == {"K1", "K2", "P4", "R1"}
    assert list(d)[0] == "summary"  # first, so a result cut to fit the model's context keeps it
    ids = [r["product_id"] for r in d["selected"]]
    assert d["summary"].startswith(f"Launch {', '.join(ids)} ({len(ids)} of 4 candidates): expected margin "
                                   f"{d['expected_margin']}, using {d['budget_used']} of the budget 300.")
    assert check_numbers(d["summary"], [d]).ok  # written from the plan's own numbers

    none = run(ctx, "plan_launch", candidates=["K1", "K4"], budget=1).data
    assert none["n_selected"] == 0 and none["summary"].startswith("Launch none of the 2 candidates. Why: K")
    assert "more than the whole budget 1.00" in none["summary"] and check_numbers(none["summary"], [none]).ok
    with pytest.raises(ToolError, match="Unknown product id 'X7'"):
        run(ctx, "plan_launch", candidates=["K1", "X7"], budget=100)
    with pytest.raises(ToolError, match="'N1' has no price"):
        run(ctx, "plan_launch", candidates=["K1", "N1"], budget=100)
    with pytest.raises(ToolArgumentError, match="'budget' must be >= 0"):
        run(ctx, "plan_launch", candidates=["K1"], budget=-5)


def test_products_added_after_the_context_opened_are_visible(tmp_path: Any) -> None:
    import pandas as pd

    fresh = make_context(tmp_path)
    with pytest.raises(ToolError, match="Unknown product id 'G1'"):
        run(fresh, "find_similar_products", product="G1")
    fresh.get_catalog().upsert_products(pd.DataFrame([{
        "product_id": "G1", "title": "Zinc watering can", "description": "", "category": "Garden",
        "attributes": {}, "price": 7.5, "launch_date": pd.NaT}]))
    assert fresh.product("g1")["title"] == "Zinc watering can"
    assert "G1" in set(fresh.category_products("Garden")["product_id"])


def test_an_id_without_its_source_prefix_resolves_when_unambiguous(tmp_path: Any) -> None:
    """"How much will product 1078 sell?" means C1078 when only C1078 ends in 1078; the same digits behind
    two prefixes, or a too-short id, stay errors naming the candidates."""
    import pandas as pd

    fresh = make_context(tmp_path)
    rows = [("C1078", "Linen midi dress"), ("C2001", "Wrap top"), ("R2001", "Tea light holder")]
    fresh.get_catalog().upsert_products(pd.DataFrame([{
        "product_id": pid, "title": title, "description": "", "category": "Test", "attributes": {}, "price": 10.0,
        "launch_date": pd.NaT} for pid, title in rows]))
    assert fresh.product("1078")["product_id"] == "C1078"
    assert fresh.product("c1078")["product_id"] == "C1078"
    with pytest.raises(ToolError, match="no reviews for product 'C1078'"):  # the tool looked up C1078
        run(fresh, "review_stats", product_id="1078")
    with pytest.raises(ToolError, match="Unknown product id '2001'. Close ids: C2001, R2001"):
        fresh.product("2001")
    with pytest.raises(ToolError, match="Unknown product id '78'"):
        fresh.product("78")
