"""Hybrid product/review index: FAISS (dense) + BM25 (lexical), fused by reciprocal rank.

One index holds product chunks and review chunks; ``kind`` is just another filter. Metadata lives in
chunks.parquet (row-aligned with BM25, keyed by the FAISS id), see ``store.py`` for the layout and
atomic writes, ``vectors.py`` for index types, ``lexical.py`` for BM25.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from assistant.errors import AssistantError, DataValidationError, IndexMismatchError
from assistant.index import store, vectors
from assistant.index.chunking import CHUNK_COLUMNS, product_chunks, review_chunks
from assistant.index.embedder import Embedder
from assistant.index.filtering import ChunkColumns
from assistant.index.lexical import Lexical
from assistant.index.types import Filters, Hit, Kind

Mode = Literal["hybrid", "dense", "bm25"]

Fusion = Literal["rrf", "cc"]

RRF_K = 60
#: Default fusion, chosen on the SubjQA electronics DEV split (eval/retrieval_subjqa.py --tune; never on
#: test): "cc" = convex combination of min-max normalised arm scores with weights (bm25, dense);
#: "rrf" = weighted reciprocal rank fusion, sum of w / (60 + rank). Plain RRF is ("rrf", (1, 1)) and
#: fell below dense-only within the item. The finer dev grid prefers cc 0.1/0.9 by 0.013 mean MRR
#: (noise on 99 dev questions); we keep 0.2/0.8 so exact terms (product names, codes) still count.
DEFAULT_FUSION: Fusion = "cc"
DEFAULT_WEIGHTS: tuple[float, float] = (0.2, 0.8)
TOMBSTONE_COMPACT_SHARE = 0.2

log = logging.getLogger(__name__)


class HybridIndex:
    """Search and maintain a built index. Create with ``build`` or ``load`` (or ``open_index``)."""

    def __init__(self, path: Path, embedder: Embedder, manifest: dict[str, Any], meta: pd.DataFrame,
                 faiss_index: Any, lexical: Lexical, tombstones: np.ndarray, version: str) -> None:
        self.path = Path(path)
        self.embedder = embedder
        self.manifest = manifest
        self.faiss = faiss_index
        self.lexical = lexical
        self.tombstones = np.asarray(tombstones, dtype=np.int64)
        self.version = version
        self.fusion: Fusion = DEFAULT_FUSION
        self.weights: tuple[float, float] = DEFAULT_WEIGHTS
        self._lock = threading.RLock()
        self._set_meta(meta)

    # ------------------------------------------------------------------ build / load
    @classmethod
    def build(cls, path: Path, products: pd.DataFrame | None, reviews: pd.DataFrame | None,
              embedder: Embedder, index_type: str = "auto", *, show_progress: bool = False,
              reuse: bool = True) -> HybridIndex:
        """Write a fresh index at ``path`` atomically (the old one stays live until the new one is complete).
        With ``reuse``, texts the live index already holds keep their stored vectors (same embedding model,
        exact flat/hnsw vectors) and only new or changed texts are embedded."""
        path = Path(path)
        pchunks = product_chunks(products)
        rchunks = review_chunks(reviews, _product_info(pchunks))
        meta = pd.concat([pchunks, rchunks], ignore_index=True)
        meta.insert(0, "faiss_id", np.arange(len(meta), dtype=np.int64))
        texts = meta["text"].tolist()
        vecs = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        known = _stored_vectors(path, embedder) if reuse else {}
        rows = [i for i, t in enumerate(texts) if t in known]
        if rows:
            vecs[rows] = np.stack([known[texts[i]] for i in rows])
        todo = np.setdiff1d(np.arange(len(texts)), rows)
        vecs[todo] = _encode(embedder, [texts[i] for i in todo], show_progress)
        itype = vectors.choose_type(index_type, len(meta))
        index = vectors.create(itype, embedder.dim, vecs if itype == "ivfpq" else None)
        vectors.add(index, vecs, meta["faiss_id"].to_numpy())
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        manifest = {
            "format": store.FORMAT_VERSION, "embedding_model": embedder.name, "dim": int(embedder.dim),
            "index_type": itype, "requested_type": index_type, "next_id": int(len(meta)),
            "created_at": now, "updated_at": now, "embedded": int(len(todo)), "reused": int(len(rows)),
        }
        with store.write_lock(path):
            obj = cls(path, embedder, manifest, meta, index, Lexical.build(texts),
                      np.zeros(0, np.int64), "")
            obj._commit()
        return obj

    @classmethod
    def load(cls, path: Path, embedder: Embedder) -> HybridIndex:
        """Load the live version at ``path``; refuses an index built with another embedding model."""
        path = Path(path)
        folder = store.require_version(path)
        manifest = store.read_manifest(folder)
        if manifest.get("embedding_model") != embedder.name or int(manifest.get("dim", -1)) != embedder.dim:
            raise IndexMismatchError(
                f"The index at {path} was built with embedding model {manifest.get('embedding_model')!r} "
                f"(dim {manifest.get('dim')}), but the configured model is {embedder.name!r} (dim {embedder.dim}). "
                f"Rebuild it with `assistant index build --force`, or set ASSISTANT_EMBEDDING_MODEL="
                f"{manifest.get('embedding_model')} to use it as it is."
            )
        meta = store.read_chunks(folder)
        lexical = Lexical.load(folder / store.BM25_DIR, len(meta))
        index = vectors.read(str(folder / store.VECTORS))
        return cls(path, embedder, manifest, meta, index, lexical, store.read_tombstones(folder), folder.name)

    def is_stale(self) -> bool:
        """True when another process committed a newer version since this one was loaded."""
        live = store.current_version(self.path)
        return live is not None and live.name != self.version

    # ------------------------------------------------------------------ search
    def search(self, query: str, k: int = 10, *, kind: Kind | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid", fusion: Fusion | None = None,
               weights: tuple[float, float] | None = None) -> list[Hit]:
        """Top ``k`` chunks for ``query``. Filters are applied inside each arm, so a filtered search
        returns ``k`` hits whenever ``k`` chunks match. ``fusion``/``weights`` (bm25, dense) override the
        dev-tuned defaults (``DEFAULT_FUSION``, ``DEFAULT_WEIGHTS``) in hybrid mode."""
        if mode not in ("hybrid", "dense", "bm25"):
            raise DataValidationError(f"Unknown search mode {mode!r}; use hybrid, dense or bm25.")
        if k <= 0 or not query or not query.strip():
            return []
        with self._lock:
            mask = self._mask(kind, filters)
            if mask is not None and not mask.any():
                return []
            n_cand = k if mode != "hybrid" else max(4 * k, 40)
            ranked: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            if mode in ("hybrid", "bm25"):
                ranked["bm25"] = self.lexical.top(query, n_cand, mask)
            if mode in ("hybrid", "dense"):
                ranked["dense"] = self._dense(query, n_cand, mask)
            if mode != "hybrid":
                rows, scores = ranked[mode]
                return [self._hit(int(r), float(s), {mode: i + 1}) for i, (r, s) in enumerate(zip(rows, scores, strict=True))]
            return self._fuse(ranked, k, fusion or self.fusion, weights or self.weights)

    def _dense(self, query: str, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        qv = self.embedder.encode([query])[0]
        allowed = None
        if mask is not None:
            allowed = self._ids[mask]
        ids, scores = vectors.search(self.faiss, self._itype, qv, k, allowed, exclude=self.tombstones)
        rows = np.searchsorted(self._ids, ids)
        live = (rows < len(self._ids)) & (self._ids[np.minimum(rows, len(self._ids) - 1)] == ids) if len(self._ids) else rows < 0
        return rows[live][:k].astype(np.int64), scores[live][:k]

    def _fuse(self, ranked: dict[str, tuple[np.ndarray, np.ndarray]], k: int, fusion: Fusion,
              weights: tuple[float, float]) -> list[Hit]:
        if fusion not in ("rrf", "cc"):
            raise DataValidationError(f"Unknown fusion {fusion!r}; use 'rrf' or 'cc'.")
        w = {"bm25": weights[0], "dense": weights[1]}
        fused: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        for arm, (rows, scores) in ranked.items():
            if fusion == "cc" and len(scores):
                lo, hi = float(scores.min()), float(scores.max())
                norm = (scores - lo) / (hi - lo) if hi > lo else np.ones_like(scores)
            for rank, row in enumerate(rows.tolist(), start=1):
                gain = w[arm] / (RRF_K + rank) if fusion == "rrf" else w[arm] * float(norm[rank - 1])
                fused[row] = fused.get(row, 0.0) + gain
                ranks.setdefault(row, {})[arm] = rank
        best = sorted(fused.items(), key=lambda kv: (-kv[1], min(ranks[kv[0]].values()), kv[0]))[:k]
        return [self._hit(row, score, ranks[row]) for row, score in best]

    def _hit(self, row: int, score: float, ranks: dict[str, int]) -> Hit:
        r = self._records[row]
        rating = r["rating"]
        return Hit(
            chunk_id=r["chunk_id"], kind=r["kind"], text=r["text"], score=round(float(score), 6),
            product_id=r["product_id"], review_id=r["review_id"] or None,
            rating=None if rating is None or rating != rating else float(rating),
            date=r["date"] or None, category=r["category"] or None, title=r["title"] or None, ranks=dict(ranks),
        )

    def _mask(self, kind: Kind | None, filters: Filters | None) -> np.ndarray | None:
        try:
            return self._cols.mask(kind, filters)
        except ValueError as exc:
            raise DataValidationError(f"Bad search filter ({exc}); dates must look like YYYY-MM-DD.") from exc

    # ------------------------------------------------------------------ incremental updates
    def upsert(self, products: pd.DataFrame | None = None, reviews: pd.DataFrame | None = None,
               *, show_progress: bool = False) -> dict[str, int]:
        """Add or replace products and/or reviews without a rebuild. Unchanged chunks keep their FAISS
        id and vector; changed/new ones are embedded; stale chunks are removed. Written atomically."""
        with self._lock, store.write_lock(self.path):
            meta = self.meta
            new_p = product_chunks(products)
            info = _product_info(meta[meta["kind"] == "product"])
            info.update(_product_info(new_p))
            new_r = review_chunks(reviews, info)
            incoming = pd.concat([new_p, new_r], ignore_index=True).drop_duplicates("chunk_id", keep="last")
            incoming = incoming.reset_index(drop=True)
            replaced_ids = {f"p:{p}" for p in new_p["product_id"]}
            touched_reviews = set(new_r["review_id"])
            old_rows = meta["chunk_id"].isin(replaced_ids) | (
                (meta["kind"] == "review") & meta["review_id"].isin(touched_reviews))
            old = meta[old_rows]
            old_text = dict(zip(old["chunk_id"], zip(old["text"], old["faiss_id"], strict=True), strict=True))
            keep_id = [old_text.get(c, (None, -1))[1] if old_text.get(c, (None,))[0] == t else -1
                       for c, t in zip(incoming["chunk_id"], incoming["text"], strict=True)]
            incoming.insert(0, "faiss_id", np.asarray(keep_id, dtype=np.int64))
            fresh = incoming["faiss_id"].to_numpy() < 0
            vecs = _encode(self.embedder, incoming.loc[fresh, "text"].tolist(), show_progress)
            # everything that can fail (embedding) happened before we touch the index
            next_id = int(self.manifest["next_id"])
            new_ids = np.arange(next_id, next_id + int(fresh.sum()), dtype=np.int64)
            incoming.loc[fresh, "faiss_id"] = new_ids
            kept = set(incoming["faiss_id"].tolist())
            dropped = old["faiss_id"][~old["faiss_id"].isin(kept)].to_numpy(dtype=np.int64)
            meta = pd.concat([meta[~old_rows], incoming], ignore_index=True)
            meta = _refresh_review_products(meta, set(new_p["product_id"]))
            self.manifest["next_id"] = next_id + len(new_ids)
            self._apply(meta.sort_values("faiss_id", kind="stable").reset_index(drop=True), vecs, new_ids, dropped)
            return {"added": int(len(new_ids)), "unchanged": int((~fresh).sum()), "removed": int(len(dropped)),
                    "products": int(len(new_p)), "reviews": int(len(touched_reviews))}

    def delete(self, product_ids: Sequence[str] = (), review_ids: Sequence[str] = ()) -> dict[str, int]:
        """Delete products (with their reviews, as the catalog does) and reviews. Written atomically."""
        with self._lock, store.write_lock(self.path):
            meta = self.meta
            gone = meta["product_id"].isin(list(product_ids)) | (
                (meta["kind"] == "review") & meta["review_id"].isin(list(review_ids)))
            dropped = meta.loc[gone, "faiss_id"].to_numpy(dtype=np.int64)
            n_products = int((gone & (meta["kind"] == "product")).sum())
            n_reviews = int(meta.loc[gone & (meta["kind"] == "review"), "review_id"].nunique())
            if len(dropped):
                self._apply(meta[~gone].reset_index(drop=True), np.zeros((0, self.embedder.dim), np.float32),
                            np.zeros(0, np.int64), dropped)
            return {"chunks": int(len(dropped)), "products": n_products, "reviews": n_reviews}

    def _apply(self, meta: pd.DataFrame, vecs: np.ndarray, new_ids: np.ndarray, dropped: np.ndarray) -> None:
        """Mutate the in-memory index and commit a new version; on any failure reload the live one."""
        try:
            if vectors.supports_remove(self._itype):
                vectors.remove(self.faiss, dropped)
            else:
                self.tombstones = np.union1d(self.tombstones, dropped).astype(np.int64)
            vectors.add(self.faiss, vecs, new_ids)
            if len(self.tombstones) > TOMBSTONE_COMPACT_SHARE * max(1, vectors.ntotal(self.faiss)):
                self.faiss = vectors.compact(self.faiss, self._itype, meta["faiss_id"].to_numpy(dtype=np.int64))
                self.tombstones = np.zeros(0, np.int64)
            self._set_meta(meta)
            self.lexical = Lexical.build(meta["text"].tolist())
            self.manifest["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            self._commit()
        except BaseException:
            fresh = HybridIndex.load(self.path, self.embedder)
            self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_lock"})
            raise

    def _commit(self) -> None:
        self.manifest.update(self._counts())
        self.manifest["params"] = vectors.params_of(self.faiss, self._itype)

        def write(tmp: Path) -> None:
            vectors.write(self.faiss, str(tmp / store.VECTORS))
            store.write_chunks(tmp, self.meta)
            store.write_tombstones(tmp, self.tombstones)
            self.lexical.save(tmp / store.BM25_DIR)
            store.write_manifest(tmp, self.manifest)  # last: a folder with a manifest is complete

        self.version = store.commit(self.path, write).name

    # ------------------------------------------------------------------ helpers
    @property
    def _itype(self) -> str:
        return str(self.manifest["index_type"])

    def _set_meta(self, meta: pd.DataFrame) -> None:
        meta = meta[list(CHUNK_COLUMNS)].reset_index(drop=True)
        meta["faiss_id"] = meta["faiss_id"].astype(np.int64)
        meta["rating"] = meta["rating"].astype("float64")
        for col in ("chunk_id", "kind", "product_id", "review_id", "date", "category", "title", "text"):
            meta[col] = meta[col].fillna("").astype(str)
        self.meta = meta
        self._ids = meta["faiss_id"].to_numpy(dtype=np.int64)
        self._records = meta.to_dict("records")
        self._cols = ChunkColumns(meta)

    def _counts(self) -> dict[str, int]:
        kinds = self.meta["kind"]
        return {"n_chunks": int(len(self.meta)), "n_products": int((kinds == "product").sum()),
                "n_reviews": int(self.meta.loc[kinds == "review", "review_id"].nunique()),
                "n_review_chunks": int((kinds == "review").sum()), "n_tombstones": int(len(self.tombstones))}

    def stats(self) -> dict[str, Any]:
        """Counts, model, index type and size on disk."""
        folder = store.current_version(self.path)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder else 0
        return {"path": str(self.path), "version": self.version, "embedding_model": self.manifest["embedding_model"],
                "dim": self.manifest["dim"], "index_type": self._itype, "params": self.manifest.get("params", {}),
                "faiss_ntotal": vectors.ntotal(self.faiss), **self._counts(), "bytes_on_disk": size,
                "created_at": self.manifest.get("created_at"), "updated_at": self.manifest.get("updated_at")}

    def build_report(self) -> dict[str, Any]:
        """``stats()`` plus how many texts the build embedded and how many kept the old index's vectors."""
        return {**self.stats(), "embedded": self.manifest.get("embedded"), "reused": self.manifest.get("reused")}

    def __len__(self) -> int:
        return len(self.meta)


def _stored_vectors(path: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Text -> vector of the live index at ``path`` when it was built with ``embedder``'s model and keeps exact
    vectors (flat, hnsw); {} otherwise, or when it cannot be read (then everything is embedded again)."""
    try:
        old = HybridIndex.load(path, embedder)
    except AssistantError:
        return {}
    except Exception as exc:  # a damaged old index must not stop a rebuild: it is what a rebuild replaces
        log.warning("not reusing vectors of the index at %s: %s", path, exc)
        return {}
    if old._itype not in ("flat", "hnsw"):
        return {}
    live = old.meta[~old.meta["faiss_id"].isin(old.tombstones)].drop_duplicates("text")
    if live.empty:
        return {}
    stored = vectors.reconstruct(old.faiss, live["faiss_id"].to_numpy(dtype=np.int64))
    return dict(zip(live["text"].tolist(), stored, strict=True))


def _encode(embedder: Embedder, texts: list[str], show_progress: bool) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    vecs = np.asarray(embedder.encode(texts, show_progress=show_progress), dtype=np.float32)
    if vecs.shape != (len(texts), embedder.dim):
        raise IndexMismatchError(f"Embedder {embedder.name!r} returned shape {vecs.shape}, expected "
                                 f"({len(texts)}, {embedder.dim}).")
    return vecs


def _product_info(product_meta: pd.DataFrame) -> dict[str, tuple[str, str]]:
    if product_meta is None or product_meta.empty:
        return {}
    return {str(p): (str(c or ""), str(t or "")) for p, c, t in
            zip(product_meta["product_id"], product_meta["category"], product_meta["title"], strict=True)}


def _refresh_review_products(meta: pd.DataFrame, product_ids: set[str]) -> pd.DataFrame:
    """After a product upsert, copy its (maybe changed) category/title onto its review chunks."""
    if not product_ids:
        return meta
    info = _product_info(meta[(meta["kind"] == "product") & meta["product_id"].isin(product_ids)])
    rows = (meta["kind"] == "review") & meta["product_id"].isin(list(info))
    if rows.any():
        meta = meta.copy()
        meta.loc[rows, "category"] = [info[p][0] for p in meta.loc[rows, "product_id"]]
        meta.loc[rows, "title"] = [info[p][1] for p in meta.loc[rows, "product_id"]]
    return meta
