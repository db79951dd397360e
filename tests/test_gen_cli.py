"""CLI: `assistant summarize`, `assistant copy draft`, `assistant ask` on a real catalog (SQLite in a temp
home) with the scripted model injected in place of the configured LLM."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakes import ScriptedLLM
from typer.testing import CliRunner

from assistant.cli import gen as gen_cli
from assistant.cli.main import app

FIX = Path(__file__).parent / "fixtures" / "gen"


@pytest.fixture()
def catalog():  # type: ignore[no-untyped-def]
    from assistant.data.catalog import Catalog
    from assistant.data.loaders import load_table

    cat = Catalog.open()
    cat.upsert_products(load_table(FIX / "products.csv", "products").frame)
    cat.upsert_reviews(load_table(FIX / "reviews.csv", "reviews").frame)
    return cat


def use_llm(monkeypatch: pytest.MonkeyPatch, llm: ScriptedLLM) -> None:
    monkeypatch.setattr(gen_cli, "_llm", lambda model: llm)


def test_summarize_product_json(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    use_llm(monkeypatch, ScriptedLLM(["Color is loved [W3]. Fabric draws complaints [W2, W4]."]))
    out = CliRunner().invoke(app, ["summarize", "--product", "C1080", "--json"])
    assert out.exit_code == 0, out.output
    res = json.loads(out.stdout)
    assert res["n_reviews"] == 8 and res["citations_valid"] is True
    assert "[W3]" in res["summary"]


def test_summarize_a_product_typed_without_its_source_prefix(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    use_llm(monkeypatch, ScriptedLLM(["Color is loved [W3]."]))
    out = CliRunner().invoke(app, ["summarize", "--product", "1080", "--json"])  # the catalog's id is C1080
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["n_reviews"] == 8


def test_summarize_category_table(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    use_llm(monkeypatch, ScriptedLLM(["Fit is mixed [W9]."]))
    out = CliRunner().invoke(app, ["summarize", "--category", "Tops"])
    assert out.exit_code == 0, out.output
    assert "2 reviews" in out.stdout and "Fit is mixed [W9]." in out.stdout


def test_summarize_errors(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    use_llm(monkeypatch, ScriptedLLM([]))
    runner = CliRunner()
    assert runner.invoke(app, ["summarize"]).exit_code == 2
    bad = runner.invoke(app, ["summarize", "--product", "NOPE"])
    assert bad.exit_code == 2 and "Unknown product id" in bad.output


def test_copy_draft_attrs(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    draft = json.dumps({"title": "Navy Linen Dress", "description": "A navy linen dress to wear all day.", "bullets": ["Linen"],
                        "seo_keywords": ["linen dress"]})
    use_llm(monkeypatch, ScriptedLLM([draft]))
    out = CliRunner().invoke(app, ["copy", "draft", "--attrs", '{"Material": "Linen", "Color": "Navy"}',
                                   "--length", "10", "--json"])
    assert out.exit_code == 0, out.output
    v = json.loads(out.stdout)["variants"][0]
    assert v["title"] == "Navy Linen Dress" and v["needs_review"] is False


def test_copy_draft_bad_attrs(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    use_llm(monkeypatch, ScriptedLLM([]))
    out = CliRunner().invoke(app, ["copy", "draft", "--attrs", "{oops"])
    assert out.exit_code == 2 and "JSON object" in out.output


def test_ask_calls_tools_and_quotes_their_numbers(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from fakes import tool_call

    llm = ScriptedLLM([tool_call("review_stats", product_id="C1080"), "C1080 has 8 reviews."])
    use_llm(monkeypatch, llm)
    out = CliRunner().invoke(app, ["ask", "How many reviews does C1080 have?", "--json"])
    assert out.exit_code == 0, out.output
    res = json.loads(out.stdout)
    assert [s["tool"] for s in res["steps"]] == ["review_stats"]
    assert res["steps"][0]["error"] is None and res["steps"][0]["result"]["n_reviews"] == 8
    assert res["answer"] == "C1080 has 8 reviews." and res["flags"] == []


def test_ask_flags_a_number_no_tool_returned(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from fakes import tool_call

    use_llm(monkeypatch, ScriptedLLM([tool_call("review_stats", product_id="C1080"), "It has 8 reviews, 9731 sold.",
                                      "It has 8 reviews and 9731 sales."]))  # the rewrite keeps the number
    out = CliRunner().invoke(app, ["ask", "How is C1080 doing?"])
    assert out.exit_code == 0, out.output
    assert "tool review_stats" in out.stdout and "unsupported_number" in out.stdout and "9731" in out.stdout
    assert "Rewritten answer" not in out.stdout


def test_ask_prints_the_rewritten_answer(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from fakes import tool_call

    use_llm(monkeypatch, ScriptedLLM([tool_call("review_stats", product_id="C1080"), "It has 8 reviews, 9731 sold.",
                                      "C1080 has 8 reviews; no sales figure was returned."]))
    out = CliRunner().invoke(app, ["ask", "How is C1080 doing?"])
    assert out.exit_code == 0, out.output
    first, rest = out.stdout.split("Rewritten answer", 1)
    assert "9731 sold" in first and "C1080 has 8 reviews; no sales figure was returned." in rest
    assert "answer_revised" in rest and "unsupported_number" not in rest


def test_ask_prints_tool_calls_then_the_answer_as_it_streams(catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from fakes import tool_call

    answer = "C1080 has 8 reviews; see the tool result above."  # the fake streams it as a final-answer JSON
    use_llm(monkeypatch, ScriptedLLM([tool_call("review_stats", product_id="C1080"), answer]))
    out = CliRunner().invoke(app, ["ask", "How many reviews does C1080 have?"])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert lines[0].startswith('tool review_stats({"product_id": "C1080"}) -> {') and '"n_reviews": 8' in lines[0]
    assert lines[1] == answer and answer not in "\n".join(lines[2:])  # printed once
    assert lines[2].strip() == "Key figures from the tools" and not any("flag" in line for line in lines)
    table = "\n".join(lines[3:])  # the tool result's numbers, under the answer
    assert re.search(r"C1080\s+│\s+reviews\s+│\s+8\s", table) and "mean rating (1-5)" in table
    assert res_json_figures(monkeypatch, answer)[0] == {"subject": "C1080", "figure": "reviews", "value": 8.0,
                                                        "low": None, "high": None, "level": None,
                                                        "source": "review_stats.n_reviews"}


def res_json_figures(monkeypatch: pytest.MonkeyPatch, answer: str) -> list[dict[str, object]]:
    from fakes import tool_call

    use_llm(monkeypatch, ScriptedLLM([tool_call("review_stats", product_id="C1080"), answer]))
    out = CliRunner().invoke(app, ["ask", "How many reviews does C1080 have?", "--json"])
    return json.loads(out.stdout)["figures"]  # type: ignore[no-any-return]
