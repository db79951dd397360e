"""`assistant index build|add|delete|stats`, top-level `assistant search`, and `assistant demo setup`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from assistant.cli.common import console, err_console, friendly_errors, print_json, print_table
from assistant.config import get_settings
from assistant.errors import ConfigError

app = typer.Typer(help="Build and maintain the product/review search index.", no_args_is_help=True)

_TYPES = ("auto", "flat", "hnsw", "ivfpq")


@app.command()
def build(
    index_type: str = typer.Option("", "--type", help="auto|flat|hnsw|ivfpq (default: Settings.index_type)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the index holds every product and review."),
    reembed: bool = typer.Option(False, "--reembed", help="Embed every text again (by default texts the current "
                                 "index already holds keep their vectors)."),
    as_json: bool = typer.Option(False, "--json", help="Print stats as JSON."),
) -> None:
    """(Re)build the index of every product and review in the catalog atomically; texts the current index
    already holds keep their vectors, the rest are embedded. An index that already holds as many products and
    reviews as the catalog is kept (--force rebuilds it, e.g. after texts changed)."""
    from assistant.data.catalog import Catalog
    from assistant.index import build_from_catalog, open_index

    with friendly_errors(as_json):
        settings = get_settings()
        if index_type and index_type not in _TYPES:
            raise ConfigError(f"--type must be one of {', '.join(_TYPES)}; got {index_type!r}.")
        catalog = Catalog.open(settings)
        stale = index_staleness(settings, catalog)
        if stale is None and not (force or reembed):  # --reembed asks for a rebuild too
            stats = open_index(settings).stats()
            if not as_json:
                console.print(f"The index at {settings.current_index()} is up to date with the catalog "
                              f"({stats['n_products']} products, {stats['n_reviews']} reviews); --force rebuilds it "
                              "anyway (after changing texts), `assistant index add FILE` adds new rows.",
                              soft_wrap=True, markup=False)
            if as_json:
                print_json({**stats, "rebuilt": False})
            return
        if stale and not as_json:
            console.print(f"{stale}: building it again.", soft_wrap=True)
        stats = build_from_catalog(settings, catalog, index_type=index_type or None, show_progress=not as_json,
                                   reembed=reembed)
        _print_stats({**stats, "rebuilt": True} if as_json else stats, as_json)


def index_staleness(settings: Any, catalog: Any) -> str | None:
    """Why the index must be (re)built for ``catalog`` ("" when there is none), or None when it holds as many
    products and reviews as the catalog."""
    from assistant.index.store import indexed_counts

    have = indexed_counts(settings.current_index())
    if have is None:
        return ""
    want = {k: v for k, v in catalog.counts().items() if k in have}
    if have == want:
        return None
    return (f"The index holds {have['products']} products and {have['reviews']} reviews, the catalog "
            f"{want['products']} and {want['reviews']}")


@app.command()
def add(
    file: Path = typer.Argument(..., help="CSV / TSV / Parquet / JSONL (.gz ok) of products or reviews."),
    kind: str = typer.Option(..., "--kind", help="products|reviews"),
    column_map: list[str] = typer.Option([], "--map", help="their_column=our_column (repeatable)."),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Load good rows, report bad ones."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate FILE, upsert it into the catalog and into the index (no full rebuild)."""
    from assistant.data.catalog import Catalog
    from assistant.data.loaders import load_table
    from assistant.data.schema import ColumnMap
    from assistant.index import build_from_catalog, open_index
    from assistant.index.store import current_version

    with friendly_errors(as_json):
        if kind not in ("products", "reviews"):
            raise ConfigError(f"--kind must be 'products' or 'reviews'; got {kind!r}.")
        settings = get_settings()
        result = load_table(file, kind, column_map=ColumnMap.from_pairs(column_map),  # type: ignore[arg-type]
                            skip_bad_rows=skip_bad_rows)
        catalog = Catalog.open(settings)
        stored = catalog.upsert(kind, result)
        if current_version(settings.current_index()) is None:  # first data: build instead of update
            built = build_from_catalog(settings, catalog, show_progress=not as_json)
            changes = {"added": built["n_chunks"], "unchanged": 0, "removed": 0}
        else:
            changes = open_index(settings).upsert(products=result.frame if kind == "products" else None,
                                                  reviews=result.frame if kind == "reviews" else None,
                                                  show_progress=not as_json)
        unknown = sorted(catalog.unknown_product_ids(result.frame["product_id"])) if kind == "reviews" else []
        out = {"file": str(file), "kind": kind, "loaded": result.loaded, "rejected": result.rejected,
               "rejects_path": str(result.rejects_path) if result.rejects_path else None,
               "unknown_product_ids": unknown, "catalog_upserted": stored, "index": changes}
        if as_json:
            print_json(out)
        else:
            console.print(f"{kind}: {result.loaded} loaded, {result.rejected} rejected; catalog upserted "
                          f"{stored}; index chunks added {changes['added']}, unchanged {changes['unchanged']}, "
                          f"removed {changes['removed']}.", soft_wrap=True)
            if result.rejects_path:
                console.print(f"rejected rows written to {result.rejects_path}", markup=False, soft_wrap=True)
            if unknown:
                err_console.print(f"[yellow]warning:[/] {len(unknown)} review(s) name products not in the catalog "
                                  f"({', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}); ingest those "
                                  "products so their reviews can be filtered and summarised by product.",
                                  soft_wrap=True)


@app.command()
def delete(
    product: list[str] = typer.Option([], "--product", help="Product id (repeatable); its reviews go too."),
    review: list[str] = typer.Option([], "--review", help="Review id (repeatable)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Delete products and/or reviews from the catalog and the index."""
    from assistant.data.catalog import Catalog
    from assistant.index import open_index

    with friendly_errors(as_json):
        if not product and not review:
            raise ConfigError("Name at least one --product ID or --review ID to delete.")
        settings = get_settings()
        catalog = Catalog.open(settings)
        cat = {"products": catalog.delete_products(list(product)) if product else 0,
               "reviews": catalog.delete_reviews(list(review)) if review else 0}
        changes = open_index(settings).delete(product_ids=product, review_ids=review)
        out = {"catalog": cat, "index": changes}
        if as_json:
            print_json(out)
        else:
            console.print(f"Deleted from catalog: {cat}; from index: {changes}.")


@app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show what the index holds (counts, model, index type, size)."""
    from assistant.index import open_index

    with friendly_errors(as_json):
        _print_stats(open_index(get_settings()).stats(), as_json)


def _print_stats(stats: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(stats)
        return
    rows = [{"field": k, "value": v} for k, v in stats.items()]
    print_table(rows, ["field", "value"], title="Index")


def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(10, "--k", help="Number of results."),
    kind: str = typer.Option("", "--kind", help="product|review (default: both)."),
    product: list[str] = typer.Option([], "--product", help="Only these product ids (repeatable)."),
    category: str = typer.Option("", "--category", help="Category path prefix, e.g. 'Dresses'."),
    min_rating: float = typer.Option(None, "--min-rating"),
    max_rating: float = typer.Option(None, "--max-rating"),
    date_from: str = typer.Option("", "--from", help="ISO date, inclusive."),
    date_to: str = typer.Option("", "--to", help="ISO date, inclusive."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid|dense|bm25"),
    as_json: bool = typer.Option(False, "--json", help="Print hits as JSON."),
) -> None:
    """Search products and review passages (hybrid BM25 + embeddings)."""
    from assistant.index import open_index
    from assistant.index.types import Filters

    with friendly_errors(as_json):
        if kind not in ("", "product", "review"):
            raise ConfigError(f"--kind must be 'product' or 'review'; got {kind!r}.")
        if mode not in ("hybrid", "dense", "bm25"):
            raise ConfigError(f"--mode must be hybrid, dense or bm25; got {mode!r}.")
        if not 1 <= k <= 1000:
            raise ConfigError(f"--k must be between 1 and 1000; got {k}.")
        if min_rating is not None and max_rating is not None and min_rating > max_rating:
            raise ConfigError(f"--min-rating {min_rating:g} is above --max-rating {max_rating:g}: swap them.")
        if product:
            from assistant.data.catalog import Catalog

            with Catalog.open(get_settings()) as catalog:
                unknown = catalog.unknown_product_ids(product)
            if unknown:
                raise ConfigError(f"Unknown --product id(s): {', '.join(unknown)}. Product ids are matched exactly; "
                                  "`assistant search QUERY --kind product` finds products by name.")
        filters = Filters(product_ids=tuple(product) or None, category=category or None, min_rating=min_rating,
                          max_rating=max_rating, date_from=date_from or None, date_to=date_to or None)
        hits = open_index(get_settings()).search(query, k, kind=kind or None, filters=filters,  # type: ignore[arg-type]
                                                 mode=mode)  # type: ignore[arg-type]
        if as_json:
            print_json({"query": query, "mode": mode, "hits": [h.as_dict() for h in hits]})
            return
        rows = [{"rank": i, "score": f"{h.score:.4f}", "kind": h.kind, "id": h.cite_id,
                 "product": f"{h.product_id} {h.title or ''}".strip()[:40],
                 "rating": "" if h.rating is None else f"{h.rating:g}", "text": _snippet(h.text)}
                for i, h in enumerate(hits, start=1)]
        print_table(rows, ["rank", "score", "kind", "id", "product", "rating", "text"],
                    title=f"{len(hits)} hits for {query!r} ({mode})")


def _snippet(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def demo_setup(
    index_type: str = typer.Option("", "--type", help="auto|flat|hnsw|ivfpq"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load the bundled demo store into the catalog if it is empty, build the index if missing and train a
    (fast, TF-IDF) sentiment model on the store's reviews if none is saved."""
    from assistant.data.catalog import Catalog
    from assistant.data.demo import load_demo
    from assistant.index import build_from_catalog, open_index
    from assistant.sentiment.service import ensure_store_model

    with friendly_errors(as_json):
        settings = get_settings()
        catalog = Catalog.open(settings)
        loaded = load_demo(catalog) if not any(catalog.counts().values()) else {}
        stale = index_staleness(settings, catalog)
        if stale is not None:  # none yet, or it does not hold the catalog (an empty index built before, say)
            if stale and not as_json:
                console.print(f"{stale}: building it again.", soft_wrap=True)
            index_stats = build_from_catalog(settings, catalog, index_type=index_type or None,
                                             show_progress=not as_json)
        else:
            index_stats = open_index(settings).stats()
        sentiment = ensure_store_model(catalog, settings, log=None if as_json else console.print)
        out = {"catalog": catalog.counts(), "demo_loaded": loaded,
               "index": {k: index_stats[k] for k in ("path", "index_type", "n_products", "n_reviews", "n_chunks")},
               "sentiment_model": sentiment}
        if as_json:
            print_json(out)
        else:
            console.print(f"Catalog: {out['catalog']}  (loaded now: {loaded or 'nothing, store not empty'})")
            console.print(f"Index: {out['index']}")
            console.print(f"Sentiment model: {sentiment}" + ("  (`assistant sentiment train` trains the more "
                                                            "accurate default stack)" if sentiment["trained"] else ""))


def register(root: typer.Typer) -> None:
    """Add `assistant search` and `assistant demo setup` (to the data area's demo group)."""
    root.command("search")(search)
    try:
        from assistant.cli.data import demo_app  # type: ignore[attr-defined]
    except ImportError:  # data CLI not present: no demo group to extend
        return
    demo_app.command("setup")(demo_setup)
