"""Incremental upsert/delete, atomic builds and updates, model mismatch, HNSW tombstones, open_index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.index.fakes import FailingEmbedder, FakeEmbedder, products_frame, reviews_frame

from assistant.errors import IndexMismatchError
from assistant.index import store
from assistant.index.hybrid import HybridIndex


def _ids(index: HybridIndex) -> dict[str, int]:
    return dict(zip(index.meta["chunk_id"], index.meta["faiss_id"].astype(int), strict=True))


def test_upsert_adds_updates_and_keeps_ids_stable(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    idx = HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), emb)
    before = _ids(idx)
    encoded = emb.texts_encoded
    new_review = pd.DataFrame([{"review_id": "V9", "product_id": "P3", "rating": 2.0, "title": "",
                                "text": "The zipper broke on day one.", "date": pd.Timestamp("2024-09-01")}])
    changed = reviews_frame().iloc[[0]].assign(text="Pockets tore at the seams.")
    out = idx.upsert(reviews=pd.concat([new_review, changed, reviews_frame().iloc[[1]]], ignore_index=True))
    assert out["added"] == 2 and out["unchanged"] == 1 and out["removed"] == 1
    assert emb.texts_encoded - encoded == 2  # only new/changed text is embedded
    after = _ids(idx)
    assert after["r:V2:0"] == before["r:V2:0"]  # unchanged chunk keeps its FAISS id
    assert after["r:V1:0"] > max(before.values())  # changed chunk gets a fresh id
    assert all(after[c] == i for c, i in before.items() if c != "r:V1:0")
    assert idx.search("zipper broke", 1)[0].review_id == "V9"
    assert idx.search("zipper broke", 1)[0].category == "General > Tops > Knits"
    assert idx.search("pockets tore seams", 1)[0].review_id == "V1"
    reloaded = HybridIndex.load(tmp_path / "idx", FakeEmbedder())
    assert _ids(reloaded) == after and reloaded.search("zipper broke", 1)[0].review_id == "V9"


def test_upsert_product_change_updates_its_reviews(tmp_path: Path) -> None:
    idx = HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), FakeEmbedder())
    p = products_frame().iloc[[1]].assign(category="Sale > Coats", title="Wool coat (sale)")
    idx.upsert(products=p)
    hits = idx.search("warm coat", 10, kind="review", filters=None)
    v3 = next(h for h in hits if h.review_id == "V3")
    assert v3.category == "Sale > Coats" and v3.title == "Wool coat (sale)"
    new_product = pd.DataFrame([{"product_id": "P9", "title": "Rain jacket", "description": "Waterproof shell",
                                 "category": "General > Outerwear", "attributes": {}, "price": 80.0,
                                 "launch_date": pd.NaT}])
    idx.upsert(products=new_product)
    assert idx.search("waterproof rain jacket", 1, kind="product")[0].product_id == "P9"
    assert idx.stats()["n_products"] == 6


def test_delete_products_and_reviews(tmp_path: Path) -> None:
    idx = HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), FakeEmbedder())
    out = idx.delete(product_ids=["P2"], review_ids=["V8"])
    assert out == {"chunks": 4, "products": 1, "reviews": 3}
    assert not [h for h in idx.search("warm wool coat buttons", 20) if h.product_id == "P2"]
    assert not [h for h in idx.search("mug", 20) if h.review_id == "V8"]
    again = HybridIndex.load(tmp_path / "idx", FakeEmbedder())
    assert again.stats()["n_chunks"] == 9 and again.stats()["faiss_ntotal"] == 9
    assert idx.delete(review_ids=["does-not-exist"]) == {"chunks": 0, "products": 0, "reviews": 0}


def test_hnsw_delete_uses_tombstones_then_compacts(tmp_path: Path) -> None:
    idx = HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), FakeEmbedder(), "hnsw")
    assert idx.stats()["index_type"] == "hnsw"
    idx.delete(review_ids=["V4"])
    assert idx.stats()["n_tombstones"] == 1 and idx.stats()["faiss_ntotal"] == 13
    assert all(h.review_id != "V4" for h in idx.search("buttons fell off", 12, mode="dense"))
    assert len(idx.search("buttons fell off", 12, mode="dense")) == 12
    idx.delete(product_ids=["P1", "P2"])  # > 20% tombstones -> graph rebuilt from live vectors
    assert idx.stats()["n_tombstones"] == 0 and idx.stats()["faiss_ntotal"] == idx.stats()["n_chunks"] == 7
    assert HybridIndex.load(tmp_path / "idx", FakeEmbedder()).search("silk", 1)[0].product_id == "P4"


def test_failed_build_leaves_previous_index_usable(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    HybridIndex.build(path, products_frame(), reviews_frame(), FakeEmbedder())
    live = store.current_version(path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        HybridIndex.build(path, products_frame().iloc[:1], reviews_frame().iloc[:1], FailingEmbedder(fail_after=0),
                          reuse=False)
    assert store.current_version(path) == live
    idx = HybridIndex.load(path, FakeEmbedder())
    assert idx.stats()["n_chunks"] == 13 and idx.search("buttons fell off", 1)[0].review_id == "V4"


def test_crash_while_writing_files_leaves_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "idx"
    HybridIndex.build(path, products_frame(), reviews_frame(), FakeEmbedder())
    live = store.current_version(path)

    def boom(folder: Path, meta: pd.DataFrame) -> None:
        (folder / store.CHUNKS).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_chunks", boom)
    with pytest.raises(OSError, match="disk full"):
        HybridIndex.build(path, products_frame().iloc[:2], None, FakeEmbedder())
    idx = HybridIndex.load(path, FakeEmbedder())
    with pytest.raises(OSError, match="disk full"):  # an incremental update fails the same way
        idx.delete(review_ids=["V1"])
    monkeypatch.undo()
    assert store.current_version(path) == live
    assert [p.name for p in path.iterdir() if p.name.startswith(".tmp-")] == []
    assert idx.stats()["n_chunks"] == 13  # in-memory state rolled back to the live version
    assert HybridIndex.load(path, FakeEmbedder()).stats()["n_chunks"] == 13


def test_failed_upsert_embedding_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    HybridIndex.build(path, products_frame(), reviews_frame(), FakeEmbedder())
    idx = HybridIndex.load(path, FailingEmbedder(fail_after=0, name="fake-bow-256"))
    with pytest.raises(RuntimeError):
        idx.upsert(reviews=reviews_frame().iloc[[0]].assign(text="brand new words"))
    assert idx.stats()["n_chunks"] == 13 and idx.version == store.current_version(path).name  # type: ignore[union-attr]


def test_model_mismatch_is_refused(tmp_path: Path) -> None:
    HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), FakeEmbedder())
    with pytest.raises(IndexMismatchError, match="ASSISTANT_EMBEDDING_MODEL=fake-bow-256"):
        HybridIndex.load(tmp_path / "idx", FakeEmbedder(name="other-model"))
    with pytest.raises(IndexMismatchError, match="rebuild|Rebuild"):
        HybridIndex.load(tmp_path / "idx", FakeEmbedder(dim=32))


def test_open_index_reloads_after_another_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.index.embedder as embedder_mod
    from assistant.config import get_settings
    from assistant.index import open_index

    emb = FakeEmbedder()
    monkeypatch.setattr(embedder_mod, "get_embedder", lambda settings=None: emb)
    settings = get_settings()
    HybridIndex.build(settings.current_index(), products_frame(), reviews_frame(), emb)
    first = open_index(settings)
    assert open_index(settings) is first
    other = HybridIndex.load(settings.current_index(), emb)  # e.g. the CLI in another process
    other.delete(review_ids=["V1"])
    assert first.is_stale()
    second = open_index(settings)
    assert second is not first and second.stats()["n_reviews"] == 7


def test_ivfpq_falls_back_to_flat_when_small(tmp_path: Path) -> None:
    idx = HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), FakeEmbedder(), "ivfpq")
    assert idx.stats()["index_type"] == "flat"


def test_ivfpq_on_a_larger_store(tmp_path: Path) -> None:
    from assistant.index import vectors

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = vectors.create("ivfpq", 16, x)
    vectors.add(index, x, np.arange(20_000, dtype=np.int64) + 7)
    ids, _ = vectors.search(index, "ivfpq", x[5], 5, allowed=np.array([12, 13, 14, 99], dtype=np.int64))
    assert set(ids.tolist()) <= {12, 13, 14, 99} and 12 in ids.tolist()
    assert vectors.remove(index, np.array([12], dtype=np.int64)) == 1


def test_empty_index_then_upsert(tmp_path: Path) -> None:
    idx = HybridIndex.build(tmp_path / "idx", None, None, FakeEmbedder())
    assert idx.stats()["n_chunks"] == 0 and idx.search("anything", 5) == []
    dup = pd.concat([reviews_frame(), reviews_frame().iloc[[0]].assign(text="Last copy wins.")], ignore_index=True)
    assert idx.upsert(reviews=dup)["added"] == 8
    again = HybridIndex.load(tmp_path / "idx", FakeEmbedder())
    assert again.search("buttons fell off", 1)[0].review_id == "V4"
    assert again.search("last copy wins", 1)[0].text == "Love it. Last copy wins."  # title + text


def test_rebuild_reuses_vectors_of_texts_the_live_index_holds(tmp_path: Path) -> None:
    """A rebuild embeds only new or changed texts (a full re-embed of the demo store took ~5 min, the
    rebuild with reuse ~16 s); the vectors kept are the stored ones, so search is unchanged."""
    path = tmp_path / "idx"
    first = HybridIndex.build(path, products_frame(), reviews_frame(), FakeEmbedder())
    n = len(first.meta)
    assert (first.manifest["embedded"], first.manifest["reused"]) == (n, 0)
    emb = FakeEmbedder()
    changed = reviews_frame().copy()
    changed.loc[0, "text"] = "Pockets tore at the seams."
    again = HybridIndex.build(path, products_frame(), changed, emb)
    assert emb.texts_encoded == 1 and (again.manifest["embedded"], again.manifest["reused"]) == (1, n - 1)
    assert again.search("pockets tore seams", 1)[0].review_id == "V1"
    same = {c: v for c, v in zip(first.meta["chunk_id"], first.meta["text"], strict=True) if c != "r:V1:0"}
    ids_first = dict(zip(first.meta["chunk_id"], first.meta["faiss_id"], strict=True))
    ids_again = dict(zip(again.meta["chunk_id"], again.meta["faiss_id"], strict=True))
    for chunk in same:
        assert np.allclose(first.faiss.reconstruct(int(ids_first[chunk])), again.faiss.reconstruct(int(ids_again[chunk])))

    full = FakeEmbedder()
    HybridIndex.build(path, products_frame(), changed, full, reuse=False)
    assert full.texts_encoded == n
    other = FakeEmbedder(name="another-model")  # vectors of another model are never mixed in
    HybridIndex.build(tmp_path / "idx2", products_frame(), changed, FakeEmbedder())
    HybridIndex.build(tmp_path / "idx2", products_frame(), changed, other)
    assert other.texts_encoded == n


def test_rebuild_over_a_damaged_index_embeds_everything(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    HybridIndex.build(path, products_frame(), reviews_frame(), FakeEmbedder())
    (store.current_version(path) / store.VECTORS).write_bytes(b"damaged")  # type: ignore[operator]
    emb = FakeEmbedder()
    rebuilt = HybridIndex.build(path, products_frame(), reviews_frame(), emb)
    assert emb.texts_encoded == len(rebuilt.meta) and rebuilt.search("linen dress", 1)[0].product_id == "P1"
