from __future__ import annotations

import numpy as np

from assistant.sentiment.rules import RULES, choose_biases, macro_f1, prior_adjustment


def _skewed(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A model that under-predicts the rare class: its rows score higher, but rarely above the common class."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    p1 = np.clip(0.25 + 0.2 * y + rng.normal(0, 0.05, n), 0.01, 0.99)
    logp = np.log(np.column_stack([1 - p1, p1]))
    prior = np.bincount(y, minlength=2) / n
    groups = np.array([f"p{i % 40}" for i in range(n)])
    return logp, y, prior, groups


def test_prior_adjustment_is_a_scaled_log_prior_that_lifts_macro_f1() -> None:
    logp, y, prior, _ = _skewed()
    b = prior_adjustment(logp, y, prior)
    tau = b[0] / -np.log(prior[0])
    np.testing.assert_allclose(b, -tau * np.log(prior))
    assert tau > 0
    assert macro_f1(y, np.argmax(logp + b, axis=1), 2) > macro_f1(y, np.argmax(logp, axis=1), 2) + 0.2


def test_choose_biases_keeps_argmax_when_it_is_already_right() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    logp = np.log(np.full((300, 3), 0.2))
    logp[np.arange(300), y] = np.log(0.6)
    name, b, scores = choose_biases(logp, y, np.bincount(y) / 300, groups=np.arange(300) % 30)
    assert name == "argmax" and not b.any()
    assert set(scores) == set(RULES) and scores["argmax"] == 1.0


def test_choose_biases_corrects_a_shift_seen_on_held_out_products() -> None:
    logp, y, prior, groups = _skewed()
    name, b, scores = choose_biases(logp, y, prior, groups=groups)
    assert name in ("prior", "biases") and scores[name] > scores["argmax"]
    new_logp, new_y, _, _ = _skewed(seed=7)  # other products: the chosen rule still pays
    assert macro_f1(new_y, np.argmax(new_logp + b, axis=1), 2) > macro_f1(new_y, np.argmax(new_logp, axis=1), 2)


def test_choose_biases_without_groups_splits_rows() -> None:
    logp, y, prior, _ = _skewed(200, seed=3)
    name, b, _ = choose_biases(logp, y, prior, repeats=5)
    assert name in RULES and b.shape == (2,)


def test_prior_adjustment_gives_an_unseen_class_no_extra_boost() -> None:
    logp, y, prior, _ = _skewed()
    logp3 = np.column_stack([logp, np.full(len(y), np.log(1e-3))])
    b = prior_adjustment(logp3, y, np.append(prior, 0.0))
    assert b[2] == max(b[:2])  # treated like the rarest seen class, not as infinitely rare
