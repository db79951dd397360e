"""Forecast tab: demand for existing series, or the launch curve of a new product; plot with intervals,
table and CSV download."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.errors import AssistantError
from assistant.service import MerchAssistant
from assistant.ui import render
from assistant.ui.copy import attributes_from_table
from assistant.ui.events import after_failure


def demand_table(out: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for s in out.get("series", []):
        for i, ds in enumerate(s["ds"]):
            row = {"unique_id": s["unique_id"], "ds": ds, "model": s.get("model"), "yhat": s["yhat"][i]}
            for lv in out.get("levels", []):
                row[f"lo_{lv}"] = s[f"lo_{lv}"][i]
                row[f"hi_{lv}"] = s[f"hi_{lv}"][i]
            rows.append(row)
    return pd.DataFrame(rows)


def demand_totals(out: dict[str, Any]) -> str:
    """One line per series: its horizon total with the interval of the first level."""
    levels = out.get("levels") or []
    lines = []
    for s in out.get("series", []):
        line = f"**{s['unique_id']}**: {s['total']:.0f} units over {len(s['ds'])} periods"
        if levels:
            lv = levels[0]
            line += f" ({lv}% interval {s[f'total_lo_{lv}']:.0f}–{s[f'total_hi_{lv}']:.0f})"
        lines.append(line)
    return "\n".join(f"- {x}" for x in lines)


def new_product_table(out: dict[str, Any]) -> pd.DataFrame:
    lv = out.get("level", "")
    return pd.DataFrame({"week": out["weeks"], "yhat": out["yhat"], f"lo_{lv}": out["lo"], f"hi_{lv}": out["hi"]})


def build_forecast_tab(svc: MerchAssistant) -> None:
    with gr.Tab("Forecast", id="forecast") as tab:
        mode = gr.Radio(["Demand (existing products)", "New product"], value="Demand (existing products)",
                        label="What to forecast", elem_id="fc-mode")
        with gr.Group(visible=True) as demand_box:
            with gr.Row():
                series = gr.Dropdown(svc.series_ids(), multiselect=True, label="Series (product ids)",
                                     filterable=True, scale=4, elem_id="fc-series")
                horizon = gr.Slider(1, 52, value=8, step=1, label="Horizon (periods)", scale=2)
                levels = gr.CheckboxGroup([80, 95], value=[80, 95], label="Intervals (%)", scale=1)
            run_demand = gr.Button("Forecast demand", variant="primary", elem_id="fc-run-demand")
        with gr.Group(visible=False) as np_box:
            with gr.Row():
                np_title = gr.Textbox(label="Title", scale=3, elem_id="fc-np-title")
                np_cat = gr.Textbox(label="Category", scale=2)
                np_price = gr.Number(label="Price", scale=1)
                np_date = gr.Textbox(label="Launch date (YYYY-MM-DD)", scale=2)
            np_attrs = gr.Dataframe(value=pd.DataFrame({"attribute": [""], "value": [""]}),
                                    headers=["attribute", "value"], interactive=True, label="Attributes")
            np_h = gr.Slider(1, 12, value=12, step=1, label="Weeks after launch")
            run_np = gr.Button("Forecast new product", variant="primary", elem_id="fc-run-np")
        status = gr.Markdown(elem_id="fc-status")
        plot = gr.Image(label="Forecast", type="filepath", elem_id="fc-plot", interactive=False)
        table = gr.Dataframe(label="Forecast table", interactive=False, elem_id="fc-table")
        download = gr.File(label="Download CSV", elem_id="fc-download")

        mode.change(lambda m: (gr.update(visible=m.startswith("Demand")), gr.update(visible=m == "New product")),
                    mode, [demand_box, np_box], queue=False)

        def on_demand(ids: list[str], h: float, lv: list[int]) -> tuple[str, pd.DataFrame, str, str]:
            if not ids:
                raise gr.Error("Pick at least one series.")
            if not lv:
                raise gr.Error("Tick at least one interval level (80 or 95).")
            try:
                out = svc.forecast_demand(list(ids), int(h), level=[int(x) for x in lv], plot=True)
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            df = demand_table(out)
            png = render.tmp_file(".png", out["plot_png"], stem="forecast")
            csv = render.tmp_file(".csv", df.to_csv(index=False), stem="forecast")
            models = ", ".join(f"{k} ×{v}" for k, v in (out.get("models_used") or {}).items())
            return str(png), df, str(csv), f"{demand_totals(out)}\n\nModels chosen by cross-validation: {models}"

        def on_new(title: str, cat: str, price: float | None, date: str, attrs: Any, h: float
                   ) -> tuple[str, pd.DataFrame, str, str]:
            if not (title or "").strip():
                raise gr.Error("Give the new product a title.")
            product = {"title": title.strip(), "category": cat or "", "attributes": attributes_from_table(attrs),
                       "price": price, "launch_date": date or None}
            try:
                out = svc.forecast_new_product(product, int(h), plot=True)
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            df = new_product_table(out)
            png = render.tmp_file(".png", out["plot_png"], stem="launch")
            csv = render.tmp_file(".csv", df.to_csv(index=False), stem="launch")
            analogues = ", ".join(str(a.get("product_id")) for a in out.get("analogues", [])[:5])
            msg = (f"Total {out['total']:.0f} units ({out['level']}% interval {out['total_lo']:.0f}–"
                   f"{out['total_hi']:.0f}), learned from {out.get('past_launches', '?')} past launches; "
                   f"analogues: {analogues}")
            msg += "".join(f"\n\n⚠️ {note}" for note in out.get("notes", []))
            return str(png), df, str(csv), msg

        after_failure(run_demand.click(on_demand, [series, horizon, levels], [plot, table, download, status]),
                      status, "❌ No forecast (see the message above).", clear=[plot, table, download])
        tab.select(lambda: gr.update(choices=svc.series_ids()), None, series, queue=False)  # after a Data upload
        after_failure(run_np.click(on_new, [np_title, np_cat, np_price, np_date, np_attrs, np_h], [plot, table, download, status]),
                      status, "❌ No forecast (see the message above).", clear=[plot, table, download])
