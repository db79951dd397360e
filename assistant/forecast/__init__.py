"""Demand forecasting (statsforecast, per-series CV model selection, intervals, hierarchy) and
new-product (cold-start) launch-curve forecasting from attributes, text and analogues."""

from __future__ import annotations

from assistant.forecast.demand import forecast_demand, forecast_each
from assistant.forecast.hierarchy import aggregate_sales, category_mapping
from assistant.forecast.launch import NewProductHistory, forecast_new_product, launch_curves
from assistant.forecast.newproduct import NewProductConfig, NewProductModel, NewProductPrediction
from assistant.forecast.plot import plot_curve, plot_forecast
from assistant.forecast.result import ForecastResult
from assistant.forecast.validate import PreparedSales, infer_freq, prepare_sales

__all__ = [
    "ForecastResult",
    "NewProductConfig",
    "NewProductHistory",
    "NewProductModel",
    "NewProductPrediction",
    "PreparedSales",
    "aggregate_sales",
    "category_mapping",
    "forecast_demand",
    "forecast_each",
    "forecast_new_product",
    "infer_freq",
    "launch_curves",
    "plot_curve",
    "plot_forecast",
    "prepare_sales",
]
