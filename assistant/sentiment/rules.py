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
