"""The key numbers of an answer's tool results, as a table the front-ends show under the answer.

The model writes the answer; the figures come straight from the tools (forecast totals with their
interval, recent sales, review counts and ratings, a launch plan's margin), so a reader can check the
answer against them at a glance, also when a small model has mixed up two products' numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.agent.result import AgentStep

_UNITS = {"W": "week", "D": "day", "M": "month", "MS": "month", "ME": "month", "Q": "quarter", "QS": "quarter"}


@dataclass(frozen=True)
class KeyFigure:
    """One number from a tool result: what it is about, what it is, its value and interval, and where it is."""

    subject: str  # product id, new product's title, "launch plan"
    figure: str  # "forecast, next 12 weeks (units)"
    value: float
    source: str  # tool.key, e.g. "forecast_demand.total_units"
    low: float | None = None
    high: float | None = None
    level: int | None = None  # the interval's coverage in %

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "figure": self.figure, "value": self.value, "low": self.low,
                "high": self.high, "level": self.level, "source": self.source}

    @property
    def shown(self) -> str:
        """The value as shown in tables: ``"8,441.4"``."""
        return _num(self.value)

    @property
    def interval(self) -> str:
        """``"3,153 to 13,729.8 (80%)"``, or "" without one."""
        if self.low is None or self.high is None:
            return ""
        return f"{_num(self.low)} to {_num(self.high)}" + (f" ({self.level}%)" if self.level else "")


def key_figures(steps: Sequence[AgentStep]) -> list[KeyFigure]:
    """The key figures of every successful step whose tool is known here, in call order, each once."""
    out: list[KeyFigure] = []
    for step in steps:
        reader = _READERS.get(step.tool)
        if reader is None or not step.ok or not isinstance(step.result, dict):
            continue
        for fig in reader(step.result):
            if fig not in out:
                out.append(fig)
    return out


def figures_markdown(figures: Sequence[KeyFigure]) -> str:
    """A Markdown table of ``figures`` ("" when there are none)."""
    if not figures:
        return ""
    rows = ["| | figure | value | interval |", "|---|---|---:|---|"]
    rows += [f"| {_cell(f.subject)} | {_cell(f.figure)} | {f.shown} | {f.interval} |" for f in figures]
    return "\n".join(rows)


def _forecast_demand(r: dict[str, Any]) -> list[KeyFigure]:
    subject = str(r.get("series") or r.get("title") or "series")
    unit = _UNITS.get(str(r.get("frequency") or "").split("-")[0], "period")
    out = _total(r, subject, "forecast_demand", len(r.get("by_period") or []), unit)
    for key, value in _dict(r, "history").items():
        if key.startswith("units_last_") and _finite(value):
            n = key.removeprefix("units_last_").split("_")[0]
            out.append(KeyFigure(subject, f"sold, last {n} {unit}s (units)", float(value),
                                 f"forecast_demand.history.{key}"))
    return out


def _forecast_new_product(r: dict[str, Any]) -> list[KeyFigure]:
    subject = str(_dict(r, "product").get("title") or "new product")
    return _total(r, subject, "forecast_new_product", len(r.get("by_week") or []), "week")


def _total(r: dict[str, Any], subject: str, tool: str, n: int, unit: str) -> list[KeyFigure]:
    if not _finite(r.get("total_units")):
        return []
    level = r.get("level") if isinstance(r.get("level"), int) else None
    low, high = r.get(f"total_lo_{level}"), r.get(f"total_hi_{level}")
    if not (_finite(low) and _finite(high)):
        low = high = level = None
    span = f"next {n} {unit}{'s' if n != 1 else ''}" if n else "forecast horizon"
    return [KeyFigure(subject, f"forecast, {span} (units)", float(r["total_units"]), f"{tool}.total_units",
                      low, high, level)]


def _review_stats(r: dict[str, Any]) -> list[KeyFigure]:
    subject = ", ".join(f"{v}" for v in _dict(r, "scope").values() if v) or "all reviews"
    out = []
    if _finite(r.get("n_reviews")):
        out.append(KeyFigure(subject, "reviews", float(r["n_reviews"]), "review_stats.n_reviews"))
    if _finite(r.get("rating_mean")):
        out.append(KeyFigure(subject, "mean rating (1-5)", float(r["rating_mean"]), "review_stats.rating_mean"))
    return out


def _plan_launch(r: dict[str, Any]) -> list[KeyFigure]:
    out = []
    if _finite(r.get("n_selected")) and _finite(r.get("n_candidates")):
        chosen = ", ".join(str(s.get("product_id")) for s in r.get("selected") or [] if isinstance(s, dict))
        out.append(KeyFigure("launch plan", f"products to launch, of {r['n_candidates']}" +
                             (f" ({chosen})" if chosen else ""), float(r["n_selected"]), "plan_launch.n_selected"))
    for key, label in (("expected_margin", "expected margin"), ("budget_used", "budget used")):
        if _finite(r.get(key)):
            out.append(KeyFigure("launch plan", label, float(r[key]), f"plan_launch.{key}"))
    return out


_READERS: dict[str, Callable[[dict[str, Any]], list[KeyFigure]]] = {
    "forecast_demand": _forecast_demand, "forecast_new_product": _forecast_new_product,
    "review_stats": _review_stats, "plan_launch": _plan_launch,
}


def _dict(r: dict[str, Any], key: str) -> dict[str, Any]:
    value = r.get(key)
    return value if isinstance(value, dict) else {}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
