"""New-product copy tab: attribute form (or load a catalog/draft product), tone/length/language, several
variants, spec-guard flags highlighted, edit in the table, approve, export CSV/JSON."""

from __future__ import annotations

import html
import json
from typing import Any

import gradio as gr
import pandas as pd

from assistant.errors import AssistantError
from assistant.service import MerchAssistant
from assistant.ui import render
from assistant.ui.events import after_failure
from assistant.ui.reviews import product_choices

TONES = ["friendly", "premium", "playful", "technical", "neutral", "formal"]
LANGS = ["English", "French", "German", "Spanish", "Italian", "Dutch", "Portuguese"]
COLUMNS = ["approved", "variant", "tone", "title", "description", "bullets", "seo_keywords", "flags"]


def attributes_from_table(table: Any) -> dict[str, str]:
    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table or [], columns=["attribute", "value"])
    out = {}
    for _, row in df.iterrows():
        key, val = str(row.iloc[0] or "").strip(), str(row.iloc[1] or "").strip()
        if key and val and key.lower() != "nan" and val.lower() != "nan":
            out[key] = val
    return out


def variants_frame(result: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for i, v in enumerate(result.get("variants", []), 1):
        flags = v.get("flags") or []
        rows.append({"approved": False, "variant": i, "tone": v.get("tone", ""), "title": v.get("title", ""),
                     "description": v.get("description", v.get("error", "")),
                     "bullets": " | ".join(v.get("bullets") or []), "seo_keywords": ", ".join(v.get("seo_keywords") or []),
                     "flags": "; ".join(f"{f.get('claim')}: {f.get('reason') or f.get('type')}" for f in flags)})
    return pd.DataFrame(rows, columns=COLUMNS)


def flags_html(result: dict[str, Any]) -> str:
    """Each variant's text with spec-guard flags highlighted."""
    parts = []
    for i, v in enumerate(result.get("variants", []), 1):
        flags = v.get("flags") or []
        badge = (f'<span style="color:#b00">⚠️ {len(flags)} claim(s) not backed by the attributes</span>'
                 if flags else '<span style="color:#080">✓ spec guard: no unsupported claims</span>')
        if v.get("error"):
            badge = f'<span style="color:#b00">generation failed: {html.escape(str(v["error"]))}</span>'
        text = " ".join([str(v.get("title", "")), "—", str(v.get("description", "")), *(v.get("bullets") or [])])
        removed = "".join(f"<li>{html.escape(str(r))}</li>" for r in v.get("removed") or [])
        removed = f'<details><summary>taken out of the draft ({len(v["removed"])})</summary><ul>{removed}</ul></details>' \
            if removed else ""
        parts.append(f'<div class="copy-variant" data-variant="{i}"><b>Variant {i}</b> ({v.get("tone", "")}) {badge}'
                     f"<p>{render.highlight_flags(text, flags)}</p>{removed}</div>")
    notes = [result.get("guard_note"), *(result.get("withheld") or [])]
    head = "".join(f'<p style="color:#b60">{html.escape(str(n))}</p>' for n in notes if n)
    return head + "\n".join(parts) if parts else "<i>No variants.</i>"


def export(table: Any, fmt: str) -> str:
    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table, columns=COLUMNS)
    if df.empty:
        raise gr.Error("Generate copy first.")
    approved = df[df["approved"].astype(str).str.lower().isin(["true", "1"])]
    if approved.empty:
        raise gr.Error("Tick 'approved' on at least one variant (or use 'Approve unflagged').")
    if fmt == "csv":
        return str(render.tmp_file(".csv", approved.to_csv(index=False), stem="copy"))
    recs = approved.to_dict(orient="records")
    return str(render.tmp_file(".json", json.dumps(recs, indent=2, ensure_ascii=False, default=str), stem="copy"))


def build_copy_tab(svc: MerchAssistant) -> None:
    with gr.Tab("New product copy", id="copy") as tab:
        with gr.Row():
            pick = gr.Dropdown(product_choices(svc), value=None, label="Start from a catalog / draft product (optional)",
                               filterable=True, scale=4)
            load = gr.Button("Load", scale=1)
        with gr.Row():
            with gr.Column(scale=3):
                title = gr.Textbox(label="Title", elem_id="copy-title")
                category = gr.Textbox(label="Category", elem_id="copy-category")
                notes = gr.Textbox(label="Notes / description (facts the copy may use)", lines=2)
                attrs = gr.Dataframe(value=pd.DataFrame({"attribute": ["", ""], "value": ["", ""]}),
                                     headers=["attribute", "value"], interactive=True, label="Attributes", elem_id="copy-attrs")
            with gr.Column(scale=2):
                tone = gr.Dropdown(TONES, value="friendly", label="Tone")
                length = gr.Slider(20, 300, value=80, step=10, label="Target length (words)")
                lang = gr.Dropdown(LANGS, value="English", label="Language", allow_custom_value=True)
                n_var = gr.Slider(1, 5, value=2, step=1, label="Variants")
                generate = gr.Button("Generate copy", variant="primary", elem_id="copy-generate")
        status = gr.Markdown()
        flagged = gr.HTML(elem_id="copy-flags")
        table = gr.Dataframe(headers=COLUMNS, datatype=["bool", "number", "str", "str", "str", "str", "str", "str"],
                             interactive=True, wrap=True, label="Variants (edit cells, tick approved)",
                             elem_id="copy-table", static_columns=[1, 7],
                             column_widths=["8%", "6%", "7%", "13%", "28%", "12%", "10%", "16%"])
        with gr.Row():
            approve = gr.Button("Approve unflagged")
            to_csv = gr.Button("Export CSV")
            to_json = gr.Button("Export JSON")
        download = gr.File(label="Export", elem_id="copy-download")

        def on_load(pid: str | None) -> tuple[str, str, str, pd.DataFrame]:
            if not pid:
                raise gr.Error("Pick a product to load.")
            found = svc.products([pid])
            if not found:
                raise gr.Error(f"Unknown product {pid}.")
            p = found[0]
            at = p.get("attributes") or {}
            df = pd.DataFrame({"attribute": list(at) or [""], "value": [str(v) for v in at.values()] or [""]})
            return str(p.get("title") or ""), str(p.get("category") or ""), str(p.get("description") or ""), df

        def on_generate(t: str, c: str, n: str, a: Any, tn: str, ln: float, lg: str, nv: float
                        ) -> tuple[pd.DataFrame, str, str]:
            if not (t or "").strip():
                raise gr.Error("Give the product a title.")
            product = {"product_id": "draft", "title": t.strip(), "category": (c or "").strip(),
                       "description": n or "", "attributes": attributes_from_table(a)}
            try:
                out = svc.draft_copy(product, tone=tn, length=int(ln), lang=lg or "English", variants=int(nv))
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            n_flag = sum(bool(v.get("flags")) for v in out.get("variants", []))
            return variants_frame(out), flags_html(out), f"{len(out.get('variants', []))} variant(s), {n_flag} flagged."

        def on_approve(tbl: Any) -> pd.DataFrame:
            df = tbl if isinstance(tbl, pd.DataFrame) else pd.DataFrame(tbl, columns=COLUMNS)
            df = df.copy()
            df["approved"] = df["flags"].fillna("").astype(str).str.strip() == ""
            return df

        after_failure(load.click(on_load, pick, [title, category, notes, attrs]), status,
                      "❌ Nothing loaded (see the message above).", keep=[title, category, notes, attrs])
        tab.select(lambda: gr.update(choices=product_choices(svc)), None, pick, queue=False)  # after a Data upload
        written = generate.click(lambda: "⏳ Writing copy…", None, status, queue=False).then(
            on_generate, [title, category, notes, attrs, tone, length, lang, n_var], [table, flagged, status])
        # the table may hold the user's edits and approvals: kept, and the note says it is from before
        after_failure(written, status, "❌ No new copy written (see the message above); the table shows earlier "
                      "variants, if any.", keep=[table, flagged])
        approve.click(on_approve, table, table)
        for exported in (to_csv.click(lambda tbl: export(tbl, "csv"), table, download),
                         to_json.click(lambda tbl: export(tbl, "json"), table, download)):
            after_failure(exported, status, "❌ Nothing exported (see the message above).", clear=[download])
