"""Launch analytics tools: who to target with a product, and which candidates to launch under a budget."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd

from assistant.errors import AssistantError, ToolError
from assistant.tools.context import ToolContext
from assistant.tools.registry import Range, tool


def _recommender(ctx: ToolContext) -> tuple[Any, pd.DataFrame]:
    """The hybrid recommender fitted on the store's purchases (once per store content and context)."""
    from assistant.recommend.audience import stored_recommender

    catalog = ctx.get_catalog()
    key = ("recommender", tuple(sorted(catalog.counts().items())))
    if key not in ctx.memo:
        tx = catalog.transactions()
        if tx.empty:
            raise ToolError("There are no purchase transactions in the store, so audiences cannot be "
                            "recommended. Load transactions first (e.g. `assistant demo setup`).")
        model, _ = stored_recommender(tx, ctx.products(), ctx.get_embedder(), settings=ctx.get_settings())
        ctx.memo[key] = (model, tx)
    return ctx.memo[key]  # type: ignore[no-any-return]


@tool
def recommend_audience(ctx: ToolContext, product: str, k: Annotated[int, Range(1, 50)] = 10) -> dict[str, Any]:
    """Recommend the customers most likely to buy a product (an existing one, or a new product described in words) and summarise them as a segment.

    Args:
        product: A product id from the catalog (e.g. "R85123A") or a short description of a new product (e.g. "ceramic tea light holder").
        k: How many customers to return.
    """
    from assistant.recommend.audience import audience

    product_id, text = ctx.resolve(product)
    model, tx = _recommender(ctx)
    try:
        out = audience(model, ctx.products(), product_id=product_id, text=text, k=k, transactions=tx)
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc
    out.pop("text", None)  # the model already knows what it asked about
    return dict(out)


@tool
def plan_launch(ctx: ToolContext, candidates: list[str], budget: Annotated[float, Range(0)],
                horizon: Annotated[int, Range(1, 26)] = 12, max_per_category: int | None = None,
                risk: Annotated[float, Range(0, 1)] = 0.5,
                cost_share: Annotated[float, Range(0.01, 0.99)] = 0.5) -> dict[str, Any]:
    """Choose which candidate products to launch under a budget to maximise risk-adjusted margin, using demand forecasts (sales history, or similar past launches for products without history).

    Args:
        candidates: Ids of the candidate products, e.g. ["R85123A", "R22423"].
        budget: Total budget for the initial stock, in currency units.
        horizon: Planning horizon in weeks (the forecast period the stock should cover).
        max_per_category: At most this many launches per category.
        risk: 0 plans on the mean forecast, 1 on the lower bound of the forecast interval.
        cost_share: Unit cost as a share of the price, used when a product has no "unit_cost" attribute.
    """
    from assistant.plan import plan_launch as run_plan

    if not candidates:
        raise ToolError("candidates must list at least one product id, e.g. ['R85123A', 'R22423'].")
    products = [ctx.product(pid) for pid in dict.fromkeys(candidates)]
    for p in products:
        if p.get("price") is None or pd.isna(p["price"]):
            raise ToolError(f"Product {p['product_id']!r} has no price, so its margin is unknown; set a price or "
                            "leave it out.")
    forecasts = _candidate_forecasts(ctx, products, horizon)
    rows = []
    for p in products:
        pid = str(p["product_id"])
        price = p["price"]
        attrs = p.get("attributes") or {}
        unit_cost = _float(attrs.get("unit_cost")) or round(float(price) * cost_share, 4)
        mean, low, source = forecasts[pid]
        rows.append({"product_id": pid, "title": p.get("title", ""), "category": p.get("category") or "",
                     "forecast_mean": mean, "forecast_low": low, "unit_cost": unit_cost, "price": float(price),
                     "forecast_source": source})
    try:
        plan = run_plan([{k: v for k, v in r.items() if k != "forecast_source"} for r in rows], budget,
                        max_per_category=max_per_category, risk=risk)
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc
    plan["horizon_weeks"] = horizon
    plan["forecasts"] = {r["product_id"]: {"units": r["forecast_mean"], "units_low": r["forecast_low"],
                                           "unit_cost": r["unit_cost"], "price": r["price"],
                                           "source": r["forecast_source"]} for r in rows}
    plan["excluded"] = plan.get("excluded", [])[:10]
    plan.pop("solver", None)
    return dict(plan)


def _candidate_forecasts(ctx: ToolContext, products: list[dict[str, Any]],
                         horizon: int) -> dict[str, tuple[float, float, str]]:
    """(total units, total lower-80% units, source) per product over ``horizon`` weeks."""
    from assistant.forecast.demand import forecast_demand
    from assistant.tools.forecast_tools import new_product_forecast

    ids = [str(p["product_id"]) for p in products]
    sales = ctx.get_catalog().sales(ids)
    out: dict[str, tuple[float, float, str]] = {}
    if not sales.empty:
        fc = forecast_demand(sales[["unique_id", "ds", "y"]], horizon, level=(80,), fill_gaps="zero",
                             on_short="naive").frame
        for uid, g in fc.groupby("unique_id"):
            out[str(uid)] = (round(float(g["yhat"].sum()), 1), round(float(g["yhat_lo_80"].sum()), 1),
                             "sales history")
    for p in products:
        pid = str(p["product_id"])
        if pid in out:
            continue
        new = new_product_forecast(ctx, {k: p.get(k) for k in ("title", "description", "category", "attributes",
                                                                "price", "launch_date")}, horizon)
        out[pid] = (round(float(new["total"]), 1), round(float(new["total_lo"]), 1), "similar past launches")
    return out


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
