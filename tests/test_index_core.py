"""Build / load / search round trip, search modes, each filter, and similar_products."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.index.fakes import FakeEmbedder, products_frame, reviews_frame

from assistant.errors import DataValidationError, IndexNotFoundError
from assistant.index import store
from assistant.index.chunking import passages, product_text, split_sentences
from assistant.index.filtering import category_matches
from assistant.index.hybrid import HybridIndex
from assistant.index.similar import similar_products
from assistant.index.types import Filters


@pytest.fixture()
def built(tmp_path: Path) -> HybridIndex:
    return HybridIndex.build(tmp_path / "idx", products_frame(), reviews_frame(), FakeEmbedder())


def test_round_trip_build_load_search(built: HybridIndex, tmp_path: Path) -> None:
    stats = built.stats()
    assert stats["n_products"] == 5 and stats["n_reviews"] == 8 and stats["index_type"] == "flat"
    assert (tmp_path / "idx" / "CURRENT").is_file()
    folder = store.current_version(tmp_path / "idx")
    assert folder is not None and {p.name for p in folder.iterdir()} >= {
        "manifest.json", "chunks.parquet", "vectors.faiss", "bm25"}
    loaded = HybridIndex.load(tmp_path / "idx", FakeEmbedder())
    q = "runs small in the shoulders"
    assert [h.chunk_id for h in loaded.search(q, 5)] == [h.chunk_id for h in built.search(q, 5)]
    top = loaded.search(q, 3)[0]
    assert top.review_id == "V2" and top.cite_id == "V2" and top.product_id == "P1"
    assert top.rating == 2.0 and top.date == "2024-05-10" and top.category == "General > Dresses > Midi"
    assert top.title == "Linen summer dress" and set(top.ranks) == {"bm25", "dense"}


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="assistant index build"):
        HybridIndex.load(tmp_path / "nothing", FakeEmbedder())


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_modes_find_the_matching_review(built: HybridIndex, mode: str) -> None:
    hits = built.search("buttons fell off", 3, mode=mode)  # type: ignore[arg-type]
    assert hits[0].review_id == "V4"
    assert list(hits[0].ranks) == (["bm25", "dense"] if mode == "hybrid" else [mode])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_bm25_mode_returns_only_lexical_matches(built: HybridIndex) -> None:
    assert built.search("zzzunknownword", 5, mode="bm25") == []
    assert len(built.search("zzzunknownword", 5, mode="dense")) == 5


def test_bad_mode_and_empty_query(built: HybridIndex) -> None:
    with pytest.raises(DataValidationError):
        built.search("x", mode="fuzzy")  # type: ignore[arg-type]
    assert built.search("   ", 5) == []


def test_kind_filter(built: HybridIndex) -> None:
    assert {h.kind for h in built.search("dress", 20, kind="product")} == {"product"}
    assert {h.kind for h in built.search("dress", 20, kind="review")} == {"review"}


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_product_filter(built: HybridIndex, mode: str) -> None:
    hits = built.search("warm wool", 10, filters=Filters(product_ids=("P2",)), mode=mode)  # type: ignore[arg-type]
    assert hits and {h.product_id for h in hits} == {"P2"}


def test_filters_still_return_k_results(built: HybridIndex) -> None:
    # the query matches mug/tea text best, but the filter allows only dress reviews: we still get k=4
    hits = built.search("ceramic tea mug", 4, kind="review", filters=Filters(category="Dresses"), mode="dense")
    assert len(hits) == 4 and {h.product_id for h in hits} == {"P1", "P4"}


def test_category_prefix_filter(built: HybridIndex) -> None:
    assert {h.product_id for h in built.search("dress", 20, filters=Filters(category="Dresses"))} == {"P1", "P4"}
    assert {h.product_id for h in built.search("x dress", 20, filters=Filters(category="general > dresses > maxi"))} == {"P4"}
    assert {h.product_id for h in built.search("mug", 20, filters=Filters(category="Home"))} == {"R1"}
    assert built.search("dress", 20, filters=Filters(category="Dress")) == []


def test_rating_filters(built: HybridIndex) -> None:
    hits = built.search("the", 20, kind="review", filters=Filters(min_rating=4), mode="dense")
    assert {h.review_id for h in hits} == {"V1", "V3", "V6", "V7", "V8"}
    hits = built.search("the", 20, filters=Filters(max_rating=2), mode="dense")
    assert {h.review_id for h in hits} == {"V2", "V4"}  # products have no rating: excluded
    hits = built.search("the", 20, filters=Filters(min_rating=3, max_rating=4), mode="dense")
    assert {h.review_id for h in hits} == {"V3", "V5", "V7"}


def test_date_filters(built: HybridIndex) -> None:
    hits = built.search("the", 20, kind="review", filters=Filters(date_from="2024-05-10", date_to="2024-07-04"),
                        mode="dense")
    assert {h.review_id for h in hits} == {"V2", "V5", "V6"}
    hits = built.search("dress", 20, kind="product", filters=Filters(date_to="2011-01-01"), mode="dense")
    assert [h.product_id for h in hits] == ["R1"]
    with pytest.raises(DataValidationError, match="YYYY-MM-DD"):
        built.search("x", filters=Filters(date_from="not a date"))


def test_similar_products_excludes_itself(built: HybridIndex) -> None:
    hits = similar_products(built, product_id="P1", k=3)
    assert hits and all(h.kind == "product" and h.product_id != "P1" for h in hits)
    assert hits[0].product_id == "P4"  # the other dress
    by_text = similar_products(built, text="silk dress for a wedding", k=2)
    assert by_text[0].product_id == "P4"
    assert [h.product_id for h in similar_products(built, product_id="P1", category="Home")] == ["R1"]
    with pytest.raises(DataValidationError):
        similar_products(built, product_id="NOPE")


def test_chunking_helpers() -> None:
    long = " ".join(f"Sentence number {i} is here." for i in range(40))
    parts = passages(long, max_words=30)
    assert len(parts) > 1 and all(len(p.split()) <= 30 for p in parts)
    assert split_sentences("It fits.The strap is weak! Ok") == ["It fits.", "The strap is weak!", "Ok"]
    assert passages("It fits. The strap is weak.", max_words=3) == ["It fits. The strap is weak."]  # short tail merged
    text = product_text({"title": "Mug", "category": "Home", "attributes": {"color": "red"}, "description": "Big"})
    assert text == "Mug. Category: Home. color: red. Big"
    assert category_matches("General > Dresses > Maxi", "dresses > maxi")
    assert not category_matches("General > Dresses", "Dress")


@pytest.mark.parametrize("fusion", ["rrf", "cc"])
def test_fusion_methods(built: HybridIndex, fusion: str) -> None:
    hits = built.search("runs small in the shoulders", 4, fusion=fusion)  # type: ignore[arg-type]
    assert hits[0].review_id == "V2" and len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(DataValidationError, match="fusion"):
        built.search("x", fusion="max")  # type: ignore[arg-type]
