"""Forecasting tools: demand of an existing product/category, and a launch curve for a new product.
Both return small dicts for the model and attach a PNG plot as an artifact for the UI."""

from __future__ import annotations

import json
import logging
import math
from typing import Annotated, Any, Literal

import pandas as pd

from assistant.errors import ForecastError, ToolError
from assistant.tools.context import ToolContext
from assistant.tools.registry import Artifact, Range, ToolResult, tool

log = logging.getLogger(__name__)


def _r(value: Any, nd: int = 1) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else round(v, nd)


def _history_summary(hist: pd.DataFrame, recent: int = 12) -> dict[str, Any]:
    tail = hist.tail(recent)
    return {
        "periods": len(hist),
        "first_period": hist["ds"].min().strftime("%Y-%m-%d"),
        "last_period": hist["ds"].max().strftime("%Y-%m-%d"),
        "last_period_units": _r(hist["y"].iloc[-1]),
        f"units_last_{len(tail)}_periods": _r(tail["y"].sum()),
        f"mean_units_last_{len(tail)}_periods": _r(tail["y"].mean()),
    }


def _plot(history: pd.DataFrame, frame: pd.DataFrame, title: str) -> list[Artifact]:
    try:
        from assistant.forecast.plot import plot_forecast

        png = plot_forecast(history, frame, title=title)
    except Exception as exc:  # a plot is a bonus: the numbers still go back to the model
        log.warning("forecast plot failed: %s", exc)
        return []
    return [Artifact(kind="image", mime="image/png", data=png, title=title)]


@tool
def forecast_demand(ctx: ToolContext, product_id: str | None = None, category: str | None = None,
                    horizon: Annotated[int, Range(1, 52)] = 12, level: Literal[80, 90, 95] = 80) -> ToolResult:
    """Forecast future unit sales (per week) of an existing product, or of a whole category, with a prediction interval.

    Args:
        product_id: Id of a product that has sales history, e.g. "R85123A". Give this or category.
        category: Category (or its first levels) to forecast as a total, e.g. "Home". Give this or product_id.
        horizon: How many future periods (weeks) to forecast.
        level: Width of the prediction interval in percent.
    """
    from assistant.forecast.demand import forecast_demand as run_forecast

    if bool(product_id) == bool(category):
        raise ToolError("Give exactly one of product_id (one product) or category (a category total).")
    catalog = ctx.get_catalog()
    if product_id:
        product = ctx.product(product_id)
        series_id, label = str(product["product_id"]), str(product["title"])
        sales = catalog.sales([series_id])
        if sales.empty:
            raise ToolError(f"Product {series_id!r} has no sales history, so it cannot be forecast from its own "
                            f"sales. Forecast it as a new product: {_new_product_call(product, horizon)}.")
        sales = sales[["unique_id", "ds", "y"]]
    else:
        assert category is not None
        members = ctx.category_products(category)
        sales = catalog.sales(members["product_id"].astype(str).tolist())
        if sales.empty:
            raise ToolError(f"No product in category {category!r} has sales history. Categories with sales "
                            "history can be found with find_similar_products(product='<description>').")
        series_id = label = category
        sales = sales.groupby("ds", as_index=False)["y"].sum().assign(unique_id=series_id)[["unique_id", "ds", "y"]]
    try:
        result = run_forecast(sales, horizon, level=(level,), fill_gaps="zero", on_short="naive",
                              source=f"sales of {series_id}")
    except ForecastError as exc:
        raise ToolError(f"Cannot forecast {series_id!r}: {exc}") from exc
    fc = result.series(series_id)
    hist = result.history[result.history["unique_id"] == series_id]
    lo, hi = f"yhat_lo_{level}", f"yhat_hi_{level}"
    tot = result.totals().set_index("unique_id").loc[series_id]
    data: dict[str, Any] = {  # totals first: a result cut to fit the model's context keeps its head
        "series": series_id,
        "kind": "product" if product_id else "category",
        "title": label,
        "total_units": _r(tot["total"]),
        f"total_lo_{level}": _r(tot[f"total_lo_{level}"]),
        f"total_hi_{level}": _r(tot[f"total_hi_{level}"]),
        "frequency": result.freq,
        "model": result.chosen.get(series_id),
        "cv_mase": _r(result.scores.get(series_id), 2),
        "level": level,
        "history": _history_summary(hist),
        "by_period": [{"period": d.strftime("%Y-%m-%d"), "units": _r(y), f"lo_{level}": _r(a), f"hi_{level}": _r(b)}
                     for d, y, a, b in zip(fc["ds"], fc["yhat"], fc[lo], fc[hi], strict=True)],
    }
    if not product_id:
        data["products_in_category"] = len(members)
    if result.notes:
        data["notes"] = result.notes[:3]
    return ToolResult(data=data, artifacts=_plot(result.history, result.frame, f"{label}: {horizon}-period forecast"))


_CURVE_LENGTHS = (12, 26)  # weeks of launch curve learned; a forecast is cut to its horizon


def _new_product_call(product: dict[str, Any], horizon: int) -> str:
    """The forecast_new_product call for a catalog product, filled in from the catalog (so a small model copies
    real values instead of inventing a title or a price)."""
    args: dict[str, Any] = {"title": str(product.get("title") or product["product_id"])}
    if str(product.get("category") or "").strip():
        args["category"] = str(product["category"])
    price = product.get("price")
    if price is not None and pd.notna(price):
        args["price"] = float(price)
    args["horizon"] = horizon
    return "forecast_new_product(" + ", ".join(f"{k}={json.dumps(v)}" for k, v in args.items()) + ")"


@tool
def forecast_new_product(ctx: ToolContext, title: str, category: str | None = None,
                         attributes: dict[str, str] | None = None, price: float | None = None,
                         launch_date: str | None = None,
                         horizon: Annotated[int, Range(1, 26)] = 12) -> ToolResult:
    """Forecast weekly unit sales after launch for a NEW product that has no sales history yet, from similar past launches.

    Args:
        title: Name of the new product, e.g. "Linen midi dress".
        category: Category of the new product, e.g. "Kitchen" or "Home Decor".
        attributes: Product attributes such as {"color": "red", "material": "linen"}.
        price: Planned price.
        launch_date: Planned launch date as YYYY-MM-DD.
        horizon: How many weeks after launch to forecast.
    """
    if not title.strip():
        raise ToolError("title must describe the new product, e.g. 'Linen midi dress'.")
    if price is not None and price < 0:
        raise ToolError(f"price must be >= 0, got {price}.")
    if launch_date:
        try:
            launch_date = pd.Timestamp(launch_date).strftime("%Y-%m-%d")
        except (ValueError, TypeError) as exc:
            raise ToolError(f"launch_date must look like 2024-05-01, got {launch_date!r}.") from exc
    product = {"title": title, "description": "", "category": category or "", "attributes": attributes or {},
               "price": price, "launch_date": launch_date}
    out = new_product_forecast(ctx, product, horizon)
    rows = [{"week": int(w), "units": _r(y), f"lo_{out['level']}": _r(a), f"hi_{out['level']}": _r(b)}
            for w, y, a, b in zip(out["weeks"], out["yhat"], out["lo"], out["hi"], strict=True)]
    titles = ctx.products().set_index("product_id")["title"]
    analogues = [{"product_id": str(a.get("product_id")), "title": str(titles.get(str(a.get("product_id")), "")),
                  "similarity": _r(a.get("similarity"), 3)} for a in out.get("analogues", [])[:5]]
    product["launch_date"] = out.get("launch_date", launch_date)
    data: dict[str, Any] = {  # totals before the weekly rows, as in forecast_demand
        "product": {k: v for k, v in product.items() if v not in (None, "", {})},
        "level": out["level"],
        "total_units": _r(out["total"]),
        f"total_lo_{out['level']}": _r(out["total_lo"]),
        f"total_hi_{out['level']}": _r(out["total_hi"]),
        "by_week": rows,
        "analogues": analogues,
        "model": out.get("model"),
        "past_launches": out.get("past_launches"),
    }
    if out.get("notes"):
        data["notes"] = out["notes"]
    artifacts = []
    try:
        from assistant.forecast.plot import plot_curve

        png = plot_curve(out["weeks"], out["yhat"], out["lo"], out["hi"], title=f"{title}: first {horizon} weeks")
        artifacts.append(Artifact(kind="image", mime="image/png", data=png, title=f"{title}: launch forecast"))
    except Exception as exc:  # the numbers still go back to the model
        log.warning("new-product plot failed: %s", exc)
    return ToolResult(data=data, artifacts=artifacts)


def new_product_forecast(ctx: ToolContext, product: dict[str, Any], horizon: int) -> dict[str, Any]:
    """Run the new-product model, fitted once per (store content, curve length) and kept on the context.

    The launch curves are learned over 12 weeks for horizons up to 12 and over 26 weeks up to 26 (longer: the
    horizon itself), and the forecast is cut to the horizon, so week 3 of a 4-week and of a 12-week forecast are
    the same number. Where fewer than 5 past launches have that many weeks observed, the curves are learned
    over the horizon itself."""
    product = {k: (None if v is None or (not isinstance(v, (dict, list, str)) and pd.isna(v)) else v)
               for k, v in product.items()}
    try:
        lengths = dict.fromkeys(n for n in (*_CURVE_LENGTHS, horizon) if n >= horizon)
        history, error = None, None
        for n in lengths:  # the shortest standard length that covers the horizon, else the horizon itself
            try:
                history = _launch_history(ctx, n)
                break
            except ForecastError as exc:
                error = error or exc
        if history is None:
            raise error or ForecastError("no launch curves")
        if not product.get("launch_date"):  # no date given: launch in the period after the store's sales data
            product["launch_date"] = ctx.memo.get(("next_period",))
        from assistant.forecast.launch import forecast_new_product as run_new

        out = run_new(product, history, horizon=horizon)
        out["past_launches"] = int(len(history.curves))  # what the curves were learned from
        return out
    except ForecastError as exc:
        raise ToolError(f"Cannot forecast the new product: {exc}") from exc


def _launch_history(ctx: ToolContext, length: int) -> Any:
    """Past launches with ``length`` observed weeks (a NewProductHistory), memoised per store content."""
    from assistant.forecast.launch import NewProductHistory

    catalog = ctx.get_catalog()
    key = ("new_product_history", length, tuple(sorted(catalog.counts().items())))
    history = ctx.memo.get(key)
    if history is None:
        sales = catalog.sales()
        if sales.empty:
            raise ToolError("The store has no sales history to learn launch curves from; ingest a sales "
                            "file first (assistant ingest sales FILE).")
        ctx.memo[("next_period",)] = (sales["ds"].max() + pd.Timedelta(weeks=1)).strftime("%Y-%m-%d")
        try:
            history = NewProductHistory.from_sales(catalog.products(), sales, horizon=length,
                                                   embedder=ctx.get_embedder())
        except ForecastError as exc:  # too few launches that long: remembered, not re-read on every call
            history = exc
        ctx.memo[key] = history
    if isinstance(history, ForecastError):
        raise history
    return history
