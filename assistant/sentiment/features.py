"""Features for the sentiment classifier: sentence embeddings (cached on disk by content hash) and
TF-IDF, alone or concatenated."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

FeatureSet = Literal["emb", "tfidf", "emb+tfidf", "stack"]
FEATURE_SETS: tuple[FeatureSet, ...] = ("emb", "tfidf", "emb+tfidf")  # single logistic-regression heads
STACK: FeatureSet = "stack"  # ReviewVectorizer views -> stacked ordinal heads (assistant.sentiment.stack)


def review_text(title: Any, text: Any) -> str:
    """The text the classifier sees: ``"<title>. <text>"`` (title left out when empty)."""
    t = title.strip() if isinstance(title, str) else ""
    x = text.strip() if isinstance(text, str) else ""
    if t and x:
        return f"{t}. {x}"
    return t or x


def _cache_key(texts: Sequence[str], embedder: Any) -> str:
    h = hashlib.sha1()
    h.update(f"{embedder.name}|{getattr(embedder, 'dtype', '')}|{embedder.dim}|".encode())
    for t in texts:
        h.update(t.encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def embed_cached(texts: Sequence[str], embedder: Any, cache_dir: Path | None = None, *,
                 batch: int = 1024, show_progress: bool = False) -> np.ndarray:
    """``embedder.encode(texts)``; with ``cache_dir`` the result is stored as ``emb_<hash>.npy`` (hash of
    model name, dtype and texts) and reused on the next call with the same texts."""
    texts = list(texts)
    path: Path | None = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"emb_{_cache_key(texts, embedder)}.npy"
        if path.is_file():
            arr = np.load(path)
            if arr.shape == (len(texts), embedder.dim):
                return arr.astype(np.float32, copy=False)
    parts = [embedder.encode(texts[i:i + batch], show_progress=show_progress) for i in range(0, len(texts), batch)]
    out = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim), np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, out)
        os.replace(tmp, path)
    return out


def make_tfidf(max_features: int = 100_000) -> Any:
    """Word 1-2-gram TF-IDF (sublinear tf, min_df 2), as used by the classifier and the baseline."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=max_features, sublinear_tf=True,
                           strip_accents="unicode")


_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")
_SENTENCE_GAP = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text: str) -> str:
    """The text up to its first sentence end (the title, when the text is "<title>. <review>")."""
    m = _SENTENCE_END.search(text)
    return text[:m.end()].strip() if m else text.strip()


def last_sentence(text: str) -> str:
    """The last sentence (reviews often end with the verdict: "returned it.", "love it!")."""
    parts = [p for p in _SENTENCE_GAP.split(text.strip()) if p.strip()]
    return parts[-1].strip() if parts else text.strip()


@dataclass
class Views:
    """Row-aligned sparse matrices of one batch of reviews: whole text, first and last sentence."""

    full: Any
    head: Any
    tail: Any

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.full.shape[0]), int(self.full.shape[1]))

    def __getitem__(self, rows: Any) -> Views:
        return Views(self.full[rows], self.head[rows], self.tail[rows])


class ReviewVectorizer:
    """TF-IDF views for the stacked model: the whole text as word 1-3 + char_wb 2-5 grams, and its first
    and last sentence each as char_wb 2-5 + word 1-2 grams (all sublinear tf)."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        def union(words: tuple[int, int], min_df: int, max_features: int | None) -> Any:
            return FeatureUnion([
                ("words", TfidfVectorizer(ngram_range=words, min_df=2, sublinear_tf=True, strip_accents="unicode",
                                          max_features=max_features)),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df, sublinear_tf=True,
                                          strip_accents="unicode", max_features=max_features)),
            ])

        self.full = union((1, 3), 3, 300_000)
        self.head = union((1, 2), 2, 100_000)
        self.tail = union((1, 2), 2, 100_000)

    def fit(self, texts: Sequence[str]) -> ReviewVectorizer:
        texts = list(texts)
        self.full.fit(texts)
        self.head.fit([first_sentence(t) for t in texts])
        self.tail.fit([last_sentence(t) for t in texts])
        return self

    def transform(self, texts: Sequence[str]) -> Views:
        texts = list(texts)
        return Views(self.full.transform(texts), self.head.transform([first_sentence(t) for t in texts]),
                     self.tail.transform([last_sentence(t) for t in texts]))


def combine(features: FeatureSet, emb: np.ndarray | None, tfidf_matrix: Any | None) -> Any:
    """Feature matrix for ``features``: dense embeddings, sparse TF-IDF, or both side by side (each
    block has unit-norm rows, so they carry similar weight)."""
    if features == "stack":
        if tfidf_matrix is None:
            raise ValueError("TF-IDF features are required for the 'stack' feature set")
        return tfidf_matrix
    if features == "emb":
        if emb is None:
            raise ValueError("embeddings are required for the 'emb' feature set")
        return emb
    if tfidf_matrix is None:
        raise ValueError(f"TF-IDF features are required for the {features!r} feature set")
    if features == "tfidf":
        return tfidf_matrix
    from scipy import sparse

    if emb is None:
        raise ValueError("embeddings are required for the 'emb+tfidf' feature set")
    return sparse.hstack([sparse.csr_matrix(emb), tfidf_matrix], format="csr")
