"""The lexical side of the index: BM25 (``bm25s``) over the chunk texts.

``bm25s`` has no incremental add, so the BM25 matrix is rebuilt from the stored chunk texts after each
upsert/delete (a few seconds for 100k chunks; the FAISS side *is* incremental). Row ``i`` of the
BM25 index is row ``i`` of chunks.parquet. Scoring uses ``get_scores`` over all rows, so a filter is
a plain mask and filtered searches stay exact.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import require

_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


def _stopwords() -> frozenset[str]:
    try:
        from bm25s.stopwords import STOPWORDS_EN

        return frozenset(STOPWORDS_EN)
    except ImportError:  # pragma: no cover - older bm25s
        return frozenset()


_STOP = _stopwords()


def _stem(tok: str) -> str:
    """A very light English plural stemmer (no extra dependency): 'straps' -> 'strap'."""
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        return tok[:-1]
    return tok


def tokenize(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN_RE.findall((text or "").lower()) if t not in _STOP]


class Lexical:
    """BM25 over a list of texts (row-aligned with the chunk table)."""

    def __init__(self, retriever: Any, n_docs: int) -> None:
        self.retriever = retriever
        self.n_docs = n_docs
        vocab = getattr(retriever, "vocab_dict", None) or {}
        self._vocab: dict[str, int] = dict(vocab)

    @classmethod
    def build(cls, texts: list[str]) -> Lexical:
        bm25s = require("bm25s")
        retriever = bm25s.BM25()
        if texts:
            retriever.index([tokenize(t) for t in texts], show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every row, or None when no query term occurs in the corpus."""
        if not self.n_docs:
            return None
        toks = [t for t in tokenize(query) if t in self._vocab]
        if not toks:
            return None
        return np.asarray(self.retriever.get_scores(toks), dtype=np.float32)

    def top(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (row positions, scores) with a positive score, restricted to ``mask`` rows."""
        s = self.scores(query)
        if s is None or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if mask is not None:
            s = np.where(mask, s, 0.0).astype(np.float32)
        cand = np.flatnonzero(s > 0)
        if len(cand) > k:
            cand = cand[np.argpartition(-s[cand], k - 1)[:k]]
        order = cand[np.lexsort((cand, -s[cand]))]
        return order.astype(np.int64), s[order]

    def save(self, path: Path) -> None:
        if self.n_docs:
            self.retriever.save(str(path), show_progress=False)
        else:
            path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def load(cls, path: Path, n_docs: int) -> Lexical:
        bm25s = require("bm25s")
        if not n_docs:
            return cls(bm25s.BM25(), 0)
        retriever = bm25s.BM25.load(str(path), show_progress=False)
        return cls(retriever, n_docs)
