"""`assistant index build|add|delete|stats` and `assistant search --json` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.index.fakes import FakeEmbedder, products_frame, reviews_frame
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import assistant.index.embedder as embedder_mod
    from assistant.cli.main import app
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog

    emb = FakeEmbedder()
    monkeypatch.setattr(embedder_mod, "get_embedder", lambda settings=None: emb)
    catalog = Catalog.open(get_settings())
    catalog.upsert_products(products_frame())
    catalog.upsert_reviews(reviews_frame())
    catalog.close()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if "--json" in args else {"text": result.stdout}

    return run


def test_build_stats_search_json(cli) -> None:  # type: ignore[no-untyped-def]
    stats = cli("index", "build", "--json")
    assert stats["n_products"] == 5 and stats["n_reviews"] == 8 and stats["embedding_model"] == "fake-bow-256"
    assert "up to date with the catalog (5 products, 8 reviews)" in cli("index", "build")["text"]
    again = cli("index", "build", "--json")  # JSON either way
    assert again["rebuilt"] is False and again["n_products"] == 5 and stats["rebuilt"] is True
    assert cli("index", "stats", "--json")["n_chunks"] == 13
    out = cli("search", "runs small in the shoulders", "--k", "3", "--json")
    assert out["hits"][0]["review_id"] == "V2" and len(out["hits"]) == 3
    out = cli("search", "dress", "--kind", "review", "--min-rating", "4", "--category", "Dresses",
              "--from", "2024-01-01", "--to", "2024-12-31", "--mode", "dense", "--json")
    assert {h["review_id"] for h in out["hits"]} == {"V1", "V6", "V7"}
    out = cli("search", "coat", "--product", "P2", "--product", "P3", "--mode", "bm25", "--json")
    assert {h["product_id"] for h in out["hits"]} == {"P2"}
    table = cli("search", "warm wool coat", "--k", "2")["text"]
    assert "rank" in table and "P2" in table


def test_build_again_after_the_catalog_grew(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog

    cli("index", "build", "--json")
    catalog = Catalog.open(get_settings())
    catalog.upsert_products(products_frame().assign(product_id=lambda d: d["product_id"] + "X"))  # `ingest`
    catalog.close()
    text = cli("index", "build")["text"]  # as the README says after ingesting: builds, no --force needed
    assert "The index holds 5 products and 8 reviews, the catalog 10 and 8: building it again." in text
    assert cli("index", "stats", "--json")["n_products"] == 10
    forced = cli("index", "build", "--force", "--json")  # texts the index holds keep their vectors
    assert (forced["embedded"], forced["reused"]) == (0, forced["n_chunks"])
    assert cli("index", "build", "--reembed", "--json")["reused"] == 0  # --reembed rebuilds, no --force needed


def test_add_and_delete_update_catalog_and_index(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog

    cli("index", "build", "--json")
    path = tmp_path / "new_reviews.csv"
    path.write_text("id,product,stars,body,when\nV20,P3,1,The zipper broke on day one,2024-09-01\n")
    out = cli("index", "add", str(path), "--kind", "reviews", "--map", "id=review_id", "--map", "product=product_id",
              "--map", "stars=rating", "--map", "body=text", "--map", "when=date", "--json")
    assert out["loaded"] == 1 and out["index"]["added"] == 1 and out["unknown_product_ids"] == []
    hit = cli("search", "zipper broke", "--k", "1", "--json")["hits"][0]
    assert hit["review_id"] == "V20" and hit["rating"] == 1.0
    out = cli("index", "delete", "--review", "V20", "--product", "P2", "--json")
    assert out["catalog"] == {"products": 1, "reviews": 1} and out["index"]["chunks"] == 4
    assert all(h["product_id"] != "P2" for h in cli("search", "wool coat", "--json")["hits"])
    assert Catalog.open(get_settings()).counts()["reviews"] == 6
    odd = tmp_path / "odd_reviews.csv"
    odd.write_text("review_id,product_id,rating,text\nV21,ZZ9,9,Bad rating\nV22,ZZ9,4,Fine for an unknown product\n")
    from assistant.cli.main import app

    res = runner.invoke(app, ["index", "add", str(odd), "--kind", "reviews", "--skip-bad-rows"])
    assert res.exit_code == 0 and "rejected rows written to" in res.output and "odd_reviews.rejects.csv" in res.output
    assert "1 review(s) name products not in the catalog (ZZ9)" in res.output


def test_search_without_index_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli.main import app

    result = runner.invoke(app, ["search", "anything"])
    assert result.exit_code == 2 and "assistant index build" in result.output
    result = runner.invoke(app, ["search", "x", "--mode", "fuzzy"])
    assert result.exit_code == 2 and "--mode" in result.output


@pytest.mark.slow
def test_demo_setup_loads_store_and_builds_index(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.index.embedder as embedder_mod
    from assistant.cli.main import app

    monkeypatch.setattr(embedder_mod, "get_embedder", lambda settings=None: FakeEmbedder())
    result = runner.invoke(app, ["demo", "setup", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["catalog"]["products"] > 100 and out["catalog"]["reviews"] > 1000
    assert out["index"]["n_products"] == out["catalog"]["products"]
    assert out["index"]["n_reviews"] == out["catalog"]["reviews"]
    assert out["sentiment_model"]["trained"] and out["sentiment_model"]["features"] == "tfidf"
    assert out["sentiment_model"]["n_train"] == out["catalog"]["reviews"]  # every demo review is rated
    again = json.loads(runner.invoke(app, ["demo", "setup", "--json"]).stdout)  # idempotent, no rebuild
    assert again["demo_loaded"] == {} and again["index"] == out["index"]
    assert again["sentiment_model"] == {"trained": False, "features": "tfidf"}
    predicted = json.loads(runner.invoke(app, ["sentiment", "predict", "Runs small and the zip broke",
                                               "--json"]).stdout)
    assert predicted["source"].startswith("trained model (tfidf")
    assert predicted["predictions"][0]["label"] == "negative" and predicted["predictions"][0]["rating"] < 3
    hits = json.loads(runner.invoke(app, ["search", "dress runs small", "--kind", "review", "--json"]).stdout)
    assert len(hits["hits"]) == 10


def test_add_builds_the_index_when_none_exists(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.csv"
    path.write_text("product_id,title,description\nP7,Straw sun hat,Wide brim hat for the beach\n")
    out = cli("index", "add", str(path), "--kind", "products", "--json")
    assert out["index"]["added"] == 14  # catalog fixture (13 chunks) + the new product
    assert cli("search", "beach hat", "--kind", "product", "--json")["hits"][0]["product_id"] == "P7"


def test_search_refuses_arguments_that_can_only_find_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    from assistant.cli.main import app

    cli("index", "build", "--json")
    for args, says in ((["--k", "-3"], "--k must be between 1 and 1000"),
                       (["--min-rating", "4", "--max-rating", "2"], "swap them"),
                       (["--product", "NOPE"], "Unknown --product id(s): NOPE")):
        result = runner.invoke(app, ["search", "dress", *args])
        assert result.exit_code == 2 and says in result.output, result.output
