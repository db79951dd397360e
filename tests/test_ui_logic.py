"""Workspace logic without a browser: chat streaming (tool panels, inline plots, sources), rendering of
untrusted text and spec flags, tables and exports of the copy/forecast/batch tabs, app building."""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fakes import ScriptedLLM, tool_call
from fixtures.frontends.store import make_service

from assistant.ui import render
from assistant.ui.chat import stream_answer


def test_chat_stream_builds_tool_plot_answer_and_sources(tmp_path: Path) -> None:
    llm = ScriptedLLM([tool_call("forecast_demand", product_id="R1", horizon=4),
                       "R1 should sell about 80 units; buyers call it a good mug [W8]."])
    svc = make_service(tmp_path, llm)
    frames = list(stream_answer(svc, "Forecast R1 for 4 weeks", [], threading.Event()))
    final = frames[-1]
    assert final[0] == {"role": "user", "content": "Forecast R1 for 4 weeks"}
    tool_msgs = [m for m in final if "🔧" in str((m.get("metadata") or {}).get("title", ""))]
    assert len(tool_msgs) == 1 and tool_msgs[0]["metadata"]["status"] == "done"
    assert '"horizon": 4' in tool_msgs[0]["content"]
    images = [m for m in final if not isinstance(m["content"], str)]
    assert images, "the forecast plot is shown inline"
    answer = [m for m in final if m["content"] == "R1 should sell about 80 units; buyers call it a good mug [W8]."]
    assert answer
    panels = {str((m.get("metadata") or {}).get("title")).split(" ")[1]: m for m in final if m.get("metadata")}
    src = panels["Sources"]
    assert "W8" in src["metadata"]["title"] and "keeps tea warm" in src["content"]
    # the forecast's total, straight from the tool result, under the answer
    figures = panels["Key"]
    total = float(re.search(r'"total_units": ([\d.]+)', tool_msgs[0]["content"]).group(1))  # type: ignore[union-attr]
    assert f"| R1 | forecast, next 4 weeks (units) | {total:,.2f}".rstrip("0").rstrip(".") + " |" in figures["content"]
    assert len(frames) > 4  # streamed: several intermediate states


def test_chat_stream_replaces_an_answer_the_agent_rewrote(tmp_path: Path) -> None:
    llm = ScriptedLLM([tool_call("review_stats", product_id="R1"), "R1 will sell 999 units.",
                       "R1's reviews are summarised above; no sales figure was asked for."])
    shown = [[m["content"] for m in f if m.get("role") == "assistant" and isinstance(m["content"], str)
              and not m.get("metadata")]  # copied as each frame comes: the UI updates one list in place
             for f in stream_answer(make_service(tmp_path, llm), "How is R1 reviewed?", [], threading.Event())]
    assert any(a and a[0] == "R1 will sell 999 units." for a in shown)  # the first answer streamed
    assert any(a == [""] for a in shown)  # then was cleared before its replacement
    assert shown[-1][0] == "R1's reviews are summarised above; no sales figure was asked for."
    assert "999" not in shown[-1][0]


def test_untrusted_review_text_is_escaped() -> None:
    md = render.sources_markdown([{"id": "W1", "kind": "review", "product_id": "C1", "rating": 1.0,
                                   "title": "<script>x</script>", "text": "![img](http://evil) **bold** [C9]"}])
    assert "<script>" not in md and "\\[C9\\]" in md and "\\*\\*bold" in md


def test_highlight_flags_marks_claims() -> None:
    out = render.highlight_flags("Made of Waterproof silk <b>", [{"claim": "waterproof", "reason": "not in specs"}])
    assert '<mark class="spec-flag" title="not in specs">Waterproof</mark>' in out and "&lt;b&gt;" in out


def test_chat_history_skips_panels() -> None:
    hist = [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "x", "metadata": {"title": "🔧 tool"}},
            {"role": "assistant", "content": "hello"}]
    assert render.chat_history(hist) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


def test_stop_marks_the_answer_unfinished_and_keeps_it_out_of_the_context() -> None:
    from assistant.ui.chat import CancelRegistry

    reg = CancelRegistry()
    assert reg.cancel("s1") is False  # nothing running: Stop changes nothing
    ev = reg.new("s1")
    assert reg.cancel("s1") is True and ev.is_set()
    done = reg.new("s2")
    reg.finish("s2", done)
    assert reg.cancel("s2") is False and not done.is_set()

    call = {"role": "assistant", "content": "args", "metadata": {"title": "🔧 forecast_demand", "status": "pending"}}
    asked = [{"role": "user", "content": "Forecast R1"}, call]
    out = render.stopped_history(asked)
    assert out[1]["metadata"]["status"] == "done" and out[1]["metadata"]["log"] == "stopped"
    assert "no answer was written" in out[-1]["content"] and call["metadata"]["status"] == "pending"
    partial = [*asked, {"role": "assistant", "content": "R1 will sell 12", "metadata": None}]
    out = render.stopped_history(partial)
    assert out[-1]["content"].startswith("⏹ Stopped: the answer above is unfinished")
    assert render.chat_history([*out, {"role": "user", "content": "and R2?"}]) == [
        {"role": "user", "content": "Forecast R1"}, {"role": "user", "content": "and R2?"}]


def test_artifact_files_roundtrip() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    files = render.artifact_files([{"mime": "image/png", "data_base64": base64.b64encode(png).decode()},
                                   {"mime": "text/plain", "data_base64": "eA=="}])
    assert len(files) == 1 and files[0].read_bytes() == png


def test_copy_table_and_export() -> None:
    import gradio as gr

    from assistant.ui.copy import attributes_from_table, export, variants_frame

    attrs = attributes_from_table(pd.DataFrame({"attribute": ["material", "", "color"], "value": ["linen", "x", "red"]}))
    assert attrs == {"material": "linen", "color": "red"}
    result = {"variants": [{"title": "A", "description": "d1", "bullets": ["b"], "seo_keywords": ["k"], "flags": []},
                           {"title": "B", "description": "d2", "flags": [{"claim": "silk", "reason": "r"}]}]}
    df = variants_frame(result)
    assert list(df["flags"]) == ["", "silk: r"]
    with pytest.raises(gr.Error):
        export(df, "csv")  # nothing approved yet
    df.loc[0, "approved"] = True
    rows = json.loads(Path(export(df, "json")).read_text())
    assert [r["title"] for r in rows] == ["A"]
    assert "A" in Path(export(df, "csv")).read_text()


def test_aspect_chart_frame_and_pros_cons(tmp_path: Path) -> None:
    from assistant.ui.reviews import aspect_frame, pros_cons_markdown

    svc = make_service(tmp_path, ScriptedLLM())
    stats = svc.aspects(product_id="C1")
    frame = aspect_frame(stats)
    assert set(frame["polarity"]) <= {"positive", "neutral", "negative"}
    assert (frame["share_pct"] <= 100).all() and len(frame)
    md = pros_cons_markdown(stats)
    assert "4 reviews" in md and "Pros" in md and "Cons" in md
    quotes = [line for line in md.splitlines() if line.startswith("    - “")]
    assert quotes and all(re.search(r"” — \*[A-Z]\d+\*$", q) for q in quotes)  # one quote a line, with its id


def test_classified_reviews_table(tmp_path: Path) -> None:
    from assistant.ui.reviews import sentiment_frame

    svc = make_service(tmp_path, ScriptedLLM())
    df = sentiment_frame(svc.classify_reviews(["Love it, great fit", "Awful, it broke"]))  # lexicon fallback
    assert list(df["label"]) == ["positive", "negative"] and list(df["text"]) == ["Love it, great fit",
                                                                                  "Awful, it broke"]


def test_forecast_tables(tmp_path: Path) -> None:
    from assistant.ui.forecast import demand_table, demand_totals

    svc = make_service(tmp_path, ScriptedLLM())
    out = svc.forecast_demand(["R1", "R2"], 3, level=[80], plot=True)
    df = demand_table(out)
    assert len(df) == 6 and {"lo_80", "hi_80"} <= set(df.columns)
    lines = demand_totals(out).splitlines()
    assert len(lines) == 2 and all("units over 3 periods (80% interval" in x for x in lines)
    r1 = next(s for s in out["series"] if s["unique_id"] == "R1")
    assert f"**R1**: {r1['total']:.0f} units" in demand_totals(out)
    assert out["plot_png"][:4] == b"\x89PNG"


def test_launch_tab_tables_and_new_product_rows(tmp_path: Path) -> None:
    from assistant.errors import DataValidationError
    from assistant.ui.launch import NEW_COLUMNS, new_products_from_table, plan_frame, plan_markdown

    table = pd.DataFrame([["NEW1", "Linen tote bag", "Gifts > Kitchen", "12.5", "", ""],
                          ["", "", "", "", "", ""],  # blank rows are skipped
                          ["NEW2", "Oak board", "Gifts > Kitchen", 9, 4, "2024-01-01"]], columns=NEW_COLUMNS)
    drafts = new_products_from_table(table)
    assert [d["product_id"] for d in drafts] == ["NEW1", "NEW2"]
    assert drafts[0]["price"] == 12.5 and "unit_cost" not in drafts[0] and drafts[1]["unit_cost"] == 4.0
    with pytest.raises(DataValidationError, match="row 1: column 'price' is 'ten'"):
        new_products_from_table(pd.DataFrame([["N", "T", "", "ten", "", ""]], columns=NEW_COLUMNS))
    with pytest.raises(DataValidationError, match="row 2: column 'title' is empty"):
        new_products_from_table(pd.DataFrame([["A", "T", "", 1, "", ""], ["B", "", "", 1, "", ""]],
                                             columns=NEW_COLUMNS))

    svc = make_service(tmp_path, ScriptedLLM())
    plan = svc.plan_launch(400, products=["R1", "R2", *drafts], horizon=4, plot=True)
    assert plan["plot_png"][:4] == b"\x89PNG"
    frame = plan_frame(plan)
    assert set(frame["product_id"]) == {"R1", "R2", "NEW1", "NEW2"}
    assert list(frame["decision"]).count("launch") == plan["n_selected"] >= 1
    md = plan_markdown(plan, 400)
    assert f"Launch {plan['n_selected']} of 4 products" in md and "similar past launches" in md


def test_batch_results_csv(tmp_path: Path) -> None:
    from assistant.ui.batch_data import results_csv

    out = tmp_path / "d.jsonl"
    out.write_text("\n".join(json.dumps(r) for r in [
        {"product_id": "P1", "status": "ok", "variants": [{"title": "T", "description": "D", "flags": []}]},
        {"product_id": "P2", "status": "failed", "error": "boom"}]) + "\n")
    df = pd.read_csv(results_csv(out))
    assert list(df["product_id"]) == ["P1", "P2"] and df.loc[1, "error"] == "boom"


def test_build_ui_and_server_app(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from assistant.ui.app import create_server_app

    app: Any = create_server_app(make_service(tmp_path, ScriptedLLM()))
    client = TestClient(app)
    assert client.get("/v1/health").json()["status"] == "ok"
    assert client.get("/").status_code == 200


def test_workspace_requires_token_login_when_tokens_are_set(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from assistant.ui.app import create_server_app

    client = TestClient(create_server_app(make_service(tmp_path, ScriptedLLM(), api_tokens=["tok-123"])))
    assert client.get("/config").status_code == 401
    assert client.post("/login", data={"username": "me", "password": "wrong"}).status_code == 400
    assert client.post("/login", data={"username": "me", "password": "tok-123"}).status_code == 200
    assert client.get("/config").status_code == 200
    assert client.get("/v1/health").status_code == 401  # the API still wants the bearer token


def test_app_refuses_public_bind_without_token(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("app_main", Path(__file__).resolve().parent.parent / "app.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--host", "0.0.0.0", "--port", "9"]) == 2
    assert "Refusing to listen" in capsys.readouterr().err


def test_pickers_start_empty_and_bad_new_product_inputs_are_refused(tmp_path: Path) -> None:
    from assistant.errors import DataValidationError
    from assistant.ui.app import build_ui

    svc = make_service(tmp_path, ScriptedLLM())
    blocks = build_ui(svc)
    by_id = {getattr(c, "elem_id", None): c for c in blocks.blocks.values()}
    # Gradio would preselect the first choice: "…or category" could then never be used
    assert by_id["reviews-product"].value is None and by_id["reviews-category"].value is None
    with pytest.raises(DataValidationError, match="price must be a number >= 0"):
        svc.forecast_new_product({"title": "Mug", "category": "Gifts > Kitchen", "price": -50}, 4)


def test_batch_progress_line_shows_an_eta_only_while_running() -> None:
    import time as _time

    from assistant.batch import BatchProgress
    from assistant.ui.batch_data import _progress_md

    prog = BatchProgress(total=4, done=1, started=_time.time() - 10)
    assert "ETA" in _progress_md(prog, "Running")
    assert "ETA" not in _progress_md(prog, "Stopped") and _progress_md(prog, "Stopped").startswith("**Stopped**")


def test_copy_view_lists_what_was_taken_out_and_guard_notes() -> None:
    from assistant.ui.copy import flags_html

    out = flags_html({"guard_note": "The spec guard knows English claim words only.", "variants": [
        {"title": "Mug", "description": "A mug.", "bullets": [], "tone": "friendly", "flags": [],
         "removed": ["sentence: It is <durable>. (feature claim 'durable')"]}]})
    assert out.startswith('<p style="color:#b60">The spec guard knows English') and "taken out of the draft (1)" in out
    assert "It is &lt;durable&gt;." in out and "no unsupported claims" in out
