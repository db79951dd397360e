"""Forecasting tools: demand of an existing product/category, and a launch curve for a new product.
Both return small dicts for the model and attach a PNG plot as an artifact for the UI."""

from __future__ import annotations

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
                            "sales. For a product without history use forecast_new_product(title=..., "
                            "category=..., price=...).")
        sales = sales[["unique_id", "ds", "y"]]
    else:
        assert category is not None
        members = ctx.category_products(category)
        sales = catalog.sales(members["product_id"].astype(str).tolist())
        if sales.empty:
            raise ToolError(f"No product in category {category!r} has sales history. Categories with sales "
                            "history can be found with find_similar_products(text=...).")
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
    data: dict[str, Any] = {
        "series": series_id,
        "kind": "product" if product_id else "category",
        "title": label,
        "frequency": result.freq,
        "model": result.chosen.get(series_id),
        "cv_mase": _r(result.scores.get(series_id), 2),
        "level": level,
        "history": _history_summary(hist),
        "forecast": [{"period": d.strftime("%Y-%m-%d"), "units": _r(y), f"lo_{level}": _r(a), f"hi_{level}": _r(b)}
                     for d, y, a, b in zip(fc["ds"], fc["yhat"], fc[lo], fc[hi], strict=True)],
        "total_units": _r(fc["yhat"].sum()),
    }
    if not product_id:
        data["products_in_category"] = len(members)
    if result.notes:
        data["notes"] = result.notes[:3]
    return ToolResult(data=data, artifacts=_plot(result.history, result.frame, f"{label}: {horizon}-period forecast"))


@tool
def forecast_new_product(ctx: ToolContext, title: str, category: str | None = None,
                         attributes: dict[str, str] | None = None, price: float | None = None,
                         launch_date: str | None = None,
                         horizon: Annotated[int, Range(1, 52)] = 12) -> ToolResult:
    """Forecast weekly unit sales after launch for a NEW product that has no sales history yet, from similar past launches.

    Args:
        title: Name of the new product, e.g. "Linen midi dress".
        category: Category of the new product, e.g. "Dresses" or "Home".
        attributes: Product attributes such as {"color": "red", "material": "linen"}.
        price: Planned price.
        launch_date: Planned launch date as YYYY-MM-DD.
        horizon: How many weeks after launch to forecast.
    """
    from assistant.forecast import forecast_new_product as run_new
    from assistant.forecast import history_from_catalog

    if not title.strip():
        raise ToolError("title must describe the new product, e.g. 'Linen midi dress'.")
    if price is not None and price < 0:
        raise ToolError(f"price must be >= 0, got {price}.")
    if launch_date:
        try:
            launch = pd.Timestamp(launch_date)
        except (ValueError, TypeError) as exc:
            raise ToolError(f"launch_date must look like 2024-05-01, got {launch_date!r}.") from exc
        launch_date = launch.strftime("%Y-%m-%d")
    product = {"title": title, "description": "", "category": category or "", "attributes": attributes or {},
               "price": price, "launch_date": launch_date}
    try:
        history = history_from_catalog(ctx.get_catalog())
        out = run_new(product, history, horizon=horizon)
    except ForecastError as exc:
        raise ToolError(f"Cannot forecast the new product: {exc}") from exc
    data, artifacts = _trim_new_product(out, horizon)
    return ToolResult(data=data, artifacts=artifacts)


def _trim_new_product(out: dict[str, Any], horizon: int) -> tuple[dict[str, Any], list[Artifact]]:
    """Keep what the model needs (numbers and analogue ids); move any PNG to artifacts."""
    artifacts: list[Artifact] = []
    data: dict[str, Any] = {}
    for key, value in out.items():
        if isinstance(value, (bytes, bytearray)):
            artifacts.append(Artifact(kind="image", mime="image/png", data=bytes(value),
                                      title=f"New-product forecast ({horizon} weeks)"))
        elif isinstance(value, list) and len(value) > 60:
            data[key] = value[:60]
        elif isinstance(value, float):
            data[key] = _r(value, 2)
        else:
            data[key] = value
    if not artifacts:
        artifacts = _plot_curve(data, horizon)
    return data, artifacts


def _plot_curve(data: dict[str, Any], horizon: int) -> list[Artifact]:
    rows = data.get("forecast")
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return []
    try:
        from assistant.forecast.plot import plot_curve

        weeks = [int(r.get("week", i + 1)) for i, r in enumerate(rows)]
        yhat = [float(r.get("yhat", r.get("units", 0.0)) or 0.0) for r in rows]
        lo = [float(next((v for k, v in r.items() if k.startswith("lo")), y) or 0.0) for r, y in zip(rows, yhat, strict=True)]
        hi = [float(next((v for k, v in r.items() if k.startswith("hi")), y) or 0.0) for r, y in zip(rows, yhat, strict=True)]
        png = plot_curve(weeks, yhat, lo, hi, title=f"New-product forecast ({horizon} weeks)")
    except Exception as exc:
        log.warning("new-product plot failed: %s", exc)
        return []
    return [Artifact(kind="image", mime="image/png", data=png, title=f"New-product forecast ({horizon} weeks)")]
