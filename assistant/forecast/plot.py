"""PNG plot of history + forecast + interval bands (matplotlib, Agg backend; no display needed)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from assistant.errors import ForecastError
from assistant.plotting import new_figure, png_bytes, safe_text


def plot_forecast(history: pd.DataFrame, forecast: pd.DataFrame, *, unique_ids: Sequence[str] | None = None,
                  max_series: int = 4, history_points: int = 104, title: str | None = None, dpi: int = 100) -> bytes:
    """Plot up to ``max_series`` series (history tail, point forecast, widest/narrowest interval bands)
    and return PNG bytes. ``forecast`` is a ForecastResult.frame (yhat, yhat_lo_L, yhat_hi_L columns)."""
    if forecast.empty:
        raise ForecastError("Nothing to plot: the forecast is empty.")
    ids = list(unique_ids) if unique_ids else list(dict.fromkeys(forecast["unique_id"].astype(str)))[:max_series]
    levels = sorted({int(c.rsplit("_", 1)[1]) for c in forecast.columns if c.startswith("yhat_lo_")}, reverse=True)
    fig = new_figure(figsize=(8, 2.6 * len(ids)), dpi=dpi)
    axes = fig.subplots(len(ids), 1, squeeze=False)[:, 0]
    for ax, uid in zip(axes, ids, strict=True):
        hist = history[history["unique_id"].astype(str) == uid].tail(history_points)
        fc = forecast[forecast["unique_id"].astype(str) == uid]
        if fc.empty:
            raise ForecastError(f"Series {uid!r} is not in the forecast.")
        ax.plot(hist["ds"], hist["y"], color="#333333", lw=1.2, label="history")
        for i, lv in enumerate(levels):
            ax.fill_between(fc["ds"], fc[f"yhat_lo_{lv}"], fc[f"yhat_hi_{lv}"], color="#1f77b4",
                            alpha=0.15 + 0.15 * i, lw=0, label=f"{lv}% interval")
        model = fc["model"].iloc[0] if "model" in fc.columns else "forecast"
        ax.plot(fc["ds"], fc["yhat"], color="#1f77b4", lw=1.8, label=safe_text(f"forecast ({model})"))
        ax.set_title(safe_text(uid), fontsize=10, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(safe_text(title))
    fig.autofmt_xdate()
    return png_bytes(fig)


def plot_curve(weeks: Sequence[int], yhat: Sequence[float], lo: Sequence[float], hi: Sequence[float], *,
               title: str = "New-product forecast", dpi: int = 100) -> bytes:
    """PNG of a new-product launch curve with its interval band."""
    fig = new_figure(figsize=(7, 3), dpi=dpi)
    ax = fig.subplots()
    ax.fill_between(list(weeks), list(lo), list(hi), color="#ff7f0e", alpha=0.25, lw=0, label="interval")
    ax.plot(list(weeks), list(yhat), color="#ff7f0e", marker="o", lw=1.8, label="forecast")
    ax.set_xlabel("week after launch")
    ax.set_ylabel("units")
    ax.set_title(safe_text(title), fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png_bytes(fig)
