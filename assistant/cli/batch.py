"""`assistant copy batch catalog.csv --out drafts.jsonl`: copy for every product of a catalog file, with a
progress bar, resumable output (one JSON line per product, flushed as it is written), per-item failures
recorded, and a summary at the end. Attached to the ``assistant copy`` group of assistant/cli/gen.py."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from assistant.cli.common import console, err_console, friendly_errors, print_json, print_table


def batch_cmd(
    catalog: Path = typer.Argument(..., exists=True, dir_okay=False, help="Products file (CSV/TSV/JSONL/Parquet)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL; products already in it are skipped."),
    tone: str = typer.Option("friendly", help="Tone of voice, e.g. friendly, premium, playful, technical."),
    lang: str = typer.Option("English", "--lang", help="Language to write in."),
    variants: int = typer.Option(1, min=1, max=5, help="Variants per product."),
    length: int = typer.Option(80, min=10, max=600, help="Target description length (words)."),
    concurrency: int = typer.Option(4, min=1, max=64,
                                    help="Parallel requests (HTTP backend; in-process models run one at a time)."),
    model: str | None = typer.Option(None, help="Model key (default: the configured one)."),
    mapping: list[str] = typer.Option([], "--map", help="Column mapping their_column=our_column (repeatable)."),
    limit: int | None = typer.Option(None, min=1, help="Only the first N products."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (progress goes to stderr)."),
) -> None:
    """Draft copy for every product of a catalog file (resumable; safe to Ctrl-C and rerun). Rows of the file that
    are not valid products are skipped, counted as 'rejected' and written to a rejects file (path printed)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from assistant.batch import BatchProgress, done_ids, run_batch
    from assistant.config import get_settings
    from assistant.service import MerchAssistant

    with friendly_errors(as_json):
        settings = get_settings()
        if model:
            settings = settings.model_copy(update={"llm_model": model})
        svc = MerchAssistant(settings)
        products, problems = svc.read_products(catalog, column_map=mapping)
        if limit:
            products = products[:limit]
        for p in problems[:10]:
            err_console.print(f"[yellow]skipped row[/] {p['file']}:{p['line']} {p['column']}: expected {p['expected']}")
        if len(problems) > 10:
            err_console.print(f"[yellow]… {len(problems) - 10} more problems[/]")
        rejected = len({p["line"] for p in problems})
        rejects_path = problems[0]["rejects_path"] if problems else None
        if rejected:
            err_console.print(f"[yellow]{rejected} row(s) of {catalog} are not valid products and get no copy[/]; "
                              f"they are in {rejects_path}.", soft_wrap=True)
        show = err_console if as_json else console
        already = done_ids(out) & {str(p["product_id"]) for p in products}
        llm = svc.llm
        workers = concurrency if getattr(llm, "concurrent", False) else 1
        if workers != concurrency:
            show.print(f"[dim]{settings.llm_backend} runs in-process: one product at a time "
                          f"(--concurrency applies to the HTTP backend).[/]")
        show.print(f"{len(products)} products, {len(already)} already in {out}; model {getattr(llm, 'name', '')}")
        prog = BatchProgress()
        t0 = time.time()
        columns = [TextColumn("[bold]copy"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        interrupted = False
        with Progress(*columns, console=show) as bar:
            task = bar.add_task("copy", total=len(products) - len(already), stats="")

            def update(p: BatchProgress) -> None:
                bar.update(task, completed=p.done + p.failed,
                           stats=f"ok {p.done - p.flagged} · flagged {p.flagged} · failed {p.failed}")

            try:
                run_batch(products, svc.copy_fn(tone=tone, lang=lang, variants=variants, length=length), out,
                          concurrency=workers, on_progress=update, progress=prog)
            except KeyboardInterrupt:
                interrupted = True
        elapsed = time.time() - t0
        finished = prog.done + prog.failed
        if as_json:
            print_json({"out": str(out), "done": prog.done, "flagged": prog.flagged, "failed": prog.failed,
                        "skipped": prog.skipped, "rejected": rejected, "rejects_path": rejects_path,
                        "interrupted": interrupted, "seconds": round(elapsed, 1)})
            if interrupted:
                raise typer.Exit(code=130)
            return
        print_table([{"done": prog.done, "flagged": prog.flagged, "failed": prog.failed, "skipped": prog.skipped,
                      "seconds": f"{elapsed:.1f}", "per_min": f"{60 * finished / elapsed:.1f}" if elapsed > 0 else "-"}],
                    ["done", "flagged", "failed", "skipped", "seconds", "per_min"], title=f"copy batch → {out}")
        console.print(f"done {prog.done} (flagged by the spec guard {prog.flagged}), failed {prog.failed}, "
                      f"skipped {prog.skipped} already done; {60 * finished / max(elapsed, 1e-9):.1f} products/min")
        if interrupted:
            err_console.print("[yellow]Interrupted.[/] Finished products are saved; rerun the same command to resume.")
            raise typer.Exit(code=130)
        if prog.failed:
            err_console.print(f"[yellow]{prog.failed} product(s) failed[/] (see 'error' in {out}); "
                              "rerun to retry them.")


def register(app: typer.Typer) -> None:
    """Adds ``batch`` to the ``assistant copy`` group (registered after assistant.cli.gen)."""
    from assistant.cli.gen import copy_app

    copy_app.command("batch")(batch_cmd)
