"""Assistant tool: who should we target with a product (existing or new)?"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from assistant.config import Settings, get_settings
from assistant.errors import AssistantError, ToolError
from assistant.recommend.model import HybridRecommender

_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], tuple[HybridRecommender, pd.DataFrame]] = {}


def product_text(row: Any) -> str:
    """Text the content model embeds for a product: title, category and description."""
    parts = [str(row.get(k) or "").strip() for k in ("title", "category", "description")]
    return ". ".join(p for p in parts if p)


def _texts(products: pd.DataFrame) -> dict[str, str]:
    return {str(r["product_id"]): product_text(r) for _, r in products.iterrows()} if len(products) else {}


def build_recommender(transactions: pd.DataFrame, products: pd.DataFrame, embedder: Any,
                      **kwargs: Any) -> HybridRecommender:
    """Fit the hybrid recommender on purchase lines and the catalog's product texts."""
    return HybridRecommender.fit(transactions, _texts(products), embedder, **kwargs)


def stored_recommender(transactions: pd.DataFrame, products: pd.DataFrame, embedder: Any, *,
                       settings: Settings | None = None, directory: Any = None, force: bool = False,
                       log: Any = None, **kwargs: Any) -> tuple[HybridRecommender, dict[str, Any]]:
    """The recommender saved in the store when it was fitted on these purchases / product texts /
    embedder; otherwise fit it (``force`` always refits) and save it. Returns (model, metadata)."""
    from assistant.recommend.store import load_or_fit

    return load_or_fit(transactions, _texts(products), embedder, settings=settings, directory=directory,
                       force=force, log=log, **kwargs)


def _from_catalog(settings: Settings) -> tuple[HybridRecommender, pd.DataFrame]:
    from assistant.data.catalog import Catalog
    from assistant.index.embedder import get_embedder

    cat = Catalog.open(settings)
    try:
        counts = cat.counts()
        key = (str(settings.store_path), counts.get("transactions", 0), counts.get("products", 0))
        with _LOCK:
            if key in _CACHE:
                return _CACHE[key]
        if not counts.get("transactions"):
            raise ToolError("No purchase transactions in the catalog; load some (e.g. `assistant demo setup`) "
                            "before asking for an audience.")
        tx = cat.transactions()
        products = cat.products()
    finally:
        close = getattr(cat, "close", None)
        if close:
            close()
    model, _ = stored_recommender(tx, products, get_embedder(settings), settings=settings)
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = (model, products)
    return model, products


WEAK_MATCH = 0.3  # text similarity (MiniLM cosine) below which no bought product is really like the new one


def audience(model: HybridRecommender, products: pd.DataFrame, *, product_id: str | None = None,
             text: str | None = None, k: int = 20, transactions: pd.DataFrame | None = None) -> dict[str, Any]:
    """Core of :func:`recommend_audience` on an already fitted model (testable without a catalog)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise ToolError(f"k must be a whole number from 1 to 1000 (got {k!r}).")
    if not product_id and not (text and text.strip()):
        raise ToolError("Give a product_id (existing or new catalog product) or a text describing the new product.")
    info = products.set_index(products["product_id"].astype(str)) if len(products) else pd.DataFrame()
    out: dict[str, Any] = {"product_id": product_id, "k": k}
    if product_id and model.has_item(product_id):
        scores = model.warm_scores(product_id)
        exclude = model.bought(product_id)
        out["mode"] = "existing product (collaborative filtering: customers like its buyers, not buyers yet)"
        out["n_past_buyers"] = int(exclude.sum())
        out["also_bought"] = [
            {"product_id": p, "title": str(info.at[p, "title"]) if p in info.index else "", "similarity": round(s, 4)}
            for p, s in model.also_bought(product_id, 5)]
    else:
        if product_id and not (text and text.strip()):
            if product_id not in info.index:
                raise ToolError(f"Unknown product {product_id!r}: it is not in the catalog; pass its description "
                                "as text instead.")
            text = product_text(info.loc[product_id].to_dict())
        assert text is not None
        emb = model.encode([text])[0]
        scores = model.cold_scores(emb)
        exclude = None
        out["mode"] = "new product (cold start: text similarity to what customers bought + purchase patterns)"
        out["text"] = text[:300]
        sims = model.item_emb @ emb
        best = np.argsort(-sims)[:3]
        out["matched_on"] = [{"product_id": str(model.items[j]), "title": str(info.at[model.items[j], "title"])
                              if model.items[j] in info.index else "", "similarity": round(float(sims[j]), 4)}
                             for j in best]
        notes = []
        if product_id:
            notes.append(f"{product_id} has no purchases in the transaction data, so its audience comes from its "
                         "description, matched to what customers bought.")
        if len(sims) and float(sims.max()) < WEAK_MATCH:
            notes.append(f"Weak match: the description is not like any product customers bought (best similarity "
                         f"{float(sims.max()):.2f}); treat this audience as a guess.")
        if notes:
            out["note"] = " ".join(notes)
    top = model.top_customers(scores, k, exclude)
    out["customers"] = [{"customer_id": c, "score": round(s, 4)} for c, s in top]
    out["segment"] = segment_summary(model, [c for c, _ in top], info, transactions)
    return out


def segment_summary(model: HybridRecommender, customers: list[str], info: pd.DataFrame,
                    transactions: pd.DataFrame | None = None) -> dict[str, Any]:
    """What the suggested customers have in common: purchase activity, top categories (and countries when
    the transactions carry a ``country`` column)."""
    idx = [model._cidx[c] for c in customers if c in model._cidx]
    if not idx:
        return {"n_customers": 0}
    act = model.activity[idx]
    cats: Counter[str] = Counter()
    for u in idx:
        for j in model.user_items[u].indices:
            pid = model.items[j]
            if len(info) and pid in info.index and "category" in info.columns:
                c = str(info.at[pid, "category"] or "")
                if c:
                    cats[c] += 1
    total = sum(cats.values()) or 1
    seg: dict[str, Any] = {
        "n_customers": len(idx),
        "median_products_bought": float(np.median(act)),
        "share_of_all_customers": round(len(idx) / len(model.customers), 4),
        "top_categories": [{"category": c, "share": round(n / total, 3)} for c, n in cats.most_common(3)],
    }
    if transactions is not None and "country" in transactions.columns:
        sub = transactions[transactions["customer_id"].astype(str).isin(customers)]
        first = sub.drop_duplicates("customer_id")["country"].value_counts()
        seg["top_countries"] = [{"country": str(c), "customers": int(n)} for c, n in first.head(3).items()]
    return seg


def recommend_audience(product_id: str | None = None, text: str | None = None, k: int = 20) -> dict:
    """Customers most likely to buy a product, from the catalog's purchase history.

    For an existing product with sales: collaborative filtering (ALS) finds customers similar to its buyers
    who have not bought it yet, plus "also bought" products. For a new product (no sales; give its catalog
    product_id or a text description): a hybrid cold-start model matches its text to what customers bought.
    Returns customer ids with scores and a short segment summary (activity, top categories).
    """
    from assistant.data.catalog import match_product_id

    settings = get_settings()
    model, products = _from_catalog(settings)
    if product_id:  # "c1078" or "1078" for C1078 (Catalog.resolve_product_id); an unknown id is reported below
        found, close = match_product_id(product_id, products["product_id"].astype(str).tolist())
        if found is None and len(close) > 1 and all(c.upper().endswith(product_id.strip().upper()) for c in close):
            raise AssistantError(f"Product id {product_id!r} matches several products: {', '.join(close)}. "
                                 "Give the full id.")
        product_id = found or product_id
    return audience(model, products, product_id=product_id, text=text, k=k)
