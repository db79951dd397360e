"""Reviews tab: pick a product or a category; aspect chart (share of buyers mentioning each aspect, by
polarity), pros/cons with quotes, and a grounded AI summary with its cited reviews."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.errors import AssistantError
from assistant.service import MerchAssistant
from assistant.ui import render
from assistant.ui.events import after_failure


def product_choices(svc: MerchAssistant, limit: int = 5000) -> list[tuple[str, str]]:
    return [(f"{p['product_id']} · {p.get('title') or ''}"[:90], str(p["product_id"]))
            for p in svc.products(limit=limit)]


def aspect_frame(stats: dict[str, Any], top: int = 12) -> pd.DataFrame:
    """Long frame for the stacked bar chart: aspect, polarity, % of all buyers."""
    n = max(1, int(stats.get("n_reviews") or 0))
    rows = []
    for a in stats.get("aspects", [])[:top]:
        for pol in ("positive", "neutral", "negative"):
            rows.append({"aspect": a["aspect"], "polarity": pol, "share_pct": round(100 * int(a.get(pol, 0)) / n, 1)})
    return pd.DataFrame(rows, columns=["aspect", "polarity", "share_pct"])


def pros_cons_markdown(stats: dict[str, Any], top: int = 6) -> str:
    n = int(stats.get("n_reviews") or 0)
    mean = stats.get("rating_mean")
    head = f"**{n} reviews**" + (f" · mean rating {mean:.2f} ★" if isinstance(mean, int | float) else "")
    if stats.get("polarity_by"):
        head += f" · opinions labelled by the {stats['polarity_by']}"
    pros = [a for a in stats.get("aspects", []) if a.get("positive", 0) > a.get("negative", 0)][:top]
    cons = [a for a in stats.get("aspects", []) if a.get("negative", 0) >= max(1, a.get("positive", 0))][:top]

    def block(title: str, items: list[dict[str, Any]], pol: str) -> str:
        if not items:
            return f"### {title}\n_none found_"
        lines = [f"### {title}"]
        for a in items:
            lines.append(f"- **{a['aspect']}** — {round(100 * a['share'])}% of buyers mention it "
                         f"({a['positive']} positive / {a['negative']} negative)")
            for q in [q for q in a.get("quotes", []) if q.get("polarity") == pol][:2]:
                lines.append(f"    - “{render._md(str(q['sentence']).strip())}” — *{q['review_id']}*")  # one each
        return "\n".join(lines)

    return "\n\n".join([head, block("👍 Pros", pros, "positive"), block("👎 Cons", cons, "negative")])


def summary_markdown(svc: MerchAssistant, out: dict[str, Any]) -> str:
    from assistant.gen.citations import cited_ids

    sources = svc.lookup_sources(cited_ids(out.get("summary", "")))
    text = f"### Summary of {render._md(str(out.get('subject', '')))}\n\n{out.get('summary', '')}"
    if not out.get("citations_valid", True):
        text += "\n\n⚠️ Some citations or numbers could not be verified and were flagged."
    if sources:
        text += "\n\n<details><summary>📚 Cited reviews (" + str(len(sources)) + ")</summary>\n\n" + \
            render.sources_markdown(sources) + "\n\n</details>"
    return text


def sentiment_frame(out: dict[str, Any]) -> pd.DataFrame:
    """One row per classified text: label, rating estimate, class probabilities, the text."""
    rows = [{"label": p["label"], "rating": p.get("rating"), **{f"p_{k}": v for k, v in (p.get("proba") or {}).items()},
             "text": p["text"], **({"note": p["note"]} if p.get("note") else {})} for p in out.get("predictions", [])]
    return pd.DataFrame(rows)


def build_reviews_tab(svc: MerchAssistant) -> None:
    with gr.Tab("Reviews", id="reviews") as tab:
        with gr.Row():
            product = gr.Dropdown(product_choices(svc), value=None, label="Product", filterable=True, scale=3,
                                  elem_id="reviews-product")  # value=None: Gradio would preselect the first
            category = gr.Dropdown(list(svc.categories()), value=None, label="…or category", filterable=True,
                                   scale=3, elem_id="reviews-category")
            refresh = gr.Button("↻", scale=0, min_width=40)
        with gr.Row():
            analyse = gr.Button("Analyse aspects", variant="primary", elem_id="reviews-analyse")
            summarise = gr.Button("Summarise with AI", elem_id="reviews-summarise")
            words = gr.Slider(40, 300, value=120, step=10, label="Summary length (words)", elem_id="reviews-words")
        status = gr.Markdown()
        chart = gr.BarPlot(x="aspect", y="share_pct", color="polarity", y_title="% of buyers",
                           title="Aspects buyers mention", height=320, elem_id="reviews-chart",
                           color_map={"positive": "#2ca02c", "neutral": "#aaaaaa", "negative": "#d62728"})
        with gr.Row():
            pros_cons = gr.Markdown(elem_id="reviews-proscons")
            summary = gr.Markdown(elem_id="reviews-summary")

        with gr.Accordion("Classify review texts (sentiment model)", open=False):
            texts = gr.Textbox(lines=4, label="One review per line", elem_id="reviews-classify-input")
            classify = gr.Button("Classify", elem_id="reviews-classify")
            source = gr.Markdown()
            labels = gr.Dataframe(interactive=False, wrap=True, elem_id="reviews-classify-table")

        def on_classify(raw: str) -> tuple[str, pd.DataFrame]:
            lines = [t.strip() for t in (raw or "").splitlines() if t.strip()]
            if not lines:
                raise gr.Error("Paste one or more reviews, one per line.")
            try:
                out = svc.classify_reviews(lines[:500])
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return f"_{render._md(out['source'])}_", sentiment_frame(out)

        after_failure(classify.click(on_classify, texts, [source, labels]), source,
                      "❌ Nothing classified (see the message above).", clear=[labels])

        def target(p: str | None, c: str | None) -> dict[str, str | None]:
            if not p and not c:
                raise gr.Error("Pick a product or a category first.")
            return {"product_id": p or None, "category": None if p else c}

        def on_analyse(p: str | None, c: str | None) -> tuple[Any, str, str]:
            try:
                stats = svc.aspects(**target(p, c))
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return aspect_frame(stats), pros_cons_markdown(stats), ""

        def on_summarise(p: str | None, c: str | None, n_words: float) -> tuple[str, str]:
            try:
                out = svc.review_summary(**target(p, c), words=int(n_words))
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return summary_markdown(svc, out), ""

        # one of the two at a time: picking a category clears the product and the other way round
        product.input(lambda p: gr.update(value=None) if p else gr.update(), product, category, queue=False)
        category.input(lambda c: gr.update(value=None) if c else gr.update(), category, product, queue=False)
        after_failure(analyse.click(on_analyse, [product, category], [chart, pros_cons, status]), status,
                      "❌ No aspects (see the message above).", clear=[chart, pros_cons])
        summarised = summarise.click(lambda: "⏳ Summarising with the model…", None, status, queue=False).then(
            on_summarise, [product, category, words], [summary, status])
        after_failure(summarised, status, "❌ No summary (see the message above).", clear=[summary])
        for event in (refresh.click, tab.select):  # the lists follow Data uploads
            event(lambda: (gr.update(choices=product_choices(svc)), gr.update(choices=list(svc.categories()))),
                  None, [product, category], queue=False)
