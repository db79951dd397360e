"""The dense side of the index: a FAISS index keyed by stable int64 ids.

Index types (``Settings.index_type`` / ``assistant index build --type``):

* ``flat``  – exact inner product, ``IndexIDMap2(IndexFlatIP)``. Default below ``AUTO_HNSW_MIN`` vectors.
* ``hnsw``  – ``IndexIDMap2(IndexHNSWFlat)`` (M=32, efConstruction=40, efSearch=128). Default above.
  HNSW cannot remove vectors: deleted ids become *tombstones* (skipped at search time) and the graph
  is rebuilt from the live vectors once tombstones pass 20% (``compact``).
* ``ivfpq`` – ``IndexIVFPQ`` (native ids, 8-bit PQ with dim/8 sub-quantisers) for stores too big for
  RAM as floats; needs at least ``IVFPQ_MIN`` vectors to train (smaller stores fall back to flat).

Filtered searches pass the allowed ids to FAISS as an ``IDSelectorBatch``; for small allowed sets on
flat/hnsw the allowed vectors are scored exactly (reconstructed), so a filter never loses results.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from assistant.errors import require

AUTO_HNSW_MIN = 50_000
IVFPQ_MIN = 20_000
EXACT_SUBSET_MAX = 4096
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
IVF_NPROBE = 32


def faiss_mod() -> Any:
    return require("faiss", "faiss-cpu")


def choose_type(requested: str, n: int) -> str:
    """Resolve ``auto`` by store size; ``ivfpq`` on too few vectors falls back to ``flat``."""
    if requested == "auto":
        return "hnsw" if n >= AUTO_HNSW_MIN else "flat"
    if requested == "ivfpq" and n < IVFPQ_MIN:
        return "flat"
    if requested not in ("flat", "hnsw", "ivfpq"):
        from assistant.errors import ConfigError

        raise ConfigError(f"Unknown index type {requested!r}; use auto, flat, hnsw or ivfpq.")
    return requested


def create(index_type: str, dim: int, train: np.ndarray | None = None, *,
           hnsw_m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION) -> Any:
    """An empty FAISS index of ``index_type`` (IVF-PQ is trained on ``train``)."""
    faiss = faiss_mod()
    if index_type == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if index_type == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = ef_construction
        inner.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap2(inner)
    if index_type == "ivfpq":
        assert train is not None and len(train) >= IVFPQ_MIN
        nlist = int(min(4 * math.sqrt(len(train)), len(train) // 39))
        m = next(m for m in (dim // 8, dim // 4, dim // 2, dim) if m and dim % m == 0)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        index.train(train)
        index.nprobe = IVF_NPROBE
        return index
    raise ValueError(index_type)


def ntotal(index: Any) -> int:
    return int(index.ntotal)


def add(index: Any, vectors: np.ndarray, ids: np.ndarray) -> None:
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))


def supports_remove(index_type: str) -> bool:
    return index_type != "hnsw"


def remove(index: Any, ids: np.ndarray) -> int:
    if not len(ids):
        return 0
    return int(index.remove_ids(np.asarray(ids, dtype=np.int64)))


def reconstruct(index: Any, ids: np.ndarray) -> np.ndarray:
    """Stored vectors of ``ids`` (flat and hnsw only; exact)."""
    return np.asarray(index.reconstruct_batch(np.asarray(ids, dtype=np.int64)), dtype=np.float32)


def compact(index: Any, index_type: str, live_ids: np.ndarray) -> Any:
    """A fresh index holding only ``live_ids`` (drops HNSW tombstones); same ids, no re-embedding."""
    vecs = reconstruct(index, live_ids)
    params = params_of(index, index_type)
    new = create(index_type, index.d, ef_construction=params.get("efConstruction", HNSW_EF_CONSTRUCTION))
    set_search_params(new, index_type, ef_search=params.get("efSearch"))
    add(new, vecs, live_ids)
    return new


def set_search_params(index: Any, index_type: str, *, ef_search: int | None = None, nprobe: int | None = None) -> None:
    faiss = faiss_mod()
    if index_type == "hnsw" and ef_search:
        faiss.downcast_index(index.index).hnsw.efSearch = int(ef_search)
    if index_type == "ivfpq" and nprobe:
        index.nprobe = int(nprobe)


def search(index: Any, index_type: str, query: np.ndarray, k: int,
           allowed: np.ndarray | None = None, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` (ids, scores) for one query vector; ``allowed`` restricts to those ids (sorted int64),
    ``exclude`` (used when ``allowed`` is None) skips ids, e.g. HNSW tombstones.

    Returned ids are never -1; fewer than ``k`` come back only when fewer vectors qualify."""
    faiss = faiss_mod()
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    n = ntotal(index)
    if n == 0 or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    sel: Any = None
    n_allowed = n
    if allowed is not None:
        if len(allowed) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if index_type in ("flat", "hnsw") and len(allowed) <= EXACT_SUBSET_MAX:
            vecs = reconstruct(index, allowed)
            scores = vecs @ q[0]
            top = np.argsort(-scores, kind="stable")[:k]
            return allowed[top], scores[top]
        sel, n_allowed = faiss.IDSelectorBatch(allowed), len(allowed)
    elif exclude is not None and len(exclude):
        inner_sel = faiss.IDSelectorBatch(exclude)
        sel = faiss.IDSelectorNot(inner_sel)
        sel.referenced = inner_sel  # keep the wrapped selector alive
        n_allowed = max(1, n - len(exclude))
    if sel is not None:
        if index_type == "hnsw":
            inner = faiss.downcast_index(index.index)
            params: Any = faiss.SearchParametersHNSW(sel=sel, efSearch=max(inner.hnsw.efSearch, k))
        elif index_type == "ivfpq":
            few = n_allowed < 0.05 * n
            params = faiss.SearchParametersIVF(sel=sel, nprobe=index.nlist if few else max(index.nprobe, 64))
        else:
            params = faiss.SearchParameters(sel=sel)
        scores, ids = index.search(q, min(k, n_allowed), params=params)
    else:
        if index_type == "hnsw":
            inner = faiss.downcast_index(index.index)
            if inner.hnsw.efSearch < k:
                inner.hnsw.efSearch = k
        scores, ids = index.search(q, min(k, n))
    ids, scores = ids[0], scores[0]
    ok = ids >= 0
    return ids[ok].astype(np.int64), scores[ok].astype(np.float32)


def params_of(index: Any, index_type: str) -> dict[str, Any]:
    """Search/build parameters worth recording in the manifest and stats."""
    faiss = faiss_mod()
    if index_type == "hnsw":
        h = faiss.downcast_index(index.index).hnsw
        return {"efSearch": int(h.efSearch), "efConstruction": int(h.efConstruction)}
    if index_type == "ivfpq":
        return {"nlist": int(index.nlist), "nprobe": int(index.nprobe), "m": int(index.pq.M)}
    return {}


def write(index: Any, path: str) -> None:
    faiss_mod().write_index(index, path)


def read(path: str) -> Any:
    return faiss_mod().read_index(path)
