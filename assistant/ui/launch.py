"""Launch tab: choose which products to launch under a budget (catalog products, new products typed in a
table, or a candidates CSV with its own forecasts), with a margin chart and a reason per product; and who
to target with a product (customers and their segment)."""

from __future__ import annotations

import math
from typing import Any

import gradio as gr
import pandas as pd

from assistant.errors import AssistantError, DataValidationError
from assistant.service import MerchAssistant
from assistant.ui import render
from assistant.ui.events import after_failure

SOURCES = ("Catalog products", "New products (table)", "Candidates CSV (own forecasts)")
NEW_COLUMNS = ["product_id", "title", "category", "price", "unit_cost", "launch_date"]
PLAN_COLUMNS = ["decision", "product_id", "title", "category", "margin", "cost", "demand_used", "reason"]


def new_products_from_table(table: Any) -> list[dict[str, Any]]:
    """Draft products from the editable table; blank rows are skipped, a bad cell names its row and column."""
    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table or [], columns=NEW_COLUMNS)
    out: list[dict[str, Any]] = []
    for n, (_, row) in enumerate(df.iterrows(), start=1):
        cells = {c: _cell(row.get(c)) for c in NEW_COLUMNS}
        if not any(cells.values()):
            continue
        for col in ("product_id", "title", "price"):
            if not cells[col]:
                raise DataValidationError(f"New products table, row {n}: column {col!r} is empty; every new "
                                          "product needs an id, a title and a price.")
        product: dict[str, Any] = {"product_id": cells["product_id"], "title": cells["title"],
                                   "category": cells["category"], "launch_date": cells["launch_date"] or None}
        for col in ("price", "unit_cost"):
            if cells[col]:
                try:
                    value = float(cells[col])
                except ValueError:
                    value = math.nan
                if not math.isfinite(value) or value < 0:
                    raise DataValidationError(f"New products table, row {n}: column {col!r} is "
                                              f"{cells[col]!r}; expected a number >= 0.")
                product[col] = value
        out.append(product)
    if not out:
        raise DataValidationError("The new products table is empty: add one row per product (id, title, price).")
    return out


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def plan_frame(plan: dict[str, Any]) -> pd.DataFrame:
    """Every candidate with its decision and reason: launches first, then skips, each by margin."""
    rows = [*plan.get("selected", []), *plan.get("excluded", [])]
    return pd.DataFrame([{c: r.get(c, "") for c in PLAN_COLUMNS} for r in rows], columns=PLAN_COLUMNS)


def plan_markdown(plan: dict[str, Any], budget: float) -> str:
    lines = [f"**Launch {plan['n_selected']} of {plan['n_candidates']} products** · expected margin "
             f"{plan['expected_margin']:,.2f} · budget used {plan['budget_used']:,.2f} of {budget:,.2f} "
             f"· risk {plan['risk']:g} · {plan['status']}"]
    cons = plan.get("constraints", {})
    if cons.get("budget", {}).get("binding"):
        lines.append("- The budget is binding: more budget would add profitable products.")
    if cons.get("shelf_slots", {}).get("binding"):
        lines.append(f"- All {cons['shelf_slots']['limit']} shelf slots are used.")
    if cons.get("max_per_category", {}).get("full_categories"):
        lines.append("- Categories at their maximum: " + ", ".join(
            render._md(c or "(none)") for c in cons["max_per_category"]["full_categories"]))
    sources = {f.get("source") for f in (plan.get("forecasts") or {}).values()}
    if sources:
        lines.append(f"- Forecasts over {plan.get('horizon_weeks')} weeks from: {', '.join(sorted(sources))}.")
    return "\n".join(lines)


def audience_markdown(out: dict[str, Any]) -> str:
    seg = out.get("segment") or {}
    lines = [f"**{render._md(str(out.get('mode', '')))}**"]
    if seg.get("n_customers"):
        lines.append(f"- {seg['n_customers']} customers ({100 * seg.get('share_of_all_customers', 0):.1f}% of all); "
                     f"median {seg.get('median_products_bought', 0):g} products bought each")
        cats = ", ".join(f"{render._md(c['category'])} {100 * c['share']:.0f}%" for c in seg.get("top_categories", []))
        if cats:
            lines.append(f"- What they buy: {cats}")
    if out.get("also_bought"):
        lines.append("- Customers also bought: " + ", ".join(
            f"{a['product_id']} {render._md(str(a.get('title') or ''))}" for a in out["also_bought"]))
    if out.get("matched_on"):
        lines.append("- Matched on what they bought: " + ", ".join(
            f"{render._md(str(a.get('title') or a['product_id']))} ({a['similarity']:.2f})" for a in out["matched_on"]))
    if out.get("note"):
        lines.insert(1, f"⚠️ {render._md(str(out['note']))}")
    return "\n".join(lines)


def _catalog_choices(svc: MerchAssistant) -> list[tuple[str, str]]:
    return [(f"{pid} · {title}"[:90], pid) for pid, title in svc.plannable_products()]


def build_launch_tab(svc: MerchAssistant) -> None:  # noqa: C901 - one small handler per control
    with gr.Tab("Launch plan", id="launch") as tab:
        gr.Markdown("Choose what to launch: each candidate is forecast (sales history, or similar past launches "
                    "for new products) and the plan maximising risk-adjusted margin is solved exactly (MILP).")
        source = gr.Radio(list(SOURCES), value=SOURCES[0], label="Candidates", elem_id="plan-source")
        with gr.Group(visible=True) as catalog_box:
            catalog_ids = gr.Dropdown(_catalog_choices(svc), multiselect=True, filterable=True,
                                      label="Catalog products (with a price)", elem_id="plan-products")
        with gr.Group(visible=False) as new_box:
            new_table = gr.Dataframe(value=pd.DataFrame([["", "", "", "", "", ""]], columns=NEW_COLUMNS),
                                     headers=NEW_COLUMNS, interactive=True, label="New products "
                                     "(unit_cost empty = price × cost share)", elem_id="plan-new")
        with gr.Group(visible=False) as csv_box:
            csv_file = gr.File(label="CSV: product_id, forecast_mean, forecast_low, unit_cost, price[, category, "
                                     "title, fixed_cost, order_qty]", file_types=[".csv"], elem_id="plan-csv")
        with gr.Row():
            budget = gr.Number(value=1000, label="Budget", minimum=0, elem_id="plan-budget")
            horizon = gr.Slider(1, 26, value=12, step=1, label="Horizon (weeks)")
            per_cat = gr.Number(value=0, label="Max per category (0 = no limit)", minimum=0, precision=0)
            slots = gr.Number(value=0, label="Shelf slots (0 = no limit)", minimum=0, precision=0)
            risk = gr.Slider(0, 1, value=0.5, step=0.05, label="Risk (0 = mean forecast, 1 = lower bound)")
            cost_share = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="Cost share of price (if no unit cost)")
        run = gr.Button("Plan the launch", variant="primary", elem_id="plan-run")
        status = gr.Markdown(elem_id="plan-status")
        chart = gr.Image(label="Margin per product", type="filepath", interactive=False, elem_id="plan-chart")
        table = gr.Dataframe(label="Decisions", interactive=False, wrap=True, elem_id="plan-table")
        download = gr.File(label="Download the plan (CSV)")

        with gr.Accordion("Who to target", open=False):
            with gr.Row():
                target = gr.Textbox(label="Product id, or a description of a new product", scale=4,
                                    elem_id="aud-product")
                k = gr.Slider(5, 100, value=20, step=5, label="Customers", scale=2)
                find = gr.Button("Find customers", scale=1, elem_id="aud-run")
            segment = gr.Markdown(elem_id="aud-segment")
            customers = gr.Dataframe(label="Customers most likely to buy", interactive=False, elem_id="aud-table")

        source.change(lambda s: tuple(gr.update(visible=s == v) for v in SOURCES), source,
                      [catalog_box, new_box, csv_box], queue=False)

        def on_plan(src: str, ids: list[str], new: Any, csv: Any, b: float | None, h: float, cap: float | None,
                    n_slots: float | None, r: float, share: float) -> tuple[str, str, pd.DataFrame, str]:
            if b is None:
                raise gr.Error("Set a budget.")
            opts: dict[str, Any] = {"horizon": int(h), "max_per_category": int(cap) if cap else None,
                                    "shelf_slots": int(n_slots) if n_slots else None, "risk": float(r),
                                    "cost_share": float(share), "plot": True}
            try:
                if src == SOURCES[0]:
                    if not ids:
                        raise gr.Error("Pick at least one catalog product.")
                    plan = svc.plan_launch(float(b), products=list(ids), **opts)
                elif src == SOURCES[1]:
                    plan = svc.plan_launch(float(b), products=new_products_from_table(new), **opts)
                else:
                    if not csv:
                        raise gr.Error("Upload a candidates CSV.")
                    plan = svc.plan_launch(float(b), candidates=str(getattr(csv, "name", csv)), **opts)
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            frame = plan_frame(plan)
            png = render.tmp_file(".png", plan.pop("plot_png"), stem="plan")
            out_csv = render.tmp_file(".csv", frame.to_csv(index=False), stem="plan")
            return plan_markdown(plan, float(b)), str(png), frame, str(out_csv)

        def on_audience(product: str, n: float) -> tuple[str, pd.DataFrame]:
            if not (product or "").strip():
                raise gr.Error("Give a product id or describe the new product.")
            try:
                out = svc.audience(product, int(n))
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return audience_markdown(out), pd.DataFrame(out["customers"], columns=["customer_id", "score"])

        planned = run.click(on_plan, [source, catalog_ids, new_table, csv_file, budget, horizon, per_cat, slots, risk,
                                      cost_share], [status, chart, table, download])
        after_failure(planned, status, "❌ No plan (see the message above).", clear=[chart, table, download])
        after_failure(find.click(on_audience, [target, k], [segment, customers]), segment,
                      "❌ No audience (see the message above).", clear=[customers])
        tab.select(lambda: gr.update(choices=_catalog_choices(svc)), None, catalog_ids, queue=False)  # after uploads
