"""`assistant forecast demand|new-product`: demand forecasts with intervals for existing series, and
launch-curve forecasts for products without history. Commands only parse arguments and call
``assistant.forecast``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from assistant.cli.common import console, friendly_errors, print_json, print_table

app = typer.Typer(help="Demand forecasts (statsforecast) and new-product launch forecasts.", no_args_is_help=True)


class Level(StrEnum):
    series = "series"
    category = "category"
    total = "total"


class Short(StrEnum):
    error = "error"
    naive = "naive"
    drop = "drop"


def _load_sales(path: Path, sum_duplicates: bool, column_map: list[str] | None = None,
                skip_bad_rows: bool = False, map_flag: str = "--map") -> tuple[Any, list[str]]:
    """The data layer's validated loader (file/line/column errors; ``--map`` and ``--skip-bad-rows`` as in
    ``assistant ingest``) and what to tell the user about the load (rows left out, rejects file, encoding);
    the unvalidated rows (columns renamed) when duplicates are to be summed (the loader rejects duplicate
    (unique_id, ds) rows): the forecaster validates those itself."""
    from assistant.data.loaders import load_table, read_raw
    from assistant.data.schema import ColumnMap

    if not path.is_file():
        from assistant.errors import DataValidationError

        raise DataValidationError(f"Sales file {path} does not exist.")
    cmap = ColumnMap.from_pairs(column_map, map_flag)
    if sum_duplicates:
        raw = read_raw(path)
        return raw.frame.rename(columns=cmap.as_dict()), list(raw.warnings)
    res = load_table(path, "sales", column_map=cmap, skip_bad_rows=skip_bad_rows)
    notes = list(res.warnings)
    if res.rejected:
        notes.insert(0, f"loaded {res.loaded} rows of {path}; left out {res.rejected} bad rows (written to "
                        f"{res.rejects_path}): their periods count as missing")
    return res.frame, notes


@app.command("demand")
def demand(
    sales: Path = typer.Option(..., "--sales", help="Sales file with unique_id, ds, y (CSV/Parquet/JSONL, .gz ok)."),
    h: int = typer.Option(12, "--h", help="Horizon: number of periods to forecast."),
    level: list[int] = typer.Option([80, 95], "--level", help="Prediction-interval level in % (repeatable)."),
    freq: str | None = typer.Option(None, "--freq", help="Pandas frequency (W-MON, MS, D); inferred if omitted."),
    models: list[str] = typer.Option([], "--model", help="Restrict to these models (repeatable), e.g. AutoETS."),
    select_by: str = typer.Option("group", "--select-by", help="Pick the model by CV per 'group' (smooth / "
                                  "intermittent series) or per 'series'."),
    mode: str = typer.Option("fast", "--mode", help="fast (ETS/SeasonalNaive/Naive/ADIDA) or full (+ARIMA, Theta)."),
    by: Level = typer.Option(Level.series, "--by", help="Forecast per series, per category or the total."),
    products: Path | None = typer.Option(None, "--products", help="Products file (product_id, category) for --by category."),
    products_map: list[str] = typer.Option([], "--products-map", help="their_column=our_column for the --products "
                                           "file (repeatable), e.g. 'Department=category'."),
    fill_gaps: bool = typer.Option(False, "--fill-gaps", help="Treat missing periods as zero sales."),
    sum_duplicates: bool = typer.Option(False, "--sum-duplicates", help="Add up rows with the same series and date."),
    column_map: list[str] = typer.Option([], "--map", help="their_column=our_column (repeatable), e.g. 'week=ds'."),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Leave out bad rows (written to a rejects "
                                       "file) instead of stopping."),
    clip_negative: bool = typer.Option(False, "--clip-negative", help="Set negative values (returns) to 0."),
    short: Short = typer.Option(Short.error, "--short", help="Series too short for the models: error, naive or drop."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="Worker processes for statsforecast."),
    out: Path | None = typer.Option(None, "--out", help="Write the forecast table (CSV) here."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG plot of history + forecast here."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Forecast every series in the sales file H periods ahead, choosing the model per series by
    rolling-origin cross-validation, with prediction intervals."""
    from assistant.forecast import forecast_demand, plot_forecast

    with friendly_errors(as_json):
        df, load_notes = _load_sales(sales, sum_duplicates, column_map, skip_bad_rows)
        hierarchy = None
        if by is Level.category:
            if products is None:
                from assistant.errors import DataValidationError

                raise DataValidationError("--by category needs --products FILE with product_id and category columns.")
            from assistant.data.loaders import read_categories
            from assistant.data.schema import ColumnMap

            hierarchy = read_categories(products, column_map=ColumnMap.from_pairs(products_map))
        res = forecast_demand(
            df, h, level=level, freq=freq, models=models or None, mode=mode,  # type: ignore[arg-type]
            fill_gaps="zero" if fill_gaps else "error", duplicates="sum" if sum_duplicates else "error",
            clip_negative=clip_negative, on_short=short.value,
            select_by=select_by, agg_level=by.value, hierarchy=hierarchy,  # type: ignore[arg-type]
            n_jobs=n_jobs, source=str(sales))
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(out.suffix + ".tmp")
            res.frame.to_csv(tmp, index=False, date_format="%Y-%m-%d")
            tmp.replace(out)
        if plot:
            plot.parent.mkdir(parents=True, exist_ok=True)
            plot.write_bytes(plot_forecast(res.history, res.frame))
        summary = res.to_dict(max_series=10)
        summary["notes"] = [*load_notes, *summary["notes"]]
        if as_json:
            print_json(summary)
            return
        lv = res.levels[0]
        span = f"total {lv}%"
        rows = [{"series": s["unique_id"], "model": s["model"], "cv": s["cv_score"], "total": s["total"],
                 span: f"{s[f'total_lo_{lv}']} – {s[f'total_hi_{lv}']}", "first": s["yhat"][0]}
                for s in summary["series"]]
        print_table(rows, ["series", "model", "cv", "total", span, "first"],
                    title=f"{summary['n_series']} series, h={h} ({res.freq}); CV {res.metric} per series")
        console.print(f"models used: {summary['models_used']}")
        for note in summary["notes"]:
            console.print(f"note: {note}")
        if out:
            console.print(f"forecast table written to {out}")
        if plot:
            console.print(f"plot written to {plot}")


@app.command("new-product")
def new_product(
    title: str = typer.Option("", "--title", help="Product name / title."),
    description: str = typer.Option("", "--description", help="Product description."),
    category: str = typer.Option("", "--category", help="Category (e.g. 'long sleeve' or 'Home > Candles')."),
    attr: list[str] = typer.Option([], "--attr", help="Attribute key=value (repeatable), e.g. color=red."),
    price: float | None = typer.Option(None, "--price", min=0, help="Price."),
    launch: str | None = typer.Option(None, "--launch", help="Launch date (YYYY-MM-DD)."),
    weeks: int = typer.Option(12, "--weeks", min=1, max=52, help="Weeks after launch to forecast."),
    history_products: Path | None = typer.Option(None, "--history-products", exists=True, dir_okay=False,
                                                 help="Past products file (product_id, title, category, ...)."),
    history_sales: Path | None = typer.Option(None, "--history-sales", exists=True, dir_okay=False,
                                              help="Weekly sales of the past products (unique_id, ds, y)."),
    products_map: list[str] = typer.Option([], "--products-map", help="their_column=our_column for the "
                                           "--history-products file (repeatable), e.g. 'SKU=product_id'."),
    sales_map: list[str] = typer.Option([], "--sales-map", help="their_column=our_column for the --history-sales "
                                        "file (repeatable), e.g. 'week=ds'."),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="Leave out bad rows of the history files "
                                       "(written to rejects files) instead of stopping."),
    visuelle: Path | None = typer.Option(None, "--visuelle", exists=True, dir_okay=False,
                                         help="Learn from a VISUELLE-format csv instead."),
    trends: Path | None = typer.Option(None, "--trends", exists=True, dir_okay=False,
                                       help="Google-Trends-like csv (date + one column per term)."),
    model_path: Path | None = typer.Option(None, "--model", help="Load a saved model (or save to it with --save)."),
    save: bool = typer.Option(False, "--save", help="Save the fitted model to --model."),
    no_text: bool = typer.Option(False, "--no-text", help="Do not use text embeddings for analogues."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of the forecast curve here."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Forecast the first weeks of sales of a product with no history from its attributes, text, launch
    timing and the launch curves of similar past products."""
    import pandas as pd

    from assistant.errors import ConfigError
    from assistant.forecast.launch import NewProductHistory, forecast_new_product
    from assistant.forecast.newproduct import NewProductConfig, NewProductModel
    from assistant.forecast.plot import plot_curve

    with friendly_errors(as_json):
        product: dict[str, Any] = {"title": title, "description": description, "category": category}
        for pair in attr:
            if "=" not in pair:
                raise ConfigError(f"--attr {pair!r} must look like key=value (e.g. color=red).")
            k, v = pair.split("=", 1)
            product[k.strip()] = v.strip()
        if price is not None:
            product["price"] = price
        if launch:
            from assistant.data.dates import ambiguous_date

            if ambiguous_date(launch):
                raise ConfigError(f"--launch {launch} could be day/month or month/day; write it as YYYY-MM-DD.")
            product["launch_date"] = launch
        cfg = NewProductConfig(use_text=not no_text)
        trend_df = pd.read_csv(trends) if trends else None
        model: NewProductModel
        load_notes: list[str] = []
        if model_path and model_path.is_file() and not save:
            model = NewProductModel.load(model_path)
        elif visuelle:
            from assistant.forecast.datasets import VISUELLE_WEEKS, load_visuelle

            vis = load_visuelle(visuelle)
            prods = vis.rename(columns={"external_code": "product_id", "release_date": "launch_date"})
            model = NewProductModel(cfg, attributes=["category", "color", "fabric", "extra"]).fit(
                prods, vis[VISUELLE_WEEKS].to_numpy(), trends=trend_df)
        elif history_products and history_sales:
            from assistant.data.loaders import load_table
            from assistant.data.schema import ColumnMap

            # validated like `assistant ingest` (file, line and column of a bad value)
            past = load_table(history_products, "products", skip_bad_rows=skip_bad_rows,
                              column_map=ColumnMap.from_pairs(products_map, "--products-map"))
            sold, load_notes = _load_sales(history_sales, False, sales_map, skip_bad_rows, "--sales-map")
            if past.rejected:
                load_notes.insert(0, f"loaded {past.loaded} products of {history_products}; left out "
                                     f"{past.rejected} bad rows (written to {past.rejects_path})")
            hist = NewProductHistory.from_sales(past.frame, sold, horizon=weeks, config=cfg, trends=trend_df)
            model = hist.model()
        else:
            raise ConfigError("Give past launches to learn from: --history-products + --history-sales, "
                              "--visuelle FILE, or a saved --model FILE.")
        if save:
            if not model_path:
                raise ConfigError("--save needs --model PATH.")
            model.save(model_path)
        res = forecast_new_product(product, model, horizon=min(weeks, model.curves_.shape[1]))
        if load_notes:
            res["notes"] = [*load_notes, *res.get("notes", [])]
        if plot:
            plot.parent.mkdir(parents=True, exist_ok=True)
            plot.write_bytes(plot_curve(res["weeks"], res["yhat"], res["lo"], res["hi"],
                                        title=f"{title or category}: first {len(res['weeks'])} weeks"))
        if as_json:
            print_json(res)
            return
        rows = [{"week": w, "yhat": y, "lo": lo, "hi": hi}
                for w, y, lo, hi in zip(res["weeks"], res["yhat"], res["lo"], res["hi"], strict=True)]
        print_table(rows, ["week", "yhat", "lo", "hi"], title=res["model"])
        console.print(f"total {res['total']} ({res['level']}% interval {res['total_lo']} – {res['total_hi']})")
        console.print("analogues: " + ", ".join(f"{a['product_id']} ({a['similarity']})" for a in res["analogues"]))
        for note in res.get("notes", []):
            console.print(f"note: {note}")
