"""The real packaged MiniLM embedder end to end (slow: loads the model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures.index.fakes import products_frame, reviews_frame

from assistant.index.embedder import cpu_has_fast_bf16, quiet_weight_loading, resolve_dtype


def test_dtype_resolution() -> None:
    assert resolve_dtype("float32") == "float32" and resolve_dtype("bfloat16") == "bfloat16"
    assert resolve_dtype("auto") == ("bfloat16" if cpu_has_fast_bf16() else "float32")


def test_weight_loading_bar_hidden_then_restored() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    with quiet_weight_loading():
        assert not hf_logging.is_progress_bar_enabled()
    assert hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    with quiet_weight_loading():
        pass
    assert not hf_logging.is_progress_bar_enabled()  # a caller's own choice is kept
    hf_logging.enable_progress_bar()


@pytest.mark.slow
def test_packaged_minilm_build_and_search(tmp_path: Path) -> None:
    from assistant.config import get_settings
    from assistant.index.embedder import get_embedder
    from assistant.index.hybrid import HybridIndex
    from assistant.index.similar import similar_products

    emb = get_embedder(get_settings())
    assert emb.name == "all-MiniLM-L6-v2" and emb.dim == 384
    assert get_embedder(get_settings()) is emb  # cached per process
    vecs = emb.encode(["The sleeves are too long", "Arms of the jacket are overly lengthy", "Tea mug"])
    assert vecs.dtype == np.float32 and vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    idx = HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), emb)
    hit = idx.search("this jacket keeps me warm", 1, kind="review", mode="dense")[0]
    assert hit.review_id == "V3"
    assert idx.search("it shrank after washing", 1, kind="review")[0].review_id == "V5"
    assert similar_products(idx, text="a silk gown to wear in the evening", k=1)[0].product_id == "P4"
    assert HybridIndex.load(tmp_path / "idx", emb).manifest["embedding_model"] == "all-MiniLM-L6-v2"
