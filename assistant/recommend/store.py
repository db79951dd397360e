"""Persistence of the fitted hybrid recommender in the store (``<store>/models/recommender``).

Fitting ALS on a real purchase history takes minutes, so the fitted state is saved once and reused by every
later process while the data it was fitted on is unchanged. The folder holds ``arrays.npz`` (factors,
embeddings, profiles, ridge map, activity, the customer x item matrix), ``ids.json`` (customer and item ids)
and ``meta.json`` (format version, data fingerprint, counts, embedder, parameters, trained_at). It is
written to a temporary folder and then renamed, so a crash never leaves a half-written model.

The fingerprint hashes the aggregated purchases (customer, product, purchase occasions), the product texts
the content model embeds, the embedder name and the fitting parameters: any change there retrains.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.config import Settings, get_settings
from assistant.errors import ModelNotFoundError
from assistant.fsutil import atomic_dir
from assistant.recommend.model import DEFAULT_BLEND, HybridRecommender, interactions

FORMAT_VERSION = 1
ARRAYS_FILE = "arrays.npz"
IDS_FILE = "ids.json"
META_FILE = "meta.json"
_ARRAYS = ("user_factors", "item_factors", "item_emb", "profiles", "ridge_w", "activity")


def recommender_dir(settings: Settings | None = None) -> Path:
    """Where the fitted recommender lives in the store."""
    return (settings or get_settings()).store_path / "models" / "recommender"


def data_fingerprint(transactions: pd.DataFrame, item_texts: Mapping[str, str], embedder_name: str,
                     params: Mapping[str, Any] | None = None) -> str:
    """Hash of what the fit depends on: aggregated purchases (row order does not matter), product texts,
    embedder name and fitting parameters."""
    inter = interactions(transactions).sort_values(["customer_id", "product_id"], kind="stable")
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(inter, index=False).to_numpy().tobytes())
    for pid in sorted(item_texts):
        h.update(f"{pid}\x00{item_texts[pid]}\x01".encode("utf-8", "replace"))
    h.update(f"|{embedder_name}|{json.dumps(dict(params or {}), sort_keys=True, default=str)}".encode())
    return h.hexdigest()[:24]


def save_recommender(model: HybridRecommender, directory: Path, meta: Mapping[str, Any]) -> dict[str, Any]:
    """Write the fitted state + ``meta`` atomically (temporary folder, then rename); returns the metadata
    as written to ``meta.json``."""
    from scipy import sparse

    directory = Path(directory)
    with atomic_dir(directory) as tmp:
        ui = sparse.csr_matrix(model.user_items)
        arrays: dict[str, Any] = {k: np.asarray(getattr(model, k)) for k in _ARRAYS}
        arrays.update(ui_data=ui.data, ui_indices=ui.indices, ui_indptr=ui.indptr, ui_shape=np.asarray(ui.shape))
        np.savez(tmp / ARRAYS_FILE, **arrays)
        (tmp / IDS_FILE).write_text(json.dumps({"customers": model.customers, "items": model.items}))
        full = {"format_version": FORMAT_VERSION, **dict(meta), "blend": model.blend,
                "n_customers": len(model.customers), "n_items": len(model.items),
                "n_interactions": int(ui.nnz), "factors": int(model.user_factors.shape[1])}
        text = json.dumps(full, indent=2, default=str)
        (tmp / META_FILE).write_text(text)
    return dict(json.loads(text))


def read_meta(directory: Path) -> dict[str, Any] | None:
    """The saved metadata, or None when there is no (readable) saved model."""
    path = Path(directory) / META_FILE
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def load_recommender(directory: Path, embedder: Any = None) -> HybridRecommender:
    """Rebuild a saved recommender; ``embedder`` is attached for cold-start text encoding."""
    from scipy import sparse

    directory = Path(directory)
    meta = read_meta(directory)
    if meta is None or not (directory / ARRAYS_FILE).is_file():
        raise ModelNotFoundError(f"No saved recommender in {directory}; train one with `assistant recommend train`.")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelNotFoundError(f"The recommender in {directory} has format {meta.get('format_version')!r}, "
                                 f"this version reads {FORMAT_VERSION}; retrain with `assistant recommend train`.")
    ids = json.loads((directory / IDS_FILE).read_text())
    with np.load(directory / ARRAYS_FILE) as z:
        arrays = {k: z[k] for k in _ARRAYS}
        ui = sparse.csr_matrix((z["ui_data"], z["ui_indices"], z["ui_indptr"]), shape=tuple(z["ui_shape"]))
    return HybridRecommender(customers=list(ids["customers"]), items=list(ids["items"]), user_items=ui,
                             blend=dict(meta.get("blend") or DEFAULT_BLEND),
                             embedder=embedder, **arrays)


def load_or_fit(transactions: pd.DataFrame, item_texts: Mapping[str, str], embedder: Any, *,
                settings: Settings | None = None, directory: Path | None = None, force: bool = False,
                log: Callable[[str], Any] | None = None, **params: Any) -> tuple[HybridRecommender, dict[str, Any]]:
    """The saved recommender when its fingerprint matches these transactions / texts / embedder / params;
    otherwise fit, save and return a new one. Returns (model, metadata incl. ``loaded`` True/False)."""
    say = log or (lambda *_: None)
    directory = Path(directory) if directory is not None else recommender_dir(settings)
    name = str(getattr(embedder, "name", "") or "")
    fit_defaults = {k: v.default for k, v in inspect.signature(HybridRecommender.fit).parameters.items()
                    if v.default is not inspect.Parameter.empty and k != "item_embeddings"}
    fp = data_fingerprint(transactions, item_texts, name, {**fit_defaults, **params})
    meta = read_meta(directory)
    if not force and meta is not None and meta.get("fingerprint") == fp \
            and meta.get("format_version") == FORMAT_VERSION:
        try:
            model = load_recommender(directory, embedder)
        except (ModelNotFoundError, OSError, ValueError, KeyError) as exc:
            say(f"saved recommender unreadable ({exc}); refitting")
        else:
            say(f"loaded the saved recommender from {directory} (trained {meta.get('trained_at')})")
            return model, {**meta, "loaded": True, "path": str(directory)}
    reason = "forced" if force else "no saved model" if meta is None else "data or settings changed"
    say(f"fitting the recommender ({reason}) on {len(transactions)} purchase lines ...")
    t0 = time.perf_counter()
    model = HybridRecommender.fit(transactions, item_texts, embedder, **params)
    new_meta = {"fingerprint": fp, "embedder": name, "params": params, "n_purchase_lines": len(transactions),
                "n_products_with_text": sum(1 for t in item_texts.values() if str(t or "").strip()),
                "fit_seconds": round(time.perf_counter() - t0, 1),
                "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    written = save_recommender(model, directory, new_meta)
    say(f"fitted in {new_meta['fit_seconds']} s and saved to {directory}")
    return model, {**written, "loaded": False, "path": str(directory)}
