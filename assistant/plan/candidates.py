"""Launch candidates: validation and the economics of one candidate.

A candidate is a product that could be launched, with a demand forecast for the planning horizon
(``forecast_mean`` units and a lower quantile ``forecast_low``), ``unit_cost``, ``price`` and optional
``category``, ``fixed_cost`` (one-off launch cost) and ``order_qty`` (units bought up front; default: the
mean forecast). Economics:

* budget use  = unit_cost * order_qty + fixed_cost
* demand used = (1 - risk) * forecast_mean + risk * forecast_low     (risk 0 = mean, 1 = lower bound)
* margin      = price * min(demand used, order_qty) - unit_cost * order_qty - fixed_cost

so a cautious plan (risk near 1) penalises products whose forecast interval is wide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.errors import DataValidationError, RowProblem

# accepted aliases (lower-case) -> canonical field
ALIASES: dict[str, str] = {
    "product_id": "product_id", "id": "product_id", "sku": "product_id", "unique_id": "product_id",
    "title": "title", "name": "title",
    "category": "category",
    "forecast_mean": "forecast_mean", "mean": "forecast_mean", "forecast": "forecast_mean", "yhat": "forecast_mean",
    "forecast_low": "forecast_low", "low": "forecast_low", "lower": "forecast_low", "yhat_lo_80": "forecast_low",
    "unit_cost": "unit_cost", "cost": "unit_cost",
    "price": "price", "unit_price": "price",
    "fixed_cost": "fixed_cost", "launch_cost": "fixed_cost",
    "order_qty": "order_qty", "quantity": "order_qty",
}
REQUIRED = ("product_id", "forecast_mean", "unit_cost", "price")


@dataclass(frozen=True)
class Candidate:
    product_id: str
    forecast_mean: float
    forecast_low: float
    unit_cost: float
    price: float
    category: str = ""
    title: str = ""
    fixed_cost: float = 0.0
    order_qty: float | None = None

    @property
    def qty(self) -> float:
        return self.forecast_mean if self.order_qty is None else self.order_qty

    @property
    def cost(self) -> float:
        """Budget used by launching this product."""
        return self.unit_cost * self.qty + self.fixed_cost

    def demand(self, risk: float) -> float:
        return (1.0 - risk) * self.forecast_mean + risk * self.forecast_low

    def margin(self, risk: float) -> float:
        """Risk-adjusted expected margin (see module docstring)."""
        return self.price * min(self.demand(risk), self.qty) - self.unit_cost * self.qty - self.fixed_cost


def _num(raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return math.nan
    return v


def validate_candidates(rows: Sequence[Mapping[str, Any]], *, source: str = "candidates",
                        first_line: int = 1) -> list[Candidate]:
    """Turn raw dicts (JSON objects or CSV rows) into :class:`Candidate` s, collecting every problem
    (row, column, value, what was expected) into one :class:`DataValidationError`. ``first_line`` is the
    line number of the first row in the source file (2 for a CSV with a header)."""
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence):
        raise DataValidationError(f"{source}: expected a list of candidate objects, got {type(rows).__name__}.")
    if not rows:
        raise DataValidationError(f"{source}: no candidates given; pass at least one product.")
    problems: list[RowProblem] = []
    out: list[Candidate] = []
    seen: set[str] = set()
    for n, raw in enumerate(rows):
        line = first_line + n
        if not isinstance(raw, Mapping):
            problems.append(RowProblem(source, line, None, raw, "an object with product_id, forecast_mean, "
                                       "unit_cost, price"))
            continue
        rec: dict[str, Any] = {}
        for key, val in raw.items():
            canon = ALIASES.get(str(key).strip().lower())
            if canon and canon not in rec:
                rec[canon] = val
        bad_row = False
        for col in REQUIRED:
            if col not in rec or rec[col] is None or (isinstance(rec[col], str) and not rec[col].strip()):
                problems.append(RowProblem(source, line, col, None, f"a value for {col!r}"))
                bad_row = True
        if bad_row:
            continue
        pid = str(rec["product_id"]).strip()
        nums: dict[str, float | None] = {}
        for col in ("forecast_mean", "forecast_low", "unit_cost", "price", "fixed_cost", "order_qty"):
            v = _num(rec.get(col))
            if v is not None and (not math.isfinite(v) or v < 0):
                problems.append(RowProblem(source, line, col, rec.get(col), "a number >= 0"))
                bad_row = True
            nums[col] = v
        if bad_row:
            continue
        mean = float(nums["forecast_mean"] or 0.0)
        low = mean if nums["forecast_low"] is None else float(nums["forecast_low"])
        if low > mean + 1e-9:
            problems.append(RowProblem(source, line, "forecast_low", rec.get("forecast_low"),
                                       f"a lower bound <= forecast_mean ({mean:g})"))
            continue
        if pid in seen:
            problems.append(RowProblem(source, line, "product_id", pid, "a product_id not used by another row"))
            continue
        seen.add(pid)
        cand = Candidate(
            product_id=pid, forecast_mean=mean, forecast_low=low, unit_cost=float(nums["unit_cost"] or 0.0),
            price=float(nums["price"] or 0.0), category=str(rec.get("category") or "").strip(),
            title=str(rec.get("title") or "").strip(), fixed_cost=float(nums["fixed_cost"] or 0.0),
            order_qty=nums["order_qty"],
        )
        if not (math.isfinite(cand.cost) and math.isfinite(cand.price * cand.qty)):
            problems.append(RowProblem(source, line, "forecast_mean", rec.get("forecast_mean"),
                                       "quantities and prices small enough that their product is a finite number"))
            continue
        out.append(cand)
    if problems:
        raise DataValidationError(f"{len(problems)} problem(s) in {source}; fix these rows and retry:", problems)
    return out


def validate_settings(budget: Any, max_per_category: Any, shelf_slots: Any, risk: Any) -> None:
    """Check the plan's constraints; messages say which value is wrong and what is allowed."""
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not math.isfinite(budget) or budget < 0:
        raise DataValidationError(f"budget must be a number >= 0 (got {budget!r}).")
    for name, val in (("max_per_category", max_per_category), ("shelf_slots", shelf_slots)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < 0):
            raise DataValidationError(f"{name} must be a whole number >= 0 or left out (got {val!r}).")
    if isinstance(risk, bool) or not isinstance(risk, int | float) or not (0.0 <= float(risk) <= 1.0):
        raise DataValidationError(f"risk must be between 0 (use the mean forecast) and 1 (use the lower bound); got {risk!r}.")
