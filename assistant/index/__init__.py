"""Product/review retrieval: sentence embeddings + FAISS + BM25, fused by reciprocal rank.

``import assistant.index`` is light: faiss, torch and bm25s are imported when an index is built or
opened. Typical use::

    from assistant.index import open_index
    hits = open_index().search("runs small in the shoulders", k=5, kind="review")
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings, get_settings
from assistant.index.types import Filters, Hit

if TYPE_CHECKING:
    from assistant.data.catalog import Catalog
    from assistant.index.hybrid import HybridIndex

__all__ = ["Filters", "Hit", "build_from_catalog", "open_index"]

_OPEN: dict[tuple[str, str], Any] = {}
_OPEN_LOCK = threading.Lock()


def open_index(settings: Settings | None = None) -> HybridIndex:
    """The index at ``settings.current_index()``, loaded once per process and reloaded when another
    process committed a newer version. Raises IndexNotFoundError / IndexMismatchError."""
    from assistant.index.embedder import get_embedder
    from assistant.index.hybrid import HybridIndex
    from assistant.index.store import require_version

    s = settings or get_settings()
    path = s.current_index()
    require_version(path)  # fail fast (before loading the model) when nothing was built
    _single_query_threads(s)
    key = (str(path.resolve()), s.embedding_model)
    with _OPEN_LOCK:
        idx = _OPEN.get(key)
        if idx is None or idx.is_stale():
            idx = HybridIndex.load(path, get_embedder(s))
            _OPEN[key] = idx
        return idx  # type: ignore[no-any-return]


def build_from_catalog(settings: Settings | None = None, catalog: Catalog | None = None, *,
                       index_type: str | None = None, show_progress: bool = False,
                       reembed: bool = False) -> dict[str, Any]:
    """(Re)build the index from every product and review in the catalog; returns ``stats()`` plus how many
    texts were ``embedded`` and how many kept the live index's vectors (``reused``; none with ``reembed``)."""
    from assistant.index.embedder import get_embedder
    from assistant.index.hybrid import HybridIndex

    s = settings or get_settings()
    if catalog is None:
        from assistant.data.catalog import Catalog

        catalog = Catalog.open(s)
    path: Path = s.current_index()
    idx = HybridIndex.build(path, catalog.products(), catalog.reviews(), get_embedder(s),
                            index_type or s.index_type, show_progress=show_progress, reuse=not reembed)
    _single_query_threads(s)
    with _OPEN_LOCK:
        _OPEN[(str(path.resolve()), s.embedding_model)] = idx
    return idx.build_report()


def _single_query_threads(settings: Settings) -> None:
    """FAISS thread start-up dominates single queries on small machines: use ``faiss_threads`` (1)."""
    from assistant.index.vectors import faiss_mod

    faiss_mod().omp_set_num_threads(max(1, settings.faiss_threads))
