"""ForecastResult: the forecast frame plus the chosen model and CV score per series, and a small
JSON-able summary for tools (tools never return DataFrames)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

# Correlation assumed between the forecast errors of different steps when the per-step intervals are
# combined into an interval for the horizon total (0: independent steps, 1: one shared error). Chosen by
# interval score on Online Retail weekly demand, 8-week totals of ~3,500 products, on a window ending
# 8 weeks before the data's last week (0.2: 3.065, 0.3: 3.056, 0.5: 3.092; summing the per-step bounds:
# 3.252, 88% coverage for a nominal 80%); eval/forecast_retail.py prints the coverage on the last 8 weeks.
STEP_ERROR_CORRELATION = 0.3


def _r(x: Any, nd: int = 3) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else round(v, nd)


@dataclass
class ForecastResult:
    """``frame`` columns: unique_id, ds, model, yhat, yhat_lo_<L>, yhat_hi_<L> for each level L."""

    frame: pd.DataFrame
    chosen: dict[str, str]  # unique_id -> model name
    scores: dict[str, float | None]  # unique_id -> CV score (``metric``) of the chosen model, None if no CV
    history: pd.DataFrame  # the validated input (unique_id, ds, y)
    freq: str
    h: int
    levels: list[int]
    metric: str = "mase"
    cv: pd.DataFrame = field(default_factory=pd.DataFrame)  # unique_id, model, mae, mase (all candidates)
    patterns: dict[str, str] = field(default_factory=dict)  # unique_id -> smooth/erratic/intermittent/lumpy
    notes: list[str] = field(default_factory=list)

    def series(self, unique_id: str) -> pd.DataFrame:
        return self.frame[self.frame["unique_id"] == unique_id].reset_index(drop=True)

    def totals(self, rho: float = STEP_ERROR_CORRELATION) -> pd.DataFrame:
        """Forecast total over the horizon per series: ``total`` (sum of yhat) and, for each level L, an
        interval ``total_lo_L`` / ``total_hi_L``.

        Summing the per-step bounds would assume one error shared by every step: too wide a total (88%
        of Online Retail's 8-week totals inside a nominal 80% interval). Instead each step's spread is read
        from its upper band (sigma = (hi - yhat) / z; the lower band is clipped at 0) and the steps are
        combined as normal errors with pairwise correlation ``rho``; the lower bound is clipped at 0."""
        f = self.frame
        out = f.groupby("unique_id", sort=False)["yhat"].sum().rename("total").to_frame()
        for lv in self.levels:
            z = NormalDist().inv_cdf(0.5 + lv / 200)
            sig = (f[f"yhat_hi_{lv}"] - f["yhat"]).clip(lower=0) / z
            s1 = sig.groupby(f["unique_id"], sort=False).sum()
            s2 = (sig**2).groupby(f["unique_id"], sort=False).sum()
            spread = z * np.sqrt((1 - rho) * s2 + rho * s1**2)
            out[f"total_lo_{lv}"] = (out["total"] - spread).clip(lower=0)
            out[f"total_hi_{lv}"] = out["total"] + spread
        return out.reset_index()

    def to_dict(self, max_series: int = 10) -> dict[str, Any]:
        """Small JSON-able summary: per series the model, CV score, dates, point forecast and intervals
        (first ``max_series`` series by forecast total)."""
        tot = self.totals().sort_values("total", ascending=False)
        ids = tot["unique_id"].tolist()[:max_series]
        tot = tot.set_index("unique_id")
        series = []
        for uid in ids:
            part = self.series(uid)
            entry: dict[str, Any] = {
                "unique_id": uid,
                "model": self.chosen.get(uid),
                "cv_score": _r(self.scores.get(uid)),
                "pattern": self.patterns.get(uid),
                "ds": [d.strftime("%Y-%m-%d") for d in part["ds"]],
                "yhat": [_r(v, 2) for v in part["yhat"]],
                "total": _r(tot.at[uid, "total"], 2),
            }
            for lv in self.levels:
                entry[f"lo_{lv}"] = [_r(v, 2) for v in part[f"yhat_lo_{lv}"]]
                entry[f"hi_{lv}"] = [_r(v, 2) for v in part[f"yhat_hi_{lv}"]]
                entry[f"total_lo_{lv}"] = _r(tot.at[uid, f"total_lo_{lv}"], 2)
                entry[f"total_hi_{lv}"] = _r(tot.at[uid, f"total_hi_{lv}"], 2)
            series.append(entry)
        valid = [s for s in self.scores.values() if s is not None and not math.isnan(s)]
        return {
            "freq": self.freq,
            "h": self.h,
            "levels": list(self.levels),
            "n_series": len(self.chosen),
            "metric": self.metric,
            "mean_cv_score": _r(sum(valid) / len(valid)) if valid else None,
            "models_used": dict(Counter(self.chosen.values()).most_common()),
            "series": series,
            "truncated": len(self.chosen) > len(series),
            "notes": list(self.notes),
        }
