"""`assistant ingest products|reviews|sales FILE` and `assistant demo load`.

Commands only parse arguments and call into ``assistant.data``; errors become a one-paragraph
message and exit code 2 (``friendly_errors``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from assistant.cli.common import console, friendly_errors, print_json

demo_app = typer.Typer(help="The bundled demo store (clothing reviews + gift-shop sales).", no_args_is_help=True)


class TableKind(StrEnum):
    products = "products"
    reviews = "reviews"
    sales = "sales"


def ingest(
    kind: TableKind = typer.Argument(..., help="What FILE holds: products, reviews or sales."),
    file: Path = typer.Argument(..., help="CSV / TSV / Parquet / JSONL file (.gz ok)."),
    column_map: list[str] = typer.Option(
        [], "--map", "-m", help="Map your column onto ours: 'their_column=our_column' (repeatable); "
        "'Colour=attr.color' adds an attribute."),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Load the good rows; write bad ones to a rejects CSV with reasons."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Where to write rejected rows (default {store}/rejects/<file>.rejects.csv)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Validate FILE and load it into the catalog (upsert by id). Bad rows are reported with file, line,
    column and what was expected; nothing is dropped without being counted."""
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog
    from assistant.data.loaders import load_table
    from assistant.data.schema import ColumnMap

    with friendly_errors(as_json):
        cmap = ColumnMap.from_pairs(column_map)
        result = load_table(file, kind.value, column_map=cmap, skip_bad_rows=skip_bad_rows,
                            rejects_path=rejects)
        settings = get_settings()
        with Catalog.open(settings) as catalog:
            written = catalog.upsert(kind.value, result)
            unknown = sorted(catalog.unknown_product_ids(result.frame["product_id"])) \
                if kind is TableKind.reviews else []
            totals = catalog.counts()
            where = str(catalog.path)
    out: dict[str, Any] = result.summary()
    out.update({"written": written, "catalog": where, "catalog_counts": totals,
                "unknown_product_ids": unknown[:50], "n_unknown_product_ids": len(unknown)})
    if as_json:
        print_json(out)
        return
    _print_summary(out, kind.value)


def _print_summary(out: dict[str, Any], kind: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"ingest {kind}: {out['source']}"), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("loaded", f"[green]{out['loaded']}[/] rows (written to the catalog: {out['written']})")
    rejected = out["rejected"]
    table.add_row("rejected", f"[red]{rejected}[/] rows" if rejected else "0 rows")
    enc = out["encoding"]
    table.add_row("encoding", enc if enc == "utf-8" else f"[yellow]{enc} (fallback: file is not valid UTF-8)[/]")
    if out["rejects_path"]:
        table.add_row("rejects file", escape(out["rejects_path"]))
    if out["ignored_columns"]:
        table.add_row("ignored columns", escape(", ".join(out["ignored_columns"])) + "  (use --map to load them)")
    if out["n_unknown_product_ids"]:
        ids = escape(", ".join(out["unknown_product_ids"][:10]))
        table.add_row("unknown products", f"[yellow]{out['n_unknown_product_ids']}[/] product ids not in the "
                      f"catalog: {ids} (ingest their products too)")
    counts = out["catalog_counts"]
    table.add_row("catalog", f"{escape(out['catalog'])}  ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    console.print(table)
    for note in out["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(note)}")
    for prob in out["problems"][:10]:
        console.print(f"  [red]-[/] {escape(_problem_line(prob))}")
    if out["n_problems"] > 10:
        console.print(f"  … and {out['n_problems'] - 10} more (see the rejects file)")
    if kind != "sales" and out["written"]:
        console.print("Search index not updated: run `assistant index build` (or `assistant index add FILE "
                      f"--kind {kind}`) to make these rows searchable.")


def _problem_line(p: dict[str, Any]) -> str:
    col = f", column {p['column']!r}" if p["column"] else ""
    got = f": got {p['value']!r}" if p["value"] is not None else ""
    return f"{p['file']}, line {p['line']}{col}{got}; expected {p['expected']}"


@demo_app.command("load")
def demo_load(as_json: bool = typer.Option(False, "--json", help="Print counts as JSON.")) -> None:
    """Load the bundled demo store into the catalog (upsert: running it twice is harmless)."""
    from assistant.config import get_settings
    from assistant.data.catalog import Catalog
    from assistant.data.demo import demo_dir, load_demo

    with friendly_errors(as_json), Catalog.open(get_settings()) as catalog:
        written = load_demo(catalog)
        totals = catalog.counts()
        where = str(catalog.path)
    out = {"written": written, "catalog": where, "catalog_counts": totals,
           "attribution": str(demo_dir() / "ATTRIBUTION.md")}
    if as_json:
        print_json(out)
        return
    console.print(f"Demo store loaded into {where}: " + ", ".join(f"{k} {v}" for k, v in written.items()))
    console.print(f"Sources and licences: {out['attribution']}")


def register(app: typer.Typer) -> None:
    """Add `assistant ingest` and the `assistant demo` group (other areas may add commands to demo_app)."""
    app.command("ingest")(ingest)
    app.add_typer(demo_app, name="demo")
