"""`assistant summarize`, `assistant copy draft`, `assistant ask`: grounded generation commands.

``copy_app`` is the ``assistant copy`` group; other modules may add commands to it (e.g. ``batch``)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape

from assistant.cli.common import console, err_console, friendly_errors, print_json, print_table
from assistant.errors import AssistantError

copy_app = typer.Typer(help="Draft product copy for new products (spec-guarded).", no_args_is_help=True)


def _llm(model: str | None) -> Any:
    from assistant.llm import get_llm

    return get_llm(model=model)


def _catalog() -> Any:
    from assistant.data.catalog import Catalog

    return Catalog.open()


def _index(required: bool) -> Any:
    from assistant.index import open_index

    try:
        return open_index()
    except AssistantError:
        if required:
            raise
        return None


def summarize(
    product: str | None = typer.Option(None, "--product", help="Product id, e.g. C1080."),
    category: str | None = typer.Option(None, "--category", help="Category (prefix match), e.g. 'Dresses'."),
    query: str | None = typer.Option(None, "--query", help="Summarise the reviews a search returns."),
    words: int = typer.Option(120, "--words", min=20, max=400, help="Word budget of the prose (kept by code)."),
    model: str | None = typer.Option(None, "--model", help="LLM key (see `assistant models`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the structured result as JSON."),
) -> None:
    """Summarise reviews with cited review ids; counts and shares are computed over ALL reviews."""
    from assistant.gen.summarize import summarize_category, summarize_product, summarize_query

    with friendly_errors(as_json):
        if sum(x is not None for x in (product, category, query)) != 1:
            raise AssistantError("Give exactly one of --product ID, --category C or --query Q.")
        llm, catalog = _llm(model), _catalog()
        if product:
            res = summarize_product(product, llm=llm, catalog=catalog, words=words)
        elif category:
            res = summarize_category(category, llm=llm, catalog=catalog, words=words)
        else:
            res = summarize_query(str(query), llm=llm, index=_index(True), catalog=catalog, words=words)
    if as_json:
        print_json(res)
        return
    console.print(f"[bold]{res['subject']}[/] — {res['n_reviews']} reviews"
                  + (f", mean rating {res['rating_mean']}" if res["rating_mean"] is not None else ""))
    console.print(res["summary"], markup=False)
    rows = [{"aspect": a["aspect"], "reviews": a["n_reviews"], "share": f"{100 * a['share']:.0f}%",
             "+": a.get("positive", 0), "-": a.get("negative", 0)} for a in res["aspects"][:10]]
    print_table(rows, ["aspect", "reviews", "share", "+", "-"], title="Aspects (all reviews)")
    for label, items in (("Pros", res["pros"]), ("Cons", res["cons"])):
        for it in items[:5]:
            console.print(f"{label[:-1]}: {it['text']} [{', '.join(it['review_ids'][:3])}]", markup=False)
    if not res["citations_valid"]:
        console.print(f"[yellow]citation check: invalid ids {res['invalid_citations']}, "
                      f"{len(res['uncited_sentences'])} uncited sentence(s), "
                      f"{len(res['number_issues'])} number issue(s)[/]")


@copy_app.command("draft")
def copy_draft(
    product: str | None = typer.Option(None, "--product", help="Draft for a product already in the catalog."),
    attrs: str | None = typer.Option(None, "--attrs", help='Attributes as JSON: \'{"Material": "Cotton"}\'.'),
    title: str = typer.Option("", "--title", help="Working title (optional)."),
    notes: str = typer.Option("", "--notes", help="Extra facts the copy may state."),
    tone: str = typer.Option("friendly", "--tone",
                             help="Tone / brand voice, e.g. 'playful'; comma-separated tones cycle over variants."),
    length: int = typer.Option(80, "--length", help="Target description length in words (±25% is ok)."),
    lang: str = typer.Option("English", "--lang", help="Language of the copy."),
    variants: int = typer.Option(1, "--variants", help="Number of variants (1-5)."),
    no_guard: bool = typer.Option(False, "--no-guard", help="Report spec flags but do not regenerate."),
    model: str | None = typer.Option(None, "--model", help="LLM key (see `assistant models`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Draft title, description, bullets and SEO keywords; every claim is checked against the specs."""
    from assistant.gen.copywriter import draft_copy, draft_copy_for_product, parse_attributes

    with friendly_errors(as_json):
        if (product is None) == (attrs is None):
            raise AssistantError("Give exactly one of --product ID or --attrs JSON.")
        llm, catalog, index = _llm(model), _catalog(), _index(False)
        tones = [t.strip() for t in tone.split(",") if t.strip()]
        opts: dict[str, Any] = {"notes": notes, "tone": tones[0] if tones else "friendly", "length": length,
                                "lang": lang, "variants": variants, "guard": not no_guard,
                                "tones": tones if len(tones) > 1 else None}
        if product:
            res = draft_copy_for_product(product, llm=llm, catalog=catalog, index=index, **opts)
        else:
            res = draft_copy(parse_attributes(str(attrs)), llm=llm, title=title, catalog=catalog, index=index,
                             **opts)
    if as_json:
        print_json(res)
        return
    for note in [res.get("guard_note"), *(res.get("withheld") or [])]:
        if note:
            console.print(f"[yellow]{escape(note)}[/]")
    for i, v in enumerate(res["variants"], 1):
        console.rule(f"variant {i} ({v['tone']})")
        if "error" in v:
            console.print(f"[red]{v['error']}[/]")
            continue
        console.print(f"[bold]{v['title']}[/]", markup=True)
        console.print(v["description"], markup=False)
        for b in v["bullets"]:
            console.print(f"  • {b}", markup=False)
        console.print("SEO: " + ", ".join(v["seo_keywords"]), markup=False)
        ln = v["length"]
        console.print(f"length {ln['words']} words (target {ln['target']}, ok={ln['ok']}); "
                      f"regenerated={v['regenerated']}; needs_review={v['needs_review']}")
        for f in v["flags"]:
            console.print(f"[yellow]unsupported {f['type']}: {escape(f['claim'])}[/]")
        for r in v.get("removed") or []:
            console.print(f"[dim]taken out: {escape(r)}[/]")


def ask(
    question: str = typer.Argument(..., help="A question about the catalog or its reviews."),
    k: int = typer.Option(8, "--k", help="Evidence passages to retrieve (--no-tools mode)."),
    model: str | None = typer.Option(None, "--model", help="LLM key (see `assistant models`)."),
    tools: bool = typer.Option(True, "--tools/--no-tools",
                               help="Let the assistant call forecast/search/stats tools (default), or only "
                                    "answer from retrieved reviews with citations."),
    max_steps: int = typer.Option(5, "--max-steps", help="Tool-calling rounds before the agent must answer."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
) -> None:
    """Answer a launch question: the assistant calls numeric tools (forecasts, similar products, review
    statistics) and quotes their numbers; with --no-tools it answers from cited reviews or abstains."""
    if tools:
        from assistant.agent import build_default_agent

        with friendly_errors(as_json):
            agent = build_default_agent(llm=_llm(model), max_steps=max_steps)
            if as_json:
                print_json(agent.run(question).as_dict())
                return
            _stream_answer(agent, question)
        return
    from assistant.gen.qa import answer_question

    with friendly_errors(as_json):
        res = answer_question(question, llm=_llm(model), index=_index(True), catalog=_catalog(), k=k)
    if as_json:
        print_json(res)
        return
    console.print(res["answer"], markup=False)
    if res["citations"]:
        console.print("sources: " + json.dumps(res["citations"]), markup=False)


def _stream_answer(agent: Any, question: str) -> None:
    """Print tool calls as they happen and the answer as it is written (a spinner while the model reads)."""
    waiting = err_console.status("reading the question…")
    waiting.start()
    result = None
    for event in agent.stream(question):
        if event.type == "tool_call":
            waiting.update(f"running {event.data['tool']}…")
        elif event.type == "tool_result":
            data = event.data
            outcome = f"error: {data['error']}" if data.get("error") else json.dumps(data.get("result"), default=str)[:300]
            waiting.stop()
            console.print(f"tool {data['tool']}({json.dumps(data.get('arguments'), default=str)}) -> {outcome}",
                          markup=False, style="dim", soft_wrap=True)
            waiting.update("reading the tool result…")
            waiting.start()
        elif event.type == "token":
            waiting.stop()
            console.print(event.data["text"], end="", markup=False, highlight=False, soft_wrap=True)
        elif event.type == "answer_reset":
            waiting.stop()
            console.print()
            console.print(event.data["reason"], markup=False, style="yellow")
            waiting.update("writing the answer again…")
            waiting.start()
        elif event.type == "final":
            result = event.result
    waiting.stop()
    console.print()
    if result is not None and result.figures:
        console.print(_figures_table(result.figures))
    for flag in result.flags if result is not None else []:
        console.print(f"flag [{flag.kind}]: {flag.message}", markup=False, style="yellow")


def _figures_table(figures: list[Any]) -> Any:
    """The tool results' key numbers (KeyFigure objects) as a rich table."""
    from rich.table import Table

    table = Table(title="Key figures from the tools", title_justify="left")
    for name, justify in (("", "left"), ("figure", "left"), ("value", "right"), ("interval", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in figures:
        table.add_row(f.subject, f.figure, f.shown, f.interval)
    return table


def register(app: typer.Typer) -> None:
    """Add `summarize`, `ask` and the `copy` group to the main CLI."""
    app.command("summarize")(summarize)
    app.command("ask")(ask)
    app.add_typer(copy_app, name="copy")
