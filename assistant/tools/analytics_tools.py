"""Launch analytics tools: who to target with a product, and which candidates to launch under a budget."""

from __future__ import annotations

import math
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


def audience_for(ctx: ToolContext, product: str, k: int = 10) -> dict[str, Any]:
    """Customers most likely to buy ``product`` (a catalog id or a description of a new product), with a
    segment summary; errors are ToolErrors that say what to give instead."""
    from assistant.recommend.audience import audience

    product_id, text = ctx.resolve(product)
    model, tx = _recommender(ctx)
    try:
        return dict(audience(model, ctx.products(), product_id=product_id, text=text, k=k, transactions=tx))
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc


@tool
def recommend_audience(ctx: ToolContext, product: str, k: Annotated[int, Range(1, 50)] = 10) -> dict[str, Any]:
    """Recommend the customers most likely to buy a product (an existing one, or a new product described in words) and summarise them as a segment.

    Args:
        product: A product id from the catalog (e.g. "R85123A") or a short description of a new product (e.g. "ceramic tea light holder").
        k: How many customers to return.
    """
    out = audience_for(ctx, product, k)
    out.pop("text", None)  # the model already knows what it asked about
    return out


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
    if not candidates:
        raise ToolError("candidates must list at least one product id, e.g. ['R85123A', 'R22423'].")
    products = [ctx.product(pid) for pid in dict.fromkeys(candidates)]
    plan = plan_products(ctx, products, budget, horizon=horizon, max_per_category=max_per_category, risk=risk,
                         cost_share=cost_share)
    plan["n_excluded"] = len(plan["excluded"])
    plan["excluded"] = plan["excluded"][:10]
    plan.pop("solver", None)
    return {"summary": _plan_summary(plan, budget), **plan}  # first: kept when a result is cut to fit


def _plan_summary(plan: dict[str, Any], budget: float) -> str:
    """The plan in one or two sentences, written from its own numbers (models tend to quote it as is)."""
    chosen = [str(r["product_id"]) for r in plan["selected"]]
    skipped = "; ".join(f"{r['product_id']} {r['reason']}" for r in plan["excluded"][:3] if r.get("reason"))
    if not chosen:
        return f"Launch none of the {plan['n_candidates']} candidates." + (f" Why: {skipped}." if skipped else "")
    head = (f"Launch {', '.join(chosen)} ({len(chosen)} of {plan['n_candidates']} candidates): expected margin "
            f"{plan['expected_margin']}, using {plan['budget_used']} of the budget {budget:g}.")
    return head + (f" Not launched: {skipped}." if skipped else "")


def plan_products(ctx: ToolContext, products: list[dict[str, Any]], budget: float, *, horizon: int = 12,
                  max_per_category: int | None = None, shelf_slots: int | None = None, risk: float = 0.5,
                  cost_share: float = 0.5) -> dict[str, Any]:
    """The full launch plan (every product explained) for catalog rows or draft products (dicts with
    product_id, title, category, price, optional unit_cost / attributes / launch_date). Each product is
    forecast over ``horizon`` weeks: from its sales history when the store has one for its id, else from
    similar past launches. The unit cost is ``unit_cost`` (or the ``unit_cost`` attribute), else
    ``price * cost_share``."""
    from assistant.plan import plan_rows

    ids = [str(p.get("product_id") or "").strip() for p in products]
    if not products or not all(ids):
        raise ToolError("Give at least one product, each with a product_id.")
    if len(set(ids)) != len(ids):
        raise ToolError(f"Product ids must be unique; repeated: {sorted({i for i in ids if ids.count(i) > 1})}.")
    for p in products:
        if _float(p.get("price")) is None:
            raise ToolError(f"Product {p['product_id']!r} has no price, so its margin is unknown; set a price or "
                            "leave it out.")
    forecasts = _candidate_forecasts(ctx, products, horizon)
    rows = []
    for p in products:
        pid, price = str(p["product_id"]).strip(), float(p["price"])
        attrs = p.get("attributes")
        attrs = attrs if isinstance(attrs, dict) else {}
        unit_cost = _float(p.get("unit_cost")) or _float(attrs.get("unit_cost")) or round(price * cost_share, 4)
        mean, low, source = forecasts[pid]
        rows.append({"product_id": pid, "title": str(p.get("title") or ""), "category": str(p.get("category") or ""),
                     "forecast_mean": mean, "forecast_low": low, "unit_cost": unit_cost, "price": price,
                     "forecast_source": source})
    try:
        plan = plan_rows([{k: v for k, v in r.items() if k != "forecast_source"} for r in rows], budget,
                         max_per_category=max_per_category, shelf_slots=shelf_slots, risk=risk)
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc
    plan["horizon_weeks"] = horizon
    plan["forecasts"] = {r["product_id"]: {"units": r["forecast_mean"], "units_low": r["forecast_low"],
                                           "unit_cost": r["unit_cost"], "price": r["price"],
                                           "source": r["forecast_source"]} for r in rows}
    return dict(plan)


def _candidate_forecasts(ctx: ToolContext, products: list[dict[str, Any]],
                         horizon: int) -> dict[str, tuple[float, float, str]]:
    """(total units, total lower-80% units, source) per product over ``horizon`` weeks."""
    from assistant.forecast.demand import forecast_each
    from assistant.tools.forecast_tools import new_product_forecast

    ids = [str(p["product_id"]).strip() for p in products]
    sales = ctx.get_catalog().sales(ids)
    out: dict[str, tuple[float, float, str]] = {}
    if not sales.empty:  # each on its own: a product's forecast must not depend on the other candidates
        res = forecast_each(sales[["unique_id", "ds", "y"]], horizon, level=(80,), fill_gaps="zero",
                            on_short="naive")
        tot = res.totals()
        for uid, total, low in zip(tot["unique_id"], tot["total"], tot["total_lo_80"], strict=True):
            out[str(uid)] = (round(float(total), 1), round(float(low), 1), "sales history")
    for p in products:
        pid = str(p["product_id"]).strip()
        if pid in out:
            continue
        new = new_product_forecast(ctx, {k: p.get(k) for k in ("title", "description", "category", "attributes",
                                                                "price", "launch_date")}, horizon)
        out[pid] = (round(float(new["total"]), 1), round(float(new["total_lo"]), 1), "similar past launches")
    return out


def _float(value: Any) -> float | None:
    """``value`` as a finite float, else None (missing, NaN, text)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None
