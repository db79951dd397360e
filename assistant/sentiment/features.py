"""Features for the sentiment classifier: sentence embeddings (cached on disk by content hash) and
TF-IDF, alone or concatenated."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

FeatureSet = Literal["emb", "tfidf", "emb+tfidf", "stack"]
FEATURE_SETS: tuple[FeatureSet, ...] = ("emb", "tfidf", "emb+tfidf")  # single logistic-regression heads
STACK: FeatureSet = "stack"  # word+char TF-IDF -> stacked ordinal heads (assistant.sentiment.stack)


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


def make_word_char_tfidf() -> Any:
    """Word 1-3-gram + char_wb 2-5-gram TF-IDF side by side (sublinear tf), for the stacked model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 3), min_df=2, sublinear_tf=True, strip_accents="unicode",
                                  max_features=200_000)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True,
                                  strip_accents="unicode", max_features=300_000)),
    ])


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
