"""Decision rules on top of predicted probabilities: per-class biases and a binary threshold that maximise
macro-F1 (tuned on held-out reviews; shared by the stacked and the encoder sentiment models)."""

from __future__ import annotations

import numpy as np


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 over classes 0..k-1 (fast numpy version of sklearn's, zero_division=0)."""
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(float)
    tp = np.diag(cm)
    denom = cm.sum(axis=0) + cm.sum(axis=1)
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1.mean())


def tune_biases(logp: np.ndarray, y: np.ndarray, *, grid: np.ndarray | None = None, passes: int = 3) -> np.ndarray:
    """Per-class additive biases on log-probabilities maximising macro-F1 (coordinate ascent).
    ``y`` holds class positions 0..K-1 matching the columns of ``logp``."""
    k = logp.shape[1]
    grid = np.arange(-2.0, 2.01, 0.1) if grid is None else grid
    bias = np.zeros(k)
    y = np.asarray(y, dtype=int)

    def score(b: np.ndarray) -> float:
        return macro_f1(y, np.argmax(logp + b, axis=1), k)

    best = score(bias)
    for _ in range(passes):
        improved = False
        for j in range(1, k):  # bias of class 0 stays 0 (only differences matter)
            for v in grid:
                cand = bias.copy()
                cand[j] = v
                s = score(cand)
                if s > best + 1e-9:
                    best, bias, improved = s, cand, True
        if not improved:
            break
    return bias


def tune_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """Probability threshold for the positive class maximising macro-F1 of the binary decision."""
    best_t, best = 0.5, -1.0
    y = np.asarray(y, dtype=int)
    for t in np.arange(0.2, 0.81, 0.02):
        s = macro_f1(y, (p >= t).astype(int), 2)
        if s > best + 1e-9:
            best_t, best = float(t), s
    return round(best_t, 2)


def prior_adjustment(logp: np.ndarray, y: np.ndarray, prior: np.ndarray, *,
                     taus: np.ndarray | None = None) -> np.ndarray:
    """Logit adjustment (Menon et al., 2021): biases ``-tau * log(prior)`` with the one ``tau`` that
    maximises macro-F1. One parameter instead of one per class, so it overfits a small held-out set less."""
    k = logp.shape[1]
    y = np.asarray(y, dtype=int)
    p = np.asarray(prior, dtype=float)
    p = np.where(p > 0, p, p[p > 0].min() if (p > 0).any() else 1.0)  # a class never seen: no boost of its own
    shift = -np.log(p)
    taus = np.arange(0.0, 1.51, 0.05) if taus is None else taus
    best = max(taus, key=lambda t: (macro_f1(y, np.argmax(logp + t * shift, axis=1), k), -t))
    return float(best) * shift


RULES = ("argmax", "prior", "biases")  # simplest first: a tie keeps the simpler rule


def choose_biases(logp: np.ndarray, y: np.ndarray, prior: np.ndarray | None = None, *,
                  groups: np.ndarray | None = None, repeats: int = 20,
                  seed: int = 0) -> tuple[str, np.ndarray, dict[str, float]]:
    """The decision rule of a classifier, chosen on its held-out predictions ``logp``: plain argmax, logit
    adjustment by the class ``prior`` (prior_adjustment; default: the class shares of ``y``) or free per-class
    biases (tune_biases).

    Each rule is tuned on a random half of the products (``groups``; rows without them) and scored by
    macro-F1 on the other half, ``repeats`` times; the best mean wins and is tuned again on all rows.
    Returns (rule name, biases, mean held-out macro-F1 per rule). Tuning free biases on a few hundred
    reviews can cost accuracy and gain no macro-F1 on new products; this check keeps them only when they pay."""
    y = np.asarray(y, dtype=int)
    k = logp.shape[1]
    if prior is None:
        prior = np.bincount(y, minlength=k) / len(y)
    tuners = {"argmax": lambda lp, yy: np.zeros(k), "prior": lambda lp, yy: prior_adjustment(lp, yy, prior),
              "biases": tune_biases}
    member = np.asarray(groups) if groups is not None else np.arange(len(y))
    units = np.unique(member)
    rng = np.random.default_rng(seed)
    totals = dict.fromkeys(RULES, 0.0)
    for _ in range(repeats):
        half = np.isin(member, rng.choice(units, len(units) // 2, replace=False))
        if half.all() or not half.any():
            continue
        for name in RULES:
            b = tuners[name](logp[half], y[half])
            totals[name] += macro_f1(y[~half], np.argmax(logp[~half] + b, axis=1), k) / repeats
    best = max(RULES, key=lambda r: totals[r] - 1e-4 * RULES.index(r))
    return best, np.asarray(tuners[best](logp, y), dtype=float), {r: round(v, 4) for r, v in totals.items()}
