"""Review sentiment classifier for the 1-5 rating, the 3-class sentiment (1-2 negative, 3 neutral, 4-5
positive) and, when the training data has it, "would recommend".

Default (features "stack", what `assistant sentiment train` fits): TF-IDF views of the whole review and of
its first / last sentence with stacked ordinal heads (assistant.sentiment.stack), ~1,400 reviews/s on one
CPU core. The single-head alternatives below use sentence embeddings (packaged MiniLM) and/or TF-IDF +
logistic regression. Opt-in neural models: the fine-tuned MiniLM encoder (assistant.sentiment.encoder,
features "encoder") and the CNN it teaches (assistant.sentiment.student, features "distilled").

The feature set, C and class weighting are chosen on a validation split of the TRAINING data (grouped by
product when groups are given, so no product is in both parts); per-class biases (3/5-class) and the
recommend threshold are tuned on that split to maximise macro-F1, then the heads are refitted on all the
training data. The sklearn parts are saved with joblib; the embedding model is referenced by name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import Settings, get_settings
from assistant.errors import ConfigError, DataValidationError, ModelNotFoundError, require
from assistant.fsutil import atomic_dir
from assistant.sentiment.features import (
    FEATURE_SETS,
    STACK,
    FeatureSet,
    ReviewVectorizer,
    combine,
    embed_cached,
    make_tfidf,
)
from assistant.sentiment.rules import choose_biases, macro_f1, tune_biases, tune_threshold

if TYPE_CHECKING:  # pragma: no cover
    from assistant.sentiment.encoder import EncoderSentimentModel

SENTIMENT_LABELS = ("negative", "neutral", "positive")
FEATURE_SETS_BY_COST: tuple[FeatureSet, ...] = ("tfidf", "emb", "emb+tfidf")
MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"


def rating_to_sentiment(ratings: np.ndarray) -> np.ndarray:
    """1-2 -> 0 (negative), 3 -> 1 (neutral), 4-5 -> 2 (positive)."""
    r = np.asarray(ratings)
    return np.where(r <= 2, 0, np.where(r == 3, 1, 2))


def predictions_to_records(a: dict[str, np.ndarray], n: int) -> list[dict[str, Any]]:
    """``predict_arrays`` output as one small dict per text (label, rating, rating_class, proba[, recommend])."""
    out = []
    for i in range(n):
        d: dict[str, Any] = {
            "label": SENTIMENT_LABELS[int(a["sentiment"][i])],
            "rating": round(float(a["rating"][i]), 2),
            "rating_class": int(a["rating_class"][i]),
            "proba": {lab: round(float(p), 4) for lab, p in zip(SENTIMENT_LABELS, a["sentiment_proba"][i], strict=True)},
        }
        if "recommend_proba" in a:
            d["recommend_proba"] = round(float(a["recommend_proba"][i]), 4)
            d["recommend"] = bool(a["recommend"][i])
        out.append(d)
    return out


@dataclass
class SentimentModel:
    """Trained heads + their feature recipe. ``predict`` gives label, rating and probabilities."""

    embedder_name: str
    features: FeatureSet
    tfidf: Any
    rating_head: Any
    sentiment_head: Any
    recommend_head: Any | None
    rating_bias: np.ndarray
    sentiment_bias: np.ndarray
    recommend_threshold: float = 0.5
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stack: Any | None = None  # features "stack": TF-IDF matrix -> level-1 columns (assistant.sentiment.stack)
    embedder: Any = field(default=None, repr=False)

    # ---------------------------------------------------------------- inference
    def _embedder(self) -> Any:
        if self.embedder is None:
            from assistant.index.embedder import get_embedder

            emb = get_embedder()
            if emb.name.lower() != self.embedder_name.lower():
                raise ConfigError(
                    f"The sentiment model was trained with embeddings from {self.embedder_name!r} but "
                    f"{emb.name!r} is configured; set ASSISTANT_EMBEDDING_MODEL={self.embedder_name} or retrain "
                    "with `assistant sentiment train`."
                )
            self.embedder = emb
        return self.embedder

    def featurize(self, texts: Sequence[str], emb: np.ndarray | None = None) -> Any:
        texts = [t if isinstance(t, str) else "" for t in texts]
        if "emb" in self.features and emb is None:
            emb = self._embedder().encode(list(texts))
        tf = self.tfidf.transform(texts) if self.tfidf is not None else None
        x = combine(self.features, emb, tf)
        return self.stack(x) if self.stack is not None else x

    def predict_arrays(self, texts: Sequence[str], emb: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Vectorised predictions: rating_class (1-5; the decision rule chosen for macro-F1 at training, see
        rules.choose_biases), rating (expected value), sentiment (0/1/2, same), sentiment_proba (n x 3),
        the plain most-likely classes rating_class_argmax / sentiment_argmax (the max-accuracy rule),
        recommend_proba and recommend (when the model has that head)."""
        x = self.featurize(texts, emb)
        pr = self.rating_head.predict_proba(x)
        classes = np.asarray(self.rating_head.classes_, dtype=float)
        lpr = np.log(pr + 1e-12)
        # sentiment columns are always negative/neutral/positive, even when training lacked one of them
        # (biases are tuned per class the head knows: see train_sentiment_model / _train_stacked)
        s_classes = np.asarray(self.sentiment_head.classes_, dtype=int)
        ps = _proba_over(self.sentiment_head, x, np.arange(len(SENTIMENT_LABELS)))
        s_bias = np.zeros(len(SENTIMENT_LABELS))
        s_bias[s_classes] = self.sentiment_bias
        lps = np.log(ps + 1e-12)
        out = {
            "rating_class": classes[np.argmax(lpr + self.rating_bias, axis=1)].astype(int),
            "rating_class_argmax": classes[np.argmax(lpr, axis=1)].astype(int),
            "rating": pr @ classes,
            "sentiment": np.argmax(lps + s_bias, axis=1),
            "sentiment_argmax": np.argmax(lps, axis=1),
            "sentiment_proba": ps,
        }
        if self.recommend_head is not None:
            prec = self.recommend_head.predict_proba(x)[:, 1]
            out["recommend_proba"] = prec
            out["recommend"] = (prec >= self.recommend_threshold).astype(int)
        return out

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        """One dict per text: ``label`` (negative/neutral/positive), ``rating`` (1-5 estimate, 2 decimals),
        ``rating_class`` (most likely star), ``proba`` per label and, if trained, ``recommend_proba``."""
        if isinstance(texts, str):
            texts = [texts]
        return predictions_to_records(self.predict_arrays(texts), len(texts)) if texts else []

    # ---------------------------------------------------------------- persistence
    def save(self, directory: Path) -> Path:
        """Write ``model.joblib`` + ``metrics.json`` atomically (temp folder, then rename)."""
        joblib = require("joblib")
        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            state = {k: getattr(self, k) for k in ("embedder_name", "features", "tfidf", "rating_head",
                                                   "sentiment_head", "recommend_head", "rating_bias",
                                                   "sentiment_bias", "recommend_threshold", "params", "metrics",
                                                   "stack")}
            joblib.dump(state, tmp / MODEL_FILE)
            meta = {"embedder": self.embedder_name, "features": self.features, "params": self.params,
                    "metrics": self.metrics, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            (tmp / METRICS_FILE).write_text(json.dumps(meta, indent=2, default=float))
        return directory

    @classmethod
    def load(cls, directory: Path) -> SentimentModel:
        joblib = require("joblib")
        path = Path(directory) / MODEL_FILE
        if not path.is_file():
            raise ModelNotFoundError(f"No sentiment model at {path}; train one with `assistant sentiment train`.")
        state = joblib.load(path)
        return cls(**state)


def model_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).store_path / "models" / "sentiment"


def load_sentiment_model(settings: Settings | None = None, *,
                         directory: Path | None = None) -> SentimentModel | EncoderSentimentModel | None:
    """The trained model in the store (stack/single-head, the fine-tuned encoder or its distilled student), or
    None when none has been trained yet. ``directory``: a model folder elsewhere (default: the store's). The
    encoder and student predict on ``settings.sentiment_device`` (CPU unless set, e.g. ``auto`` on a GPU box)."""
    from assistant.sentiment.encoder import ENCODER_FILE, EncoderSentimentModel, resolve_device
    from assistant.sentiment.student import STUDENT_FILE, StudentSentimentModel

    settings = settings or get_settings()
    d = Path(directory) if directory is not None else model_dir(settings)
    kinds: tuple[tuple[str, Any], ...] = ((STUDENT_FILE, StudentSentimentModel), (ENCODER_FILE, EncoderSentimentModel),
                                          (MODEL_FILE, SentimentModel))
    for name, kind in kinds:
        path = d / name
        if path.is_file():  # loaded once per saved version (the encoder takes seconds to load)
            neural = kind is not SentimentModel
            key = (str(path), path.stat().st_mtime_ns, settings.sentiment_device if neural else "cpu")
            if key not in _LOADED:
                model = kind.load(d)
                if neural and settings.sentiment_device != "cpu":
                    model = model.to(resolve_device(settings.sentiment_device))  # GPU serving (settings)
                _LOADED.clear()
                _LOADED[key] = model
            return _LOADED[key]
    return None


_LOADED: dict[tuple[str, int, str], Any] = {}


# -------------------------------------------------------------------- training
def validate_training(texts: Sequence[str], ratings: np.ndarray, recommend: np.ndarray | None) -> None:
    if len(texts) != len(ratings):
        raise DataValidationError(f"{len(texts)} texts but {len(ratings)} ratings; they must match one to one.")
    if len(texts) < 20:
        raise DataValidationError(f"Only {len(texts)} labelled reviews; training needs at least 20.")
    bad = [i for i, r in enumerate(ratings) if not (np.isfinite(r) and float(r).is_integer() and 1 <= r <= 5)]
    if bad:
        raise DataValidationError(
            f"Ratings must be whole numbers 1-5; rows {bad[:10]} are not (drop or fix them before training)."
        )
    present = set(rating_to_sentiment(ratings).tolist())
    if len(present) < 2:
        raise DataValidationError("All reviews have the same sentiment; training needs several classes.")
    if recommend is not None and (len(recommend) != len(texts) or not set(np.unique(recommend)) <= {0, 1}):
        raise DataValidationError("The recommend labels must be 0/1, one per review.")


def _lr(c: float, cw: str | None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight=cw, max_iter=2000)


def train_sentiment_model(
    texts: Sequence[str],
    ratings: Sequence[float] | np.ndarray,
    recommend: Sequence[int] | np.ndarray | None = None,
    *,
    embedder: Any | None = None,
    embeddings: np.ndarray | None = None,
    groups: Sequence[Any] | np.ndarray | None = None,
    feature_sets: Sequence[FeatureSet] = FEATURE_SETS,
    cs: Sequence[float] = (1.0, 4.0),
    class_weights: Sequence[str | None] = (None, "balanced"),
    val_frac: float = 0.2,
    seed: int = 42,
    cache_dir: Path | None = None,
    log: Any = None,
    min_gain: float = 0.01,
) -> SentimentModel:
    """Fit the heads, choosing feature set / C / class weighting by 5-class macro-F1 on a validation
    split of these training rows. Speed-aware: the cheapest feature set (tfidf < emb < emb+tfidf) whose
    best validation macro-F1 is within ``min_gain`` of the overall best wins (TF-IDF runs ~100x faster
    than sentence embeddings on CPU). ``embeddings`` (aligned with ``texts``) skips encoding."""
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

    texts = [t if isinstance(t, str) else "" for t in texts]
    y5 = np.asarray(ratings, dtype=float)
    rec = None if recommend is None else np.asarray(recommend, dtype=int)
    validate_training(texts, y5, rec)
    y5 = y5.astype(int)
    y3 = rating_to_sentiment(y5)
    say = log or (lambda *_: None)
    if STACK in feature_sets:
        if len(feature_sets) > 1:
            raise ConfigError("The 'stack' model is trained on its own; pass feature_sets=('stack',).")
        return _train_stacked(texts, y5, rec, groups, seed=seed, log=say)
    feature_sets = [f for f in feature_sets if f in FEATURE_SETS]
    if not feature_sets:
        raise ConfigError(f"feature_sets must be chosen from {(*FEATURE_SETS, STACK)}.")
    emb = embeddings
    need_emb = any("emb" in f for f in feature_sets)
    if need_emb and emb is None:
        if embedder is None:
            from assistant.index.embedder import get_embedder

            embedder = get_embedder()
        emb = embed_cached(texts, embedder, cache_dir)
    embedder_name = getattr(embedder, "name", None) or get_settings().embedding_model

    idx = np.arange(len(texts))
    splitter = (GroupShuffleSplit(1, test_size=val_frac, random_state=seed) if groups is not None
                else ShuffleSplit(1, test_size=val_frac, random_state=seed))
    tr, va = next(splitter.split(idx, y5, groups=None if groups is None else np.asarray(groups)))
    tfidf = make_tfidf().fit([texts[i] for i in tr])
    tf_tr, tf_va = tfidf.transform([texts[i] for i in tr]), tfidf.transform([texts[i] for i in va])

    # bias columns follow the classes of the whole training set (the final heads are fitted on all rows);
    # a rating missing from the training part of the split gets a near-zero probability column
    classes5, classes3 = np.unique(y5), np.unique(y3)
    pos5 = np.searchsorted(classes5, y5)
    best_by_fs: dict[str, tuple[float, dict[str, Any]]] = {}
    trials = []
    for fs in feature_sets:
        x_tr = combine(fs, None if emb is None else emb[tr], tf_tr)
        x_va = combine(fs, None if emb is None else emb[va], tf_va)
        for c in cs:
            for cw in class_weights:
                logp = _logp_over(_lr(c, cw).fit(x_tr, y5[tr]), x_va, classes5)
                bias = tune_biases(logp, pos5[va])
                f1 = macro_f1(pos5[va], np.argmax(logp + bias, axis=1), len(classes5))
                trials.append({"features": fs, "C": c, "class_weight": cw, "val_macro_f1_5": round(f1, 4)})
                say(f"  {fs:10s} C={c:<4} class_weight={cw!s:9s} val 5-class macro-F1 {f1:.4f}")
                if fs not in best_by_fs or f1 > best_by_fs[fs][0]:
                    best_by_fs[fs] = (f1, {"features": fs, "C": c, "class_weight": cw, "rating_bias": bias})
    top_f1 = max(v[0] for v in best_by_fs.values())
    cheapest = next(fs for fs in FEATURE_SETS_BY_COST if fs in best_by_fs and best_by_fs[fs][0] >= top_f1 - min_gain)
    best = best_by_fs[cheapest]
    say(f"  chosen: {cheapest} (val macro-F1 {best[0]:.4f}; best of all {top_f1:.4f}; cheapest within {min_gain})")
    cfg = best[1]
    fs, c, cw = cfg["features"], cfg["C"], cfg["class_weight"]
    x_tr = combine(fs, None if emb is None else emb[tr], tf_tr)
    x_va = combine(fs, None if emb is None else emb[va], tf_va)
    h3 = _lr(c, cw).fit(x_tr, y3[tr])
    s_bias = tune_biases(_logp_over(h3, x_va, classes3), np.searchsorted(classes3, y3[va]))
    r_thr = 0.5
    if rec is not None and len(set(rec[tr].tolist())) == 2:
        hr = _lr(c, cw).fit(x_tr, rec[tr])
        r_thr = tune_threshold(hr.predict_proba(x_va)[:, 1], rec[va])

    # refit everything on all training rows with the chosen recipe
    uses_tfidf = "tfidf" in fs
    tfidf_all = make_tfidf().fit(texts) if uses_tfidf else None
    x_all = combine(fs, emb, tfidf_all.transform(texts) if tfidf_all is not None else None)
    rating_head = _lr(c, cw).fit(x_all, y5)
    sentiment_head = _lr(c, cw).fit(x_all, y3)
    recommend_head = _lr(c, cw).fit(x_all, rec) if rec is not None and len(set(rec.tolist())) == 2 else None
    return SentimentModel(
        embedder_name=embedder_name, features=fs, tfidf=tfidf_all, rating_head=rating_head,
        sentiment_head=sentiment_head, recommend_head=recommend_head, rating_bias=cfg["rating_bias"],
        sentiment_bias=s_bias, recommend_threshold=r_thr,
        params={"C": c, "class_weight": cw, "val_macro_f1_5": round(best[0], 4), "trials": trials,
                "val_macro_f1_5_best_any": round(top_f1, 4), "min_gain": min_gain,
                "n_train": len(texts), "rating_bias": [round(float(b), 2) for b in cfg["rating_bias"]],
                "sentiment_bias": [round(float(b), 2) for b in s_bias], "recommend_threshold": r_thr},
        embedder=embedder if need_emb else None,
    )


def _proba_over(head: Any, x: Any, classes: np.ndarray) -> np.ndarray:
    """Probabilities of ``head`` laid out over ``classes`` (a superset of ``head.classes_``; 0 elsewhere)."""
    p = np.zeros((x.shape[0], len(classes)))
    p[:, np.searchsorted(classes, np.asarray(head.classes_, dtype=int))] = head.predict_proba(x)
    return p


def _logp_over(head: Any, x: Any, classes: np.ndarray) -> np.ndarray:
    return np.log(_proba_over(head, x, classes) + 1e-12)


def _train_stacked(texts: list[str], y5: np.ndarray, rec: np.ndarray | None, groups: Any, *, seed: int,
                   log: Any) -> SentimentModel:
    """TF-IDF views (whole text, first and last sentence) and stacked ordinal heads (assistant.sentiment.stack). Biases / threshold are tuned
    on out-of-fold predictions of the training rows (grouped by product when groups are given)."""
    from assistant.sentiment.stack import LEVEL1_C, META_C, fit_stack

    rec_ok = rec if rec is not None and len(set(rec.tolist())) == 2 else None
    g = None if groups is None else np.asarray(groups)
    tfidf = ReviewVectorizer().fit(texts)
    fit = fit_stack(tfidf.transform(texts), y5, rec_ok, g, seed=seed, log=log)
    classes5 = np.asarray(fit.rating_head.classes_, dtype=int)
    pos5 = np.searchsorted(classes5, y5)
    rule5, r_bias, cv5 = choose_biases(fit.oof_rating_logp, pos5, groups=g, seed=seed)
    y3 = rating_to_sentiment(y5)
    pos3 = np.searchsorted(np.asarray(fit.sentiment_head.classes_, dtype=int), y3)
    rule3, s_bias, cv3 = choose_biases(fit.oof_sentiment_logp, pos3, groups=g, seed=seed)
    r_thr = tune_threshold(fit.oof_recommend_p, rec_ok) if rec_ok is not None and fit.oof_recommend_p is not None \
        else 0.5
    k5 = len(classes5)
    plain, biased = fit.oof_rating_logp.argmax(1), (fit.oof_rating_logp + r_bias).argmax(1)
    oof = {"acc_5_argmax": float((plain == pos5).mean()), "macro_f1_5_argmax": macro_f1(pos5, plain, k5),
           "acc_5_biased": float((biased == pos5).mean()), "macro_f1_5_biased": macro_f1(pos5, biased, k5)}
    log(f"  stack out-of-fold: 5-class acc {oof['acc_5_argmax']:.4f} / macro-F1 {oof['macro_f1_5_argmax']:.4f} "
        f"(argmax); acc {oof['acc_5_biased']:.4f} / macro-F1 {oof['macro_f1_5_biased']:.4f} ({rule5} rule)")
    return SentimentModel(
        embedder_name=get_settings().embedding_model, features=STACK, tfidf=tfidf, rating_head=fit.rating_head,
        sentiment_head=fit.sentiment_head, recommend_head=fit.recommend_head, rating_bias=r_bias,
        sentiment_bias=s_bias, recommend_threshold=r_thr, stack=fit.features,
        params={"C": LEVEL1_C, "meta_C": META_C, "class_weight": None, "val_macro_f1_5": round(oof["macro_f1_5_biased"], 4),
                "oof": {k: round(v, 4) for k, v in oof.items()}, "trials": [], "n_train": len(texts),
                "rating_rule": rule5, "sentiment_rule": rule3, "rule_macro_f1_5": cv5, "rule_macro_f1_3": cv3,
                "rating_bias": [round(float(b), 2) for b in r_bias],
                "sentiment_bias": [round(float(b), 2) for b in s_bias], "recommend_threshold": r_thr},
    )
