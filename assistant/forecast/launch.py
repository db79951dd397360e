"""User-facing new-product forecast: launch curves from sales history, a cached fitted model, and
``forecast_new_product(product, history) -> dict`` (small JSON-able answer for tools and the UI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from assistant.errors import DataValidationError, ForecastError
from assistant.forecast.newproduct import NewProductConfig, NewProductModel


def launch_curves(products: pd.DataFrame, sales: pd.DataFrame, horizon: int, *, freq: str = "W-MON",
                  end: pd.Timestamp | None = None) -> pd.DataFrame:
    """First ``horizon`` periods of sales after each product's launch (launch_date, else its first sale),
    for products whose whole window is observed. Returns a frame indexed by product_id, columns 0..h-1."""
    if not {"unique_id", "ds", "y"} <= set(sales.columns):
        raise DataValidationError("Sales history needs columns unique_id, ds, y.")
    s = sales[["unique_id", "ds", "y"]].copy()
    s["unique_id"] = s["unique_id"].astype(str)
    s["ds"] = pd.to_datetime(s["ds"])
    end = pd.Timestamp(end) if end is not None else s["ds"].max()
    first = s[s["y"] > 0].groupby("unique_id")["ds"].min()
    launch = first.copy()
    if "launch_date" in products.columns:
        ld = pd.to_datetime(products.set_index(products["product_id"].astype(str))["launch_date"], errors="coerce")
        ld = ld.dropna()
        launch.update(ld.reindex(launch.index).dropna())
    launch = launch[launch.index.isin(products["product_id"].astype(str))]
    offset = pd.tseries.frequencies.to_offset(freq)
    # the period that contains the launch (for W-MON: the Monday on or before it), as the sales are bucketed
    launch = launch.map(lambda d: offset.rollback(pd.Timestamp(d).normalize()))
    rows = {}
    grouped = {str(k): g.set_index("ds")["y"] for k, g in s[s["unique_id"].isin(launch.index)].groupby("unique_id")}
    for pid, start in launch.items():
        idx = pd.date_range(start, periods=horizon, freq=offset)
        if idx[-1] > end:
            continue
        rows[str(pid)] = grouped[str(pid)].reindex(idx).fillna(0.0).to_numpy()
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(range(horizon)))


@dataclass
class NewProductHistory:
    """Past launches to learn from: products (attributes/text, launch_date), their launch curves
    (product_id index x weeks) and optional Google-Trends-like series. ``model()`` fits once and caches."""

    products: pd.DataFrame
    curves: pd.DataFrame
    trends: pd.DataFrame | None = None
    config: NewProductConfig = field(default_factory=NewProductConfig)
    embedder: Any = None
    _model: NewProductModel | None = field(default=None, repr=False)

    @classmethod
    def from_sales(cls, products: pd.DataFrame, sales: pd.DataFrame, *, horizon: int = 12, freq: str = "W-MON",
                   **kw: Any) -> NewProductHistory:
        curves = launch_curves(products, sales, horizon, freq=freq)
        if len(curves) < 5:
            raise ForecastError(
                f"Only {len(curves)} past products have {horizon} observed periods after launch; need at least 5. "
                "Use a shorter horizon or add more sales history.")
        prods = products[products["product_id"].astype(str).isin(curves.index)].copy()
        if "launch_date" not in prods.columns or prods["launch_date"].isna().any():
            first = pd.Series(pd.to_datetime(sales["ds"]).to_numpy(), index=sales["unique_id"].astype(str)).groupby(level=0).min()
            given = pd.to_datetime(prods["launch_date"], errors="coerce") if "launch_date" in prods.columns else pd.NaT
            prods["launch_date"] = pd.Series(given, index=prods.index).fillna(prods["product_id"].astype(str).map(first))
        return cls(prods, curves, **kw)

    @classmethod
    def from_catalog(cls, catalog: Any, *, horizon: int = 8, freq: str = "W-MON", **kw: Any) -> NewProductHistory:
        """Past launches from the store (``assistant.data.catalog.Catalog``): products with weekly sales."""
        sales = catalog.sales()
        if sales.empty:
            raise ForecastError("The catalog has no sales; ingest a sales file first (assistant ingest sales FILE).")
        return cls.from_sales(catalog.products(), sales, horizon=horizon, freq=freq, **kw)

    @classmethod
    def from_model(cls, model: NewProductModel) -> NewProductHistory:
        h = cls(products=model.hist_, curves=pd.DataFrame(model.curves_, index=model.hist_["product_id"]),
                config=model.config, embedder=model.embedder)
        h._model = model
        return h

    def model(self) -> NewProductModel:
        if self._model is None:
            m = NewProductModel(self.config, embedder=self.embedder)
            self._model = m.fit(self.products, self.curves, self.trends)
        return self._model


def _launch_date(value: Any) -> pd.Timestamp | None:
    """A launch date given as text (YYYY-MM-DD) or a date; None when not given (empty, None, NaT); else a
    ForecastError that says how to write it."""
    if value is None or (isinstance(value, str) and not value.strip()) or value is pd.NaT:
        return None
    if isinstance(value, str | date | np.datetime64):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            pass
        else:
            if not pd.isna(ts):
                return ts
    raise ForecastError(f"launch_date {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-05-01.")


WEAK_MATCH = 0.5  # closest analogue below this share of the typical closest similarity: a weak match
FAR_AHEAD = pd.Timedelta(days=730)  # launch this long after the latest past launch: extrapolated timing


def caveats(model: NewProductModel, launch: pd.Timestamp | None, analogues: list[dict[str, Any]]) -> list[str]:
    """What makes this forecast less trustworthy than usual, said plainly: no past launch before the launch
    date, a launch far after the history, or a closest analogue much less similar than past launches'."""
    notes = []
    dates = pd.to_datetime(model.hist_["launch_date"], errors="coerce").dropna()
    if launch is not None and len(dates):
        first, last = dates.min(), dates.max()
        if launch <= first:
            notes.append(f"No past launch is earlier than {launch.date()} (the first is {first.date()}), so no "
                         "analogues could be used and the forecast rests on the product's attributes alone. Check "
                         "the launch date.")
        elif launch - last > FAR_AHEAD:
            notes.append(f"The launch date {launch.date()} is {(launch - last).days / 365.25:.1f} years after the "
                         f"latest past launch ({last.date()}); sales levels and timing are extrapolated.")
    typical = model.typical_top_similarity()
    top = max((float(a.get("similarity", 0.0)) for a in analogues), default=None)
    if top is not None and np.isfinite(typical) and top < WEAK_MATCH * typical:
        notes.append(f"The closest past launch is a weak match (similarity {top:.2f}; past launches typically "
                     f"have one at {typical:.2f}): nothing like this product has been sold before, so treat the "
                     "forecast as a rough guide.")
    return notes


def forecast_new_product(product: dict[str, Any], history: NewProductHistory | NewProductModel, *,
                         horizon: int = 12, n_analogues: int = 5, start: str | None = None) -> dict[str, Any]:
    """Forecast the first ``horizon`` periods of a product with no sales history.

    ``product`` holds its attributes and text, e.g. {"title": ..., "category": ..., "color": ...,
    "price": 4.95, "launch_date": "2024-03-04"} (an ``attributes`` dict is expanded too). Returns
    {"weeks", "yhat", "lo", "hi", "total", "total_lo", "total_hi", "level", "analogues": [{"product_id",
    "similarity", "weight"}], "model", "notes" (only when there are caveats: weak analogues, a launch date
    outside the history)}. Deterministic for a fixed config seed."""
    if not isinstance(product, dict) or not product:
        raise ForecastError("Describe the product as a dict of attributes, e.g. {'title': ..., 'category': ...}.")
    model = history.model() if isinstance(history, NewProductHistory) else history
    hzn = model.curves_.shape[1]
    if not 1 <= int(horizon) <= hzn:
        raise ForecastError(f"horizon must be between 1 and {hzn} (the length of the learned launch curves).")
    row = dict(product)
    row.setdefault("product_id", "new")
    if start and not row.get("launch_date"):
        row["launch_date"] = start
    row["launch_date"] = _launch_date(row.get("launch_date"))
    pred = model.predict(pd.DataFrame([row]), n_analogues=n_analogues)
    y, lo, hi = (a[0, : int(horizon)] for a in (pred.yhat, pred.lo, pred.hi))
    r = lambda v: [round(float(x), 4) for x in v]  # noqa: E731
    out = {
        "weeks": list(range(1, int(horizon) + 1)),
        "yhat": r(y), "lo": r(lo), "hi": r(hi),
        "total": round(float(y.sum()), 4), "total_lo": round(float(lo.sum()), 4), "total_hi": round(float(hi.sum()), 4),
        "level": model.config.level,
        "analogues": pred.analogues[0],
        "model": f"kNN analogues (k={model.config.k}) + LightGBM, blend {model.config.blend}",
    }
    if row.get("launch_date"):
        out["launch_date"] = str(pd.Timestamp(row["launch_date"]).date())
    notes = caveats(model, row.get("launch_date"), pred.analogues[0])
    if notes:
        out["notes"] = notes
    if not np.isfinite(float(y.sum())):
        raise ForecastError("The forecast is not a finite number; check the product's price and attributes.")
    return out
