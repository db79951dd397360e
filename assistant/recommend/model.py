"""Hybrid recommender: implicit-feedback ALS on purchases + a content model over product-text embeddings.

* Existing products: ALS scores (customer factors . item factors) and "customers who bought X also bought"
  lists from item-factor similarity.
* New products (no sales yet): a cold-start score for every known customer, blended from
  (a) content: cosine between the new item's text embedding and the customer's profile (weighted mean of
  the embeddings of what they bought), (b) knn: how much the customer bought of the 20 existing products
  whose texts are closest to the new one (similarity-weighted), (c) ridge: the item's text embedding mapped to ALS item-factor space
  by a ridge regression fitted on existing items, scored with the customer factors, (d) activity: log of
  how many distinct products the customer bought (busy customers try more new products).
  Each part is z-scored over customers before blending with ``blend`` weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assistant.errors import DataValidationError, require

TRANSACTION_COLUMNS = ("customer_id", "product_id", "ts", "quantity")
DEFAULT_BLEND: dict[str, float] = {"content": 0.5, "knn": 0.5, "ridge": 0.5, "activity": 1.0}  # eval/recommend_retail.py


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


def interactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """Validate purchase lines and aggregate them to (customer_id, product_id, n) where n is the number of
    distinct purchase occasions; returns, zero or negative quantities are dropped."""
    missing = [c for c in ("customer_id", "product_id") if c not in transactions.columns]
    if missing:
        raise DataValidationError(
            f"Transactions need columns customer_id and product_id (missing {', '.join(missing)}); got "
            f"{list(transactions.columns)}."
        )
    df = transactions
    if "quantity" in df.columns:
        q = pd.to_numeric(df["quantity"], errors="coerce")
        df = df[q.fillna(0) > 0]
    cust = df["customer_id"].astype(str).str.strip()
    prod = df["product_id"].astype(str).str.strip()
    ok = cust.ne("") & prod.ne("") & df["customer_id"].notna() & df["product_id"].notna()
    ts = df["ts"].astype(str) if "ts" in df.columns else pd.Series(np.arange(len(df)), index=df.index).astype(str)
    out = (pd.DataFrame({"customer_id": cust[ok], "product_id": prod[ok], "ts": ts[ok]})
           .groupby(["customer_id", "product_id"])["ts"].nunique().rename("n").reset_index())
    if out.empty:
        raise DataValidationError("No usable purchases (need rows with a customer_id, a product_id and quantity > 0).")
    return out


@dataclass
class HybridRecommender:
    """Fitted state. Build it with :meth:`fit`."""

    customers: list[str]
    items: list[str]
    user_items: Any  # scipy CSR, customers x items, confidence weights
    user_factors: np.ndarray
    item_factors: np.ndarray
    item_emb: np.ndarray  # unit-norm text embeddings of ``items`` (zeros when no text)
    profiles: np.ndarray  # unit-norm content profile per customer
    ridge_w: np.ndarray  # embedding -> ALS item factor
    activity: np.ndarray  # distinct products per customer
    blend: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BLEND))
    embedder: Any = field(default=None, repr=False)
    _cidx: dict[str, int] = field(default_factory=dict, repr=False)
    _iidx: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._cidx = {c: i for i, c in enumerate(self.customers)}
        self._iidx = {p: i for i, p in enumerate(self.items)}

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        transactions: pd.DataFrame,
        item_texts: Mapping[str, str],
        embedder: Any,
        *,
        factors: int = 64,
        iterations: int = 15,
        regularization: float = 0.05,
        alpha: float = 10.0,
        ridge_alpha: float = 1.0,
        blend: Mapping[str, float] | None = None,
        item_embeddings: Mapping[str, np.ndarray] | None = None,
        seed: int = 42,
    ) -> HybridRecommender:
        """Fit ALS on ``transactions`` (customer_id, product_id[, ts, quantity]) and the content parts on
        ``item_texts`` {product_id: text}. ``item_embeddings`` may pass precomputed vectors."""
        from scipy import sparse

        als_mod = require("implicit.als", "implicit")
        inter = interactions(transactions)
        customers = sorted(inter["customer_id"].unique().tolist())
        items = sorted(inter["product_id"].unique().tolist())
        cidx = {c: i for i, c in enumerate(customers)}
        iidx = {p: i for i, p in enumerate(items)}
        rows = inter["customer_id"].map(cidx).to_numpy()
        cols = inter["product_id"].map(iidx).to_numpy()
        conf = 1.0 + alpha * np.log1p(inter["n"].to_numpy(float))
        ui = sparse.csr_matrix((conf.astype(np.float32), (rows, cols)), shape=(len(customers), len(items)))
        k = max(2, min(factors, len(items) - 1, len(customers) - 1))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):  # implicit's ALS runs its own threads; a BLAS pool would fight them
            model = als_mod.AlternatingLeastSquares(factors=k, regularization=regularization, iterations=iterations,
                                                    random_state=seed, num_threads=1, calculate_training_loss=False,
                                                    use_gpu=False)
            model.fit(ui, show_progress=False)
        uf = np.asarray(model.user_factors, dtype=np.float32)
        itf = np.asarray(model.item_factors, dtype=np.float32)

        emb = cls._embed_items(items, item_texts, embedder, item_embeddings)
        # customer content profile: purchase-weighted mean of bought items' embeddings
        pw = (1.0 + np.log1p(inter["n"].to_numpy(float))).astype(np.float32)
        w = sparse.csr_matrix((pw, (rows, cols)), shape=ui.shape)
        prof = np.asarray(w @ emb, dtype=np.float32)
        prof /= np.maximum(np.linalg.norm(prof, axis=1, keepdims=True), 1e-9)
        # ridge: embedding -> item factors (closed form)
        d = emb.shape[1]
        ridge_w = np.linalg.solve(emb.T @ emb + ridge_alpha * np.eye(d, dtype=np.float32), emb.T @ itf)
        activity = np.asarray((ui > 0).sum(axis=1)).ravel().astype(float)
        return cls(customers=customers, items=items, user_items=ui, user_factors=uf, item_factors=itf,
                   item_emb=emb, profiles=prof, ridge_w=ridge_w.astype(np.float32), activity=activity,
                   blend=dict(blend or DEFAULT_BLEND), embedder=embedder)

    @staticmethod
    def _embed_items(items: Sequence[str], texts: Mapping[str, str], embedder: Any,
                     pre: Mapping[str, np.ndarray] | None) -> np.ndarray:
        if pre is not None:
            dim = len(next(iter(pre.values())))
            return np.vstack([np.asarray(pre.get(p, np.zeros(dim)), dtype=np.float32) for p in items])
        if embedder is None:
            raise DataValidationError("An embedder (or precomputed item embeddings) is needed for the content model.")
        have = [p for p in items if str(texts.get(p, "") or "").strip()]
        out = np.zeros((len(items), embedder.dim), dtype=np.float32)
        if have:
            vecs = embedder.encode([str(texts[p]) for p in have])
            pos = {p: i for i, p in enumerate(items)}
            out[[pos[p] for p in have]] = vecs
        return out

    # ------------------------------------------------------------------ scoring
    def has_item(self, product_id: str) -> bool:
        return str(product_id) in self._iidx

    def warm_scores(self, product_id: str) -> np.ndarray:
        """ALS affinity of every customer for an existing product."""
        return self.user_factors @ self.item_factors[self._iidx[str(product_id)]]

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.embedder is None:
            raise DataValidationError("This recommender has no embedder; cold-start needs one.")
        return np.asarray(self.embedder.encode(texts), dtype=np.float32)

    def cold_parts(self, emb: np.ndarray, knn: int = 20) -> dict[str, np.ndarray]:
        """The cold-start signals for one text embedding, each z-scored over customers."""
        sims = self.item_emb @ emb
        k = min(knn, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        w = np.zeros(len(sims), dtype=np.float32)
        w[top] = np.maximum(sims[top], 0.0)
        return {
            "content": _z(self.profiles @ emb),
            "knn": _z(np.asarray(self.user_items @ w).ravel()),
            "ridge": _z(self.user_factors @ (emb @ self.ridge_w)),
            "activity": _z(np.log1p(self.activity)),
        }

    def cold_scores(self, emb: np.ndarray, blend: Mapping[str, float] | None = None) -> np.ndarray:
        """Blended cold-start score of every customer for an item with text embedding ``emb``."""
        weights = blend or self.blend
        parts = self.cold_parts(emb)
        return sum((float(weights.get(k, 0.0)) * v for k, v in parts.items()), np.zeros(len(self.customers)))

    def bought(self, product_id: str) -> np.ndarray:
        """Boolean mask of customers who already bought ``product_id``."""
        mask = np.zeros(len(self.customers), dtype=bool)
        j = self._iidx.get(str(product_id))
        if j is not None:
            mask[self.user_items[:, j].nonzero()[0]] = True
        return mask

    def top_customers(self, scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> list[tuple[str, float]]:
        s = scores.astype(float).copy()
        if exclude is not None:
            s[exclude] = -np.inf
        k = min(k, int(np.isfinite(s).sum()))
        top = np.argpartition(-s, k - 1)[:k] if k > 0 else np.array([], dtype=int)
        top = top[np.argsort(-s[top], kind="stable")]
        return [(self.customers[i], float(s[i])) for i in top]

    def also_bought(self, product_id: str, k: int = 10) -> list[tuple[str, float]]:
        """"Customers who bought X also bought": products ranked by co-purchase cosine
        (shared buyers / sqrt(buyers of X * buyers of Y)); ties broken by ALS item-factor similarity."""
        j = self._iidx[str(product_id)]
        b = (self.user_items > 0).astype(np.float32)
        buyers = np.asarray(b.sum(axis=0)).ravel()
        co = np.asarray(b.T @ b[:, [j]].toarray()).ravel()
        sims = co / np.sqrt(np.maximum(buyers * buyers[j], 1e-9))
        f = self.item_factors / np.maximum(np.linalg.norm(self.item_factors, axis=1, keepdims=True), 1e-9)
        order_key = sims + 1e-3 * (f @ f[j])
        order_key[j] = -np.inf
        cand = np.flatnonzero(co > 0)
        cand = cand[cand != j]
        top = cand[np.argsort(-order_key[cand], kind="stable")][:k]
        return [(self.items[i], round(float(sims[i]), 4)) for i in top]

    def recommend_items(self, customer_id: str, k: int = 10) -> list[tuple[str, float]]:
        """Existing products a customer has not bought yet, by ALS score."""
        u = self._cidx.get(str(customer_id))
        if u is None:
            raise DataValidationError(f"Unknown customer {customer_id!r}.")
        s = self.item_factors @ self.user_factors[u]
        s[self.user_items[u].indices] = -np.inf
        k = min(k, int(np.isfinite(s).sum()))
        top = np.argpartition(-s, k - 1)[:k] if k > 0 else np.array([], dtype=int)
        top = top[np.argsort(-s[top], kind="stable")]
        return [(self.items[i], float(s[i])) for i in top]
