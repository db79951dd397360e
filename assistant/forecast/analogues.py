"""Building blocks of the new-product model: product normalisation, analogue similarity (attributes +
text embeddings), kNN launch-curve features, launch-timing and Google-Trends features."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from assistant.errors import DataValidationError

KNOWN_ATTRS = ("category", "color", "colour", "fabric", "material", "extra", "brand", "style", "pattern")


def normalise_products(products: pd.DataFrame, attributes: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Canonical product rows: product_id, launch_date, price, text and one string column per attribute
    (``category``, keys of an ``attributes`` dict column, or known columns such as color/fabric)."""
    df = products.copy().reset_index(drop=True)
    if "product_id" not in df.columns:
        if "external_code" in df.columns:
            df["product_id"] = df["external_code"]
        else:
            df["product_id"] = [f"p{i}" for i in range(len(df))]
    df["product_id"] = df["product_id"].astype(str)
    date_col = next((c for c in ("launch_date", "release_date") if c in df.columns), None)
    df["launch_date"] = pd.to_datetime(df[date_col], errors="coerce") if date_col else pd.NaT
    if "attributes" in df.columns:
        expanded = pd.DataFrame([a if isinstance(a, dict) else {} for a in df["attributes"]]).add_prefix("attr_")
        df = pd.concat([df.drop(columns="attributes"), expanded], axis=1)
    if attributes is None:
        attributes = [c for c in df.columns if c in KNOWN_ATTRS or c.startswith("attr_")]
    for col in attributes:
        df[col] = df[col].fillna("").astype(str).str.strip().str.lower() if col in df.columns else ""
    df["price"] = pd.to_numeric(df["price"], errors="coerce") if "price" in df.columns else np.nan
    text_parts = [df[c].fillna("").astype(str) for c in ("title", "description") if c in df.columns]
    attr_text = df[list(attributes)].agg(" ".join, axis=1) if attributes else pd.Series("", index=df.index)
    text = attr_text
    for part in text_parts:
        text = part + ". " + text
    df["text"] = text.str.strip().str.lower()
    if (df["text"] == "").all():
        raise DataValidationError(
            "New-product forecasting needs attributes or text per product (category, color, title, ...); "
            "none were found in the product rows."
        )
    return df, list(attributes)


@dataclass
class AttributeEncoder:
    """Weighted one-hot encoding of categorical attributes; dot product = weighted share of matches."""

    vocab: dict[str, dict[str, int]]
    weights: dict[str, float]

    @classmethod
    def fit(cls, df: pd.DataFrame, attributes: Sequence[str], weights: dict[str, float] | None = None) -> AttributeEncoder:
        vocab: dict[str, dict[str, int]] = {}
        for col in attributes:
            vals = sorted(v for v in df[col].unique() if v)
            vocab[col] = {v: i for i, v in enumerate(vals)}
        w = {c: (weights or {}).get(c, 2.0 if c == "category" else 1.0) for c in attributes}
        return cls(vocab, w)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        total = sum(self.weights.values()) or 1.0
        blocks = []
        for col, voc in self.vocab.items():
            block = np.zeros((len(df), len(voc)), dtype=np.float32)
            idx = df[col].map(voc)
            rows = np.flatnonzero(idx.notna().to_numpy())
            block[rows, idx.iloc[rows].astype(int).to_numpy()] = np.sqrt(self.weights[col] / total)
            blocks.append(block)
        return np.hstack(blocks) if blocks else np.zeros((len(df), 0), dtype=np.float32)

    def codes(self, df: pd.DataFrame) -> pd.DataFrame:
        """Integer codes per attribute (-1 = unseen), for the gradient-boosting model."""
        return pd.DataFrame({f"code_{c}": df[c].map(v).fillna(-1).astype(int) for c, v in self.vocab.items()},
                            index=df.index)


def similarity(q_attr: np.ndarray, q_emb: np.ndarray | None, h_attr: np.ndarray, h_emb: np.ndarray | None,
               text_weight: float) -> np.ndarray:
    """Blend of attribute-match share and text cosine similarity, shape (n_query, n_history)."""
    sim = q_attr @ h_attr.T
    if q_emb is not None and h_emb is not None and text_weight > 0:
        sim = (1 - text_weight) * sim + text_weight * (q_emb @ h_emb.T)
    return sim.astype(np.float32)


def knn_features(sim: np.ndarray, eligible: np.ndarray, curves: np.ndarray, k: int, temperature: float = 0.1,
                 ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Weighted kNN over eligible analogues. Returns features (curve per week, total mean/std, similarity
    stats), the neighbour indices (n, k; -1 = none) and their weights."""
    n, hzn = sim.shape[0], curves.shape[1]
    s = np.where(eligible, sim, -np.inf)
    kk = min(k, s.shape[1])
    idx = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if kk > 0 else np.zeros((n, 0), dtype=int)
    top = np.take_along_axis(s, idx, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    idx, top = np.take_along_axis(idx, order, axis=1), np.take_along_axis(top, order, axis=1)
    valid = np.isfinite(top)
    with np.errstate(invalid="ignore", over="ignore"):
        w = np.where(valid, np.exp((top - np.where(valid, top, -np.inf).max(axis=1, keepdims=True)) / temperature), 0.0)
    w = np.nan_to_num(w)
    wsum = w.sum(axis=1, keepdims=True)
    w = np.divide(w, wsum, out=np.zeros_like(w), where=wsum > 0)
    safe = np.where(valid, idx, 0)
    nb_curves = curves[safe]  # (n, k, H)
    mean_curve = np.einsum("nk,nkh->nh", w, nb_curves)
    totals = nb_curves.sum(axis=2)
    tot_mean = (w * totals).sum(axis=1)
    tot_std = np.sqrt((w * (totals - tot_mean[:, None]) ** 2).sum(axis=1))
    none = ~valid.any(axis=1)
    mean_curve[none] = np.nan
    feats: dict[str, np.ndarray] = {f"knn_w{i}": mean_curve[:, i] for i in range(hzn)}
    feats.update({
        "knn_total": np.where(none, np.nan, tot_mean),
        "knn_total_std": np.where(none, np.nan, tot_std),
        "knn_total_median": _nanmedian(np.where(valid, totals, np.nan)),
        "knn_sim_top": np.where(none, np.nan, top[:, 0] if kk else np.nan),
        "knn_sim_mean": np.where(none, np.nan, np.where(valid, top, 0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)),
        "knn_count": valid.sum(axis=1).astype(float),
    })
    return feats, np.where(valid, idx, -1), w


def _nanmedian(a: np.ndarray) -> np.ndarray:
    if a.shape[1] == 0:
        return np.full(a.shape[0], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=1)


def group_history_features(q: pd.DataFrame, h: pd.DataFrame, h_totals: np.ndarray, col: str, strict_past: bool,
                           ) -> dict[str, np.ndarray]:
    """Mean total and count of earlier launches sharing ``col`` with the query product."""
    out_mean = np.full(len(q), np.nan)
    out_cnt = np.zeros(len(q))
    hv = h[col].to_numpy()
    hd = h["launch_date"].to_numpy()
    for val, rows in q.groupby(col).groups.items():
        mask = hv == val
        if not mask.any():
            continue
        qi = q.index.get_indexer(rows)
        dates, tots = hd[mask], h_totals[mask]
        order = np.argsort(dates, kind="stable")
        dates, cums = dates[order], np.cumsum(tots[order])
        qd = q["launch_date"].to_numpy()[qi]
        if strict_past and not pd.isna(qd).any():
            pos = np.searchsorted(dates, qd, side="left")
        else:
            pos = np.full(len(qi), len(dates))
        cnt = pos.astype(float)
        s = np.where(pos > 0, cums[np.maximum(pos - 1, 0)], 0.0)
        out_mean[qi] = np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)
        out_cnt[qi] = cnt
    return {f"{col}_past_mean": out_mean, f"{col}_past_count": out_cnt}


def launch_level(q_dates: np.ndarray, h_dates: np.ndarray, h_totals: np.ndarray, window: int = 300,
                 min_count: int = 30, shrink: float = 50.0) -> np.ndarray:
    """Expected sales level at each query launch = (deseasonalised mean first-weeks total of the ``window``
    most recent launches before it) x (seasonal index of the query's launch month). Launch curves are
    divided by it so that analogues from busier or quieter periods are comparable (demand drifts between
    seasons). The monthly index is estimated from all history, shrunk towards 1 for rare months."""
    h_dates = pd.to_datetime(pd.Series(h_dates)).to_numpy()
    q_dates = pd.to_datetime(pd.Series(q_dates)).to_numpy()
    known_h = ~pd.isna(h_dates)
    hm = pd.DatetimeIndex(h_dates).month.to_numpy()
    overall = float(h_totals.mean()) if len(h_totals) else 1.0
    index = np.ones(13)
    for m in range(1, 13):
        sel = known_h & (hm == m)
        if sel.any():
            n = int(sel.sum())
            index[m] = (n * h_totals[sel].mean() / max(overall, 1e-12) + shrink) / (n + shrink)
    h_index = np.where(known_h, index[np.nan_to_num(hm, nan=0).astype(int)], 1.0)
    order = np.argsort(h_dates, kind="stable")
    d, tot = h_dates[order], (h_totals / h_index)[order]
    c = np.concatenate([[0.0], np.cumsum(tot)])
    base = float(tot[: max(min_count, 1)].mean()) if len(tot) else 1.0
    known = ~pd.isna(q_dates)
    hi = np.full(len(q_dates), len(d))
    if known.any():
        hi[known] = np.searchsorted(d, q_dates[known], side="left")
    lo = np.maximum(hi - window, 0)
    cnt = hi - lo
    level = np.where(cnt >= min_count, (c[hi] - c[lo]) / np.maximum(cnt, 1), base)
    qm = pd.DatetimeIndex(q_dates).month.to_numpy()
    q_index = np.where(known, index[np.nan_to_num(qm, nan=0).astype(int)], 1.0)
    return np.maximum(level * q_index, 1e-9)


def timing_features(dates: pd.Series) -> dict[str, np.ndarray]:
    """Launch month / ISO week / weekday / day of year; NaN where the date is unknown."""
    d = pd.to_datetime(dates)
    return {
        "launch_month": d.dt.month.to_numpy(dtype=float),
        "launch_week": d.dt.isocalendar().week.to_numpy(dtype=float, na_value=np.nan),
        "launch_dow": d.dt.dayofweek.to_numpy(dtype=float),
        "launch_doy": d.dt.dayofyear.to_numpy(dtype=float),
    }


def prepare_trends(trends: pd.DataFrame | None) -> pd.DataFrame | None:
    """Google-Trends style table -> weekly index (date) x lower-cased series names."""
    if trends is None:
        return None
    t = trends.copy()
    date_col = next((c for c in ("date", "ds", "week") if c in t.columns), None)
    if date_col:
        t = t.set_index(date_col)
    t.index = pd.to_datetime(t.index)
    t.columns = [str(c).strip().lower() for c in t.columns]
    return t.sort_index().astype(float)


def trend_features(df: pd.DataFrame, attributes: Sequence[str], trends: pd.DataFrame | None,
                   window: int = 52) -> dict[str, np.ndarray]:
    """For each attribute whose value names a trends series: mean level over the ``window`` weeks before
    launch, the last 8 weeks' mean, and their ratio (momentum)."""
    out: dict[str, np.ndarray] = {}
    if trends is None:
        return out
    idx = trends.index.to_numpy()
    dates = df["launch_date"].to_numpy()
    pos = np.searchsorted(idx, dates, side="left")
    for col in attributes:
        m52, m8 = np.full(len(df), np.nan), np.full(len(df), np.nan)
        for val, rows in df.groupby(col).groups.items():
            if val not in trends.columns:
                continue
            series = trends[str(val)].to_numpy()
            cs = np.concatenate([[0.0], np.cumsum(series)])
            ri = df.index.get_indexer(rows)
            p = pos[ri]
            a52, a8 = np.maximum(p - window, 0), np.maximum(p - 8, 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                m52[ri] = np.where(p > 0, (cs[p] - cs[a52]) / np.maximum(p - a52, 1), np.nan)
                m8[ri] = np.where(p > 0, (cs[p] - cs[a8]) / np.maximum(p - a8, 1), np.nan)
        out[f"trend_{col}_52"] = m52
        out[f"trend_{col}_8"] = m8
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"trend_{col}_mom"] = m8 / np.where(m52 > 0, m52, np.nan)
    return out


def as_curves(curves: pd.DataFrame | np.ndarray, product_ids: Sequence[str]) -> np.ndarray:
    """Launch curves aligned to ``product_ids``: a frame indexed by product_id (one column per week)
    or an array in the same row order as the products."""
    if isinstance(curves, pd.DataFrame):
        c = curves.copy()
        c.index = c.index.astype(str)
        missing = [p for p in product_ids if p not in c.index]
        if missing:
            raise DataValidationError(f"No launch curve for {len(missing)} product(s), e.g. {missing[:3]}.")
        arr: Any = c.loc[list(product_ids)].to_numpy(dtype=float)
    else:
        arr = np.asarray(curves, dtype=float)
        if arr.shape[0] != len(product_ids):
            raise DataValidationError(f"curves has {arr.shape[0]} rows but there are {len(product_ids)} products.")
    if arr.ndim != 2 or np.isnan(arr).any():
        raise DataValidationError("Launch curves must be a 2-D table of numbers (products x weeks) without gaps.")
    return np.clip(arr, 0, None)
