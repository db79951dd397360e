"""Stacked ordinal heads over sparse text views (the fast default sentiment model).

Level 1, all linear, on three TF-IDF views of each review (features.ReviewVectorizer): the whole text
(word 1-3 + char_wb 2-5 grams), its first sentence (the title when there is one) and its last sentence
(often the verdict), each as char_wb 2-5 + word 1-2 grams. On every view:
  * multinomial logistic regression over the 5 stars (log-probabilities, 5 columns),
  * 4 cumulative binary logistic regressions P(stars > k), k = 1..4 (ordinal structure; decision values);
on the whole text also "would recommend" (rating and recommending are strongly linked) and a ridge
regression of the star value: 29 columns (28 without recommend labels).
Level 2: small logistic regressions on those columns for the 5-class rating, the 3-class sentiment and
"would recommend". Level-2 training rows are out-of-fold level-1 outputs (GroupKFold by product when groups
are given), so the meta heads learn how much to trust each level-1 head on unseen products. The decision
rule (argmax, a prior adjustment or per-class biases: rules.choose_biases, for macro-F1) and the recommend
threshold are chosen on out-of-fold level-2 predictions.

Inference: three sparse transforms + ~30 sparse dot products + tiny dense models, ~1,000+ reviews/s on one
CPU core. Choices (views, heads, C, n-gram ranges) were made on a grouped validation split of the
Women's-Clothing training part only (eval/sentiment_clothing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.sentiment.features import Views

CUT_POINTS = (1, 2, 3, 4)
VIEWS = ("full", "head", "tail")
LEVEL1_C = 4.0  # inverse regularisation of the level-1 heads
META_C = 0.1  # ... and of the level-2 heads


def _lr(c: float, **kw: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, **kw)


def _binary(c: float, x: Any, t: np.ndarray) -> Any:
    """Logistic regression on a 0/1 target, or a constant decision when all rows are on one side."""
    if len(np.unique(t)) == 2:
        return _lr(c, solver="liblinear").fit(x, t)
    return _ConstantDecision(int(t[0]))


@dataclass
class _ConstantDecision:
    """Decision value +-5 for a binary split whose training rows all fall on one side (small data without
    e.g. 1-star reviews)."""

    side: int

    def decision_function(self, x: Any) -> np.ndarray:
        return np.full(x.shape[0], 5.0 if self.side == 1 else -5.0)


@dataclass
class HeadSet:
    """The heads fitted on one view."""

    rating: Any
    cumulative: list[Any]
    recommend: Any | None = None
    ridge: Any | None = None

    @classmethod
    def fit(cls, x: Any, y5: np.ndarray, rec: np.ndarray | None, c: float, *, extra: bool) -> HeadSet:
        from sklearn.linear_model import Ridge

        return cls(rating=_lr(c).fit(x, y5),
                   cumulative=[_binary(c, x, (y5 > k).astype(int)) for k in CUT_POINTS],
                   recommend=_binary(c, x, rec) if extra and rec is not None else None,
                   ridge=Ridge(alpha=1.0).fit(x, y5.astype(float)) if extra else None)

    def transform(self, x: Any) -> list[np.ndarray]:
        p = np.zeros((x.shape[0], 5))
        p[:, np.asarray(self.rating.classes_, dtype=int) - 1] = self.rating.predict_proba(x)
        cols = [np.log(p + 1e-9)]
        cols += [m.decision_function(x)[:, None] for m in self.cumulative]
        if self.recommend is not None:
            cols.append(self.recommend.decision_function(x)[:, None])
        if self.ridge is not None:
            cols.append(self.ridge.predict(x)[:, None])
        return cols


@dataclass
class Level1:
    """Heads per view; ``transform`` maps :class:`~assistant.sentiment.features.Views` to the level-1
    columns."""

    heads: dict[str, HeadSet]

    @classmethod
    def fit(cls, x: Views, y5: np.ndarray, rec: np.ndarray | None, c: float) -> Level1:
        return cls({v: HeadSet.fit(getattr(x, v), y5, rec, c, extra=v == "full") for v in VIEWS})

    def transform(self, x: Views) -> np.ndarray:
        return np.hstack([col for v in VIEWS for col in self.heads[v].transform(getattr(x, v))]).astype(np.float64)


@dataclass
class StackedFeatures:
    """Callable feature step used by :class:`~assistant.sentiment.model.SentimentModel`: the TF-IDF views
    in, level-1 columns out."""

    level1: Level1

    def __call__(self, x: Views) -> np.ndarray:
        return self.level1.transform(x)


@dataclass
class StackFit:
    features: StackedFeatures
    rating_head: Any
    sentiment_head: Any
    recommend_head: Any | None
    oof_rating_logp: np.ndarray  # out-of-fold level-2 log-probabilities (for bias tuning / reporting)
    oof_sentiment_logp: np.ndarray
    oof_recommend_p: np.ndarray | None


def fit_stack(x: Views, y5: np.ndarray, rec: np.ndarray | None, groups: Sequence[Any] | np.ndarray | None, *,
              c: float = LEVEL1_C, meta_c: float = META_C, folds: int = 5, seed: int = 42, log: Any = None) -> StackFit:
    """Fit level 1 out-of-fold, then the level-2 heads; returns the refitted model and out-of-fold
    level-2 predictions of the training rows."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, cross_val_predict

    from assistant.errors import DataValidationError
    from assistant.sentiment.model import rating_to_sentiment

    say = log or (lambda *_: None)
    y5 = np.asarray(y5, dtype=int)
    y3 = rating_to_sentiment(y5)
    n = len(y5)
    if rec is not None and len(np.unique(rec)) < 2:
        rec = None
    min_class = int(np.bincount(y5)[np.unique(y5)].min())
    k = max(2, min(folds, n // 10 or 2))
    if groups is not None and len(set(np.asarray(groups).tolist())) >= k:
        splits = list(GroupKFold(k).split(np.zeros(n), y5, np.asarray(groups)))
    elif min_class >= k:
        splits = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), y5))
    else:
        splits = list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(n)))
    oof: np.ndarray | None = None
    for f, (tr, va) in enumerate(splits):
        if len(np.unique(y5[tr])) < 2:
            continue  # degenerate fold (tiny data): its rows keep zeros
        cols = Level1.fit(x[tr], y5[tr], None if rec is None else rec[tr], c).transform(x[va])
        oof = np.zeros((n, cols.shape[1])) if oof is None else oof
        oof[va] = cols
        say(f"  stack fold {f + 1}/{len(splits)} done")
    if oof is None:
        raise DataValidationError("Every training fold has a single rating; training needs several ratings.")
    meta_splits = [(tr, va) for tr, va in splits if len(np.unique(y5[tr])) == len(np.unique(y5))]
    oof5 = np.log(cross_val_predict(_lr(meta_c), oof, y5, cv=meta_splits or 3, method="predict_proba") + 1e-12)
    oof3 = np.log(cross_val_predict(_lr(meta_c), oof, y3, cv=meta_splits or 3, method="predict_proba") + 1e-12)
    oofr = (cross_val_predict(_lr(meta_c), oof, rec, cv=meta_splits or 3, method="predict_proba")[:, 1]
            if rec is not None else None)
    level1 = Level1.fit(x, y5, rec, c)
    return StackFit(
        features=StackedFeatures(level1),
        rating_head=_lr(meta_c).fit(oof, y5),
        sentiment_head=_lr(meta_c).fit(oof, y3),
        recommend_head=_lr(meta_c).fit(oof, rec) if rec is not None else None,
        oof_rating_logp=oof5, oof_sentiment_logp=oof3, oof_recommend_p=oofr,
    )
