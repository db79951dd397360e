"""ForecastResult: the forecast frame plus the chosen model and CV score per series, and a small
JSON-able summary for tools (tools never return DataFrames)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


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

    def totals(self) -> pd.DataFrame:
        """Forecast total over the horizon per series (sum of yhat)."""
        return self.frame.groupby("unique_id", sort=False)["yhat"].sum().rename("total").reset_index()

    def to_dict(self, max_series: int = 10) -> dict[str, Any]:
        """Small JSON-able summary: per series the model, CV score, dates, point forecast and intervals
        (first ``max_series`` series by forecast total)."""
        tot = self.totals().sort_values("total", ascending=False)
        ids = tot["unique_id"].tolist()[:max_series]
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
                "total": _r(part["yhat"].sum(), 2),
            }
            for lv in self.levels:
                entry[f"lo_{lv}"] = [_r(v, 2) for v in part[f"yhat_lo_{lv}"]]
                entry[f"hi_{lv}"] = [_r(v, 2) for v in part[f"yhat_hi_{lv}"]]
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
