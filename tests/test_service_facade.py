"""MerchAssistant: lazy parts, demo store on first start, ingest with validation (+ incremental index
update), cited-source lookup, agent events with cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fakes import ScriptedLLM, tool_call
from fixtures.frontends.store import HashEmbedder, make_service

from assistant.config import Settings
from assistant.errors import AssistantError, DataValidationError, IndexNotFoundError
from assistant.service import MerchAssistant


def test_health_never_loads_the_model(tmp_path: Path) -> None:
    svc = MerchAssistant(Settings(home=tmp_path), embedder=HashEmbedder())
    h = svc.health()
    assert h["llm"]["loaded"] is False and svc._llm is None
    assert h["status"] == "degraded" and "index build" in h["index"]["error"]
    with pytest.raises(IndexNotFoundError):
        svc.search("anything")


@pytest.mark.slow
def test_empty_store_loads_demo_and_builds_index(tmp_path: Path) -> None:
    svc = MerchAssistant(Settings(home=tmp_path), embedder=HashEmbedder())
    out = svc.ensure_store()
    assert out["counts"]["products"] > 100 and out["counts"]["reviews"] > 1000 and out["counts"]["sales"] > 100
    assert out["index_built"]["n_products"] == out["counts"]["products"]
    assert svc.search("dress fits small", k=3, kind="review")
    again = svc.ensure_store()  # second start: nothing reloaded or rebuilt
    assert again["counts"] == out["counts"] and again["index_built"] is None


def test_ingest_validation_and_incremental_index(tmp_path: Path) -> None:
    svc = make_service(tmp_path / "home", ScriptedLLM(["ok"], repeat_last=True))
    bad = tmp_path / "new_products.csv"
    pd.DataFrame([{"product_id": "N9", "title": "Rattan basket", "price": "12.5"},
                  {"product_id": "N10", "title": "", "price": "abc"}]).to_csv(bad, index=False)
    with pytest.raises(DataValidationError) as err:
        svc.ingest(bad, "products")
    assert any(p.line == 3 for p in err.value.problems)
    assert svc.catalog.counts()["products"] == 8  # nothing written
    res = svc.ingest(bad, "products", skip_bad_rows=True)
    assert res["loaded"] == 1 and res["rejected"] == 1 and res["problems"]
    assert res["indexed"] is not None
    assert svc.search("rattan basket", k=1)[0]["product_id"] == "N9"
    with pytest.raises(AssistantError, match="Unknown kind"):
        svc.ingest(bad, "customers")


def test_lookup_sources_and_categories(tmp_path: Path) -> None:
    svc = make_service(tmp_path, ScriptedLLM())
    src = svc.lookup_sources(["W5", "R1", "missing", "W5"])
    assert [s["id"] for s in src] == ["W5", "R1"]
    assert src[0]["kind"] == "review" and "itchy" in src[0]["text"]
    assert src[1]["kind"] == "product" and src[1]["title"] == "Ceramic mug"
    assert svc.categories()["Gifts > Kitchen"] == 6
    assert "R1" in svc.series_ids()


def test_ask_stream_events_and_cancel(tmp_path: Path) -> None:
    cancel = threading.Event()

    def press_stop(messages: list[Any], tools: Any, schema: Any) -> Any:
        cancel.set()  # the user pressed Stop while the model was working
        return tool_call("search_reviews", query="itchy")

    llm = ScriptedLLM([press_stop, "never reached"])
    svc = make_service(tmp_path, llm)
    events = list(svc.ask_stream("Is the cardigan itchy?", cancel=cancel))
    final = events[-1]
    assert final["type"] == "final" and final["stopped"] == "cancelled"
    assert len(llm.calls) == 1 and llm.calls[0].cancel is cancel
    assert any(f["kind"] == "cancelled" for f in final["flags"])


def test_ask_returns_sources_for_cited_ids(tmp_path: Path) -> None:
    llm = ScriptedLLM([tool_call("review_stats", product_id="C2"), "Some buyers find the wool itchy [W5]."])
    svc = make_service(tmp_path, llm)
    out = svc.ask("Is the cardigan itchy?")
    assert out["citations"] == ["W5"] and out["sources"][0]["product_id"] == "C2"
    assert out["tool_calls"][0]["name"] == "review_stats"
    with pytest.raises(AssistantError):
        svc.ask("  ")


def test_warm_up_reads_the_agent_prompt_and_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    llm = ScriptedLLM(["ok"], repeat_last=True)
    svc = make_service(tmp_path / "home", llm)
    thread = svc.warm_up()
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive() and len(llm.calls) == 1 and llm.calls[0].max_tokens == 1
    assert llm.calls[0].tools and llm.calls[0].messages[0]["role"] == "system"

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("model file missing")

    llm.generate = broken  # type: ignore[method-assign]
    with caplog.at_level("WARNING"):
        assert svc.warm_up(background=False) is None
    assert "warm-up failed" in caplog.text and "model file missing" in caplog.text

    off = ScriptedLLM(["ok"], repeat_last=True)
    quiet = make_service(tmp_path / "home2", off, llm_warm_up=False)
    assert quiet.warm_up() is None and off.calls == []  # ASSISTANT_LLM_WARM_UP=0: nothing is loaded
