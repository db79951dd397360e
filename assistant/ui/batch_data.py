"""Batch tab (upload a catalog CSV, generate copy for every product with progress, download results) and
Data tab (ingest products/reviews/sales with validation errors shown, rebuild the index)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.batch import BatchProgress, read_results, run_batch
from assistant.errors import AssistantError, DataValidationError
from assistant.service import MerchAssistant
from assistant.ui import render
from assistant.ui.copy import LANGS, TONES
from assistant.ui.events import after_failure

PROBLEM_COLUMNS = ["file", "line", "column", "value", "expected"]


def results_csv(jsonl: Path) -> Path:
    rows = []
    for pid, rec in read_results(jsonl).items():
        for i, v in enumerate(rec.get("variants") or [{}], 1):
            rows.append({"product_id": pid, "status": rec.get("status"), "error": rec.get("error", ""),
                         "variant": i, "title": v.get("title", ""), "description": v.get("description", ""),
                         "bullets": " | ".join(v.get("bullets") or []),
                         "flags": "; ".join(str(f.get("claim")) for f in v.get("flags") or [])})
    return render.tmp_file(".csv", pd.DataFrame(rows).to_csv(index=False), stem="batch")


def _progress_md(p: BatchProgress, state: str) -> str:
    todo = max(0, p.total - p.skipped)
    finished = p.done + p.failed
    rate = finished / max(1e-6, time.time() - p.started)
    eta = (todo - finished) / rate if rate > 0 and finished else float("nan")
    eta_s = f", ETA {eta:.0f} s" if eta == eta and state == "Running" else ""  # no ETA once stopped
    return (f"**{state}** — {finished}/{todo} products ({p.done} done, {p.flagged} flagged by the spec guard, "
            f"{p.failed} failed){eta_s}")


def build_batch_tab(svc: MerchAssistant) -> None:
    with gr.Tab("Batch", id="batch"):
        gr.Markdown("Upload a catalog file (CSV/JSONL/Parquet with `product_id`, `title`, optional `category`, "
                    "`description`, `attributes` as JSON) and draft copy for every product.")
        upload = gr.File(label="Catalog file", file_types=[".csv", ".jsonl", ".parquet", ".gz", ".tsv", ".xlsx"],
                         elem_id="batch-file")
        with gr.Row():
            tone = gr.Dropdown(TONES, value="friendly", label="Tone")
            lang = gr.Dropdown(LANGS, value="English", label="Language", allow_custom_value=True)
            length = gr.Slider(20, 300, value=60, step=10, label="Length (words)")
            variants = gr.Slider(1, 3, value=1, step=1, label="Variants")
            conc = gr.Slider(1, 8, value=1, step=1, label="Concurrency (HTTP backend)")
        with gr.Row():
            run = gr.Button("Run batch", variant="primary", elem_id="batch-run")
            stop = gr.Button("Stop", variant="stop")
        status = gr.Markdown(elem_id="batch-status")
        problems = gr.Dataframe(headers=PROBLEM_COLUMNS, label="Rows skipped (validation)", visible=False)
        files = gr.File(label="Results (JSONL + CSV)", file_count="multiple", elem_id="batch-results")
        cancel_holder: dict[str, threading.Event] = {}

        def on_run(f: Any, tn: str, lg: str, ln: float, nv: float, cc: float
                   ) -> Iterator[tuple[str, Any, list[str] | None]]:
            if not f:
                raise gr.Error("Upload a catalog file first.")
            try:
                products, probs = svc.read_products(str(f))
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            if not products:
                raise gr.Error(f"None of the {len({p['line'] for p in probs})} rows is a valid product: "
                               "each needs product_id and title. Nothing to write.")
            prob_view = gr.update(value=pd.DataFrame([{**p, "file": Path(p["file"]).name} for p in probs],
                                                     columns=PROBLEM_COLUMNS), visible=bool(probs))
            out = render.tmp_file(".jsonl", stem="drafts")
            cancel = cancel_holder["ev"] = threading.Event()
            prog = BatchProgress()
            err: list[str] = []

            def work() -> None:
                try:
                    run_batch(products, svc.copy_fn(tone=tn, lang=lg, length=int(ln), variants=int(nv)), out,
                              concurrency=int(cc), cancel=cancel, progress=prog)
                except Exception as exc:  # noqa: BLE001 - shown in the status line
                    err.append(str(exc))

            th = threading.Thread(target=work, daemon=True)
            th.start()
            while th.is_alive():
                yield _progress_md(prog, "Running"), prob_view, None
                th.join(0.5)
            state = "Failed: " + err[0] if err else ("Stopped" if cancel.is_set() else "Finished")
            yield _progress_md(prog, state), prob_view, [str(out), str(results_csv(out))]

        after_failure(run.click(on_run, [upload, tone, lang, length, variants, conc], [status, problems, files]),
                      status, "❌ Nothing written (see the message above).", clear=[problems, files])
        stop.click(lambda: cancel_holder.get("ev", threading.Event()).set(), None, None, queue=False)


def build_data_tab(svc: MerchAssistant) -> None:
    with gr.Tab("Data", id="data"):
        store = gr.JSON(label="Store", value=lambda: _store_status(svc))
        with gr.Row():
            kind = gr.Radio(["products", "reviews", "sales"], value="products", label="File holds")
            skip = gr.Checkbox(label="Skip bad rows (load the rest, report them)", value=False)
        upload = gr.File(label="File to ingest (CSV/TSV/Excel .xlsx/JSONL/Parquet, .gz ok)", elem_id="data-file")
        mapping = gr.Textbox(label="Column map, one per line: their_column=our_column", lines=2,
                             placeholder="Clothing ID=product_id\nReview Text=text")
        with gr.Row():
            ingest = gr.Button("Validate and ingest", variant="primary", elem_id="data-ingest")
            rebuild = gr.Button("Rebuild index", elem_id="data-rebuild")
        status = gr.Markdown(elem_id="data-status")
        problems = gr.Dataframe(headers=PROBLEM_COLUMNS, label="Validation errors", elem_id="data-problems")

        def on_ingest(f: Any, k: str, sk: bool, mp: str) -> tuple[str, pd.DataFrame, dict[str, Any]]:
            if not f:
                raise gr.Error("Choose a file first.")
            pairs = [line.strip() for line in (mp or "").splitlines() if line.strip()]
            upload_dir = str(Path(str(f)).parent) + "/"  # Gradio's temp folder: show the user's file name
            try:
                res = svc.ingest(str(f), k, column_map=pairs, skip_bad_rows=bool(sk))
            except DataValidationError as exc:
                first = str(exc).splitlines()[0].replace(upload_dir, "")
                rows = [{**p.as_dict(), "file": Path(p.file).name} for p in exc.problems]
                return f"❌ {first}", pd.DataFrame(rows, columns=PROBLEM_COLUMNS), _store_status(svc)
            except AssistantError as exc:
                return f"❌ {str(exc).replace(upload_dir, '')}", pd.DataFrame(columns=PROBLEM_COLUMNS), \
                    _store_status(svc)
            msg = (f"✅ Loaded {res['loaded']} {k} ({res['rejected']} rejected"
                   + (f", rejects saved to {res['rejects_path']}" if res.get("rejects_path") else "") + ")."
                   + (" Index updated." if res.get("indexed") else ""))
            return msg, pd.DataFrame(res["problems"], columns=PROBLEM_COLUMNS), _store_status(svc)

        def on_rebuild() -> tuple[str, dict[str, Any]]:
            try:
                stats = svc.rebuild_index()
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return f"✅ Index rebuilt: {json.dumps({k: stats.get(k) for k in ('n_products', 'n_reviews')})}", \
                _store_status(svc)

        after_failure(ingest.click(on_ingest, [upload, kind, skip, mapping], [status, problems, store]), status,
                      "❌ Nothing loaded; the store is unchanged (see the message above).", clear=[problems],
                      keep=[store])
        rebuilt = rebuild.click(lambda: "⏳ Rebuilding the index…", None, status, queue=False).then(
            on_rebuild, None, [status, store])
        after_failure(rebuilt, status, "❌ The index was not rebuilt; the previous one still serves.", keep=[store])


def _store_status(svc: MerchAssistant) -> dict[str, Any]:
    h = svc.health()
    idx = h.get("index", {})
    return {"home": h.get("home"), "catalog": h.get("catalog"),
            "index": {k: idx.get(k) for k in ("n_products", "n_reviews", "embedding_model", "updated_at", "error")
                      if k in idx},
            "llm": h.get("llm")}
