"""Genetic-algorithm search for the launch portfolio (comparison point for the exact MILP).

Binary chromosomes; every child is repaired to feasibility (drop the worst margin-per-budget products until
all constraints hold, then greedily add the best that still fit), tournament selection, uniform crossover,
bit-flip mutation, elitism. Seeded, so runs are reproducible.
"""

from __future__ import annotations

import time

import numpy as np

from assistant.plan.solver import Problem, Solution


def _repair(p: Problem, x: np.ndarray, order: np.ndarray, cat_of: np.ndarray) -> np.ndarray:
    x = x.copy()
    x[p.margin <= 0] = 0
    cost = float(p.cost[x.astype(bool)].sum())
    count = int(x.sum())
    cat_count = np.bincount(cat_of[x.astype(bool)], minlength=cat_of.max() + 1 if len(cat_of) else 0)
    cap = p.max_per_category
    slots = p.shelf_slots
    rev = order[::-1]
    for i in rev[x[rev] == 1]:  # selected products, worst ratio first
        over = (cost > p.budget + 1e-6 or (slots is not None and count > slots)
                or (cap is not None and cat_count[cat_of[i]] > cap))
        if over:
            x[i] = 0
            cost -= p.cost[i]
            count -= 1
            cat_count[cat_of[i]] -= 1
    left = p.budget - cost
    pool = order[(x[order] == 0) & (p.margin[order] > 0) & (p.cost[order] <= left + 1e-6)]
    for i in pool:  # best ratio first, among those that could still fit
        if slots is not None and count >= slots:
            break
        if cost + p.cost[i] > p.budget + 1e-6 or (slots is not None and count + 1 > slots):
            continue
        if cap is not None and cat_count[cat_of[i]] + 1 > cap:
            continue
        x[i] = 1
        cost += p.cost[i]
        count += 1
        cat_count[cat_of[i]] += 1
    return x


def solve_ga(p: Problem, *, pop_size: int = 80, generations: int = 300, mutation: float | None = None,
             seed: int = 0, time_limit: float | None = None) -> Solution:
    """Best plan found by the GA within ``generations`` (or ``time_limit`` seconds)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = p.n
    if n == 0:
        return Solution(np.zeros(0, dtype=int), 0.0, 0.0, "heuristic", "ga")
    cats = sorted(set(p.category))
    cat_of = np.array([cats.index(c) for c in p.category]) if n else np.zeros(0, dtype=int)
    order = np.argsort(-(p.margin / np.maximum(p.cost, 1e-9)), kind="stable")
    mut = mutation if mutation is not None else 1.0 / n
    density = min(0.5, max(1.0 / n, (p.budget / max(p.cost.sum(), 1e-9))))
    pop = np.array([_repair(p, (rng.random(n) < density).astype(int), order, cat_of) for _ in range(pop_size)])
    fit = np.array([p.value(x) for x in pop])
    for _ in range(generations):
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
        elite = pop[np.argsort(-fit)[: max(2, pop_size // 10)]]
        children = [e.copy() for e in elite]
        while len(children) < pop_size:
            a = rng.integers(0, pop_size, 3)
            b = rng.integers(0, pop_size, 3)
            pa, pb = pop[a[np.argmax(fit[a])]], pop[b[np.argmax(fit[b])]]
            mask = rng.random(n) < 0.5
            child = np.where(mask, pa, pb)
            flip = rng.random(n) < mut
            child = np.where(flip, 1 - child, child)
            children.append(_repair(p, child, order, cat_of))
        pop = np.array(children)
        fit = np.array([p.value(x) for x in pop])
    best = pop[int(np.argmax(fit))]
    return Solution(best.astype(int), float(fit.max()), time.perf_counter() - t0, "heuristic", "ga")
