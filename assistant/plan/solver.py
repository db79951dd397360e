"""Launch-portfolio selection as a 0/1 program, solved exactly with a MILP (scipy.optimize.milp / HiGHS).

maximise   sum_i margin_i x_i
subject to sum_i cost_i x_i <= budget
           sum_{i in category c} x_i <= max_per_category      (each category)
           sum_i x_i <= shelf_slots
           x_i in {0, 1}
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from assistant.errors import AssistantError
from assistant.plan.candidates import Candidate


@dataclass
class Problem:
    """Arrays of one planning instance (risk already applied to the margins)."""

    ids: list[str]
    margin: np.ndarray
    cost: np.ndarray
    category: list[str]
    budget: float
    max_per_category: int | None = None
    shelf_slots: int | None = None
    _cats: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        cats = np.asarray(self.category, dtype=object)
        self._cats = {c: np.flatnonzero(cats == c) for c in sorted(set(self.category))}

    @classmethod
    def build(cls, cands: Sequence[Candidate], budget: float, risk: float, max_per_category: int | None = None,
              shelf_slots: int | None = None) -> Problem:
        return cls(ids=[c.product_id for c in cands], margin=np.array([c.margin(risk) for c in cands]),
                   cost=np.array([c.cost for c in cands]), category=[c.category for c in cands],
                   budget=float(budget), max_per_category=max_per_category, shelf_slots=shelf_slots)

    @property
    def n(self) -> int:
        return len(self.ids)

    def category_groups(self) -> dict[str, np.ndarray]:
        return self._cats

    def feasible(self, x: np.ndarray) -> bool:
        sel = x.astype(bool)
        if self.cost[sel].sum() > self.budget + 1e-6:
            return False
        if self.shelf_slots is not None and sel.sum() > self.shelf_slots:
            return False
        if self.max_per_category is not None:
            return all(sel[idx].sum() <= self.max_per_category for idx in self._cats.values())
        return True

    def value(self, x: np.ndarray) -> float:
        return float(self.margin[x.astype(bool)].sum())


@dataclass
class Solution:
    x: np.ndarray
    objective: float
    seconds: float
    status: str
    method: str


_STDOUT_LOCK = threading.Lock()


@contextmanager
def _native_stdout_to_stderr() -> Iterator[None]:
    """HiGHS writes debug lines ("HighsMipSolverData::transformNewIntegerFeasibleSolution ...") to the process's
    stdout even with disp=False; on 100+ candidates they broke `assistant plan --json`. While it solves, file
    descriptor 1 points at stderr, so stdout keeps only what the command prints."""
    with _STDOUT_LOCK:
        sys.stdout.flush()
        try:
            saved = os.dup(1)
            os.dup2(2, 1)
        except OSError:  # no usable descriptors (embedded interpreters): leave stdout as it is
            saved = -1
        try:
            yield
        finally:
            if saved >= 0:
                os.dup2(saved, 1)
                os.close(saved)


def solve_milp(p: Problem, *, time_limit: float | None = 60.0, fixed: dict[int, int] | None = None) -> Solution:
    """Exact optimum with HiGHS branch-and-bound. ``fixed`` forces some x_i to 0/1 (used to explain
    exclusions: what would forcing this product in cost?)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    if p.n == 0:
        return Solution(np.zeros(0, dtype=int), 0.0, 0.0, "optimal", "milp")
    rows, ub = [p.cost], [p.budget]
    if p.shelf_slots is not None:
        rows.append(np.ones(p.n))
        ub.append(float(p.shelf_slots))
    if p.max_per_category is not None:
        for idx in p.category_groups().values():
            if len(idx) > p.max_per_category:
                r = np.zeros(p.n)
                r[idx] = 1.0
                rows.append(r)
                ub.append(float(p.max_per_category))
    lo, hi = np.zeros(p.n), np.ones(p.n)
    for i, v in (fixed or {}).items():
        lo[i] = hi[i] = float(v)
    options: dict[str, float | bool] = {"disp": False, "mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    with _native_stdout_to_stderr():
        res = milp(c=-p.margin, integrality=np.ones(p.n), bounds=Bounds(lo, hi),
                   constraints=LinearConstraint(np.vstack(rows), -np.inf, np.array(ub)), options=options)
    dt = time.perf_counter() - t0
    if res.x is None:
        if fixed:
            return Solution(np.zeros(p.n, dtype=int), -np.inf, dt, "infeasible", "milp")
        raise AssistantError(f"The MILP solver found no plan ({res.message}); check the budget and constraints.")
    x = np.round(res.x).astype(int)
    status = "optimal" if res.status == 0 else "time_limit" if res.status == 1 else str(res.message)
    return Solution(x, p.value(x), dt, status, "milp")


def solve_greedy(p: Problem) -> Solution:
    """Baseline: add products by margin per unit of budget while they fit."""
    t0 = time.perf_counter()
    x = np.zeros(p.n, dtype=int)
    ratio = p.margin / np.maximum(p.cost, 1e-9)
    for i in np.argsort(-ratio, kind="stable"):
        if p.margin[i] <= 0:
            break
        x[i] = 1
        if not p.feasible(x):
            x[i] = 0
    return Solution(x, p.value(x), time.perf_counter() - t0, "heuristic", "greedy")
