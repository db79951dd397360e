"""/v1/ask as JSON and as server-sent events, with the real agent loop and tools over the fixture store
and a scripted model (a tool call, then a cited answer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedLLM, tool_call
from fastapi.testclient import TestClient
from fixtures.frontends.store import make_service

from assistant.api.app import create_app


def _script() -> ScriptedLLM:
    return ScriptedLLM([tool_call("search_reviews", query="runs small", product_id="C1"),
                        "Several buyers say the dress runs small in the shoulders [W2]."])


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(make_service(tmp_path, _script())), raise_server_exceptions=False)


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_ask_json_has_answer_citations_and_tool_calls(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "Does the linen dress run small?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "runs small" in body["answer"]
    assert body["citations"] == ["W2"]
    assert body["sources"][0]["text"].startswith("It runs small")
    call = body["tool_calls"][0]
    assert call["name"] == "search_reviews" and call["arguments"]["query"] == "runs small"
    assert '"W2"' in json.dumps(call["result"])


def test_ask_streams_events(client: TestClient) -> None:
    with client.stream("POST", "/v1/ask?stream=true", json={"question": "Does it run small?"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _sse(r.read().decode())
    kinds = [k for k, _ in events]
    assert kinds[0] == "tool_call" and kinds[1] == "tool_result" and kinds[-1] == "final"
    assert "token" in kinds
    tokens = "".join(d["text"] for k, d in events if k == "token")
    assert tokens.strip() == events[-1][1]["answer"]
    assert events[-1][1]["sources"][0]["id"] == "W2"


def test_ask_stream_takes_back_a_rewritten_answer(tmp_path: Path) -> None:
    llm = ScriptedLLM([tool_call("search_reviews", query="runs small", product_id="C1"),
                       "72% of buyers say it runs small [W2].", "Several buyers say it runs small [W2]."])
    with TestClient(create_app(make_service(tmp_path, llm))) as c:
        events = _sse(c.post("/v1/ask?stream=true", json={"question": "Does it run small?"}).text)
    kinds = [k for k, _ in events]
    reset = kinds.index("answer_reset")
    assert events[reset][1]["reason"].startswith("Rewritten answer")
    assert "".join(d["text"] for k, d in events[:reset] if k == "token").strip() == "72% of buyers say it runs small [W2]."
    after = "".join(d["text"] for k, d in events[reset:] if k == "token").strip()
    assert after == events[-1][1]["answer"] == "Several buyers say it runs small [W2]."


def test_ask_accept_header_selects_sse(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "Does it run small?"}, headers={"Accept": "text/event-stream"})
    assert r.headers["content-type"].startswith("text/event-stream")
    assert _sse(r.text)[-1][0] == "final"


def test_ask_blank_question(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "   "})
    assert r.status_code == 400 and "empty" in r.json()["error"]
    r = client.post("/v1/ask", json={"question": "   "}, params={"stream": "true"})
    assert r.status_code == 400 and "empty" in r.json()["error"]  # refused before any stream starts


def test_ask_json_lists_the_key_figures_of_the_tool_results(tmp_path: Path) -> None:
    script = ScriptedLLM([tool_call("review_stats", product_id="C1"), "C1's reviews are summarised below."])
    body = TestClient(create_app(make_service(tmp_path, script))).post("/v1/ask", json={"question": "How is C1 rated?"}).json()
    stats = body["tool_calls"][0]["result"]
    assert body["figures"][0] == {"subject": "C1", "figure": "reviews", "value": stats["n_reviews"], "low": None,
                                  "high": None, "level": None, "source": "review_stats.n_reviews"}
    assert body["figures"][1]["value"] == stats["rating_mean"]


def test_a_client_that_leaves_mid_stream_stops_the_model_without_waiting_for_the_next_event() -> None:
    import asyncio
    import threading
    import time

    from assistant.api.routes import _sse

    cancel, released, gone = threading.Event(), threading.Event(), threading.Event()

    def events() -> Any:  # a tool result, then a long silent prompt read that only ``cancel`` ends
        yield {"type": "tool_result", "step": 1}
        released.set()
        cancel.wait(10)
        yield {"type": "token", "text": "late"}

    async def disconnected() -> bool:
        return gone.is_set()

    async def client_leaves() -> float:
        frames = _sse(events(), cancel, disconnected)
        assert (await frames.__anext__()).startswith("event: tool_result")
        waiting = asyncio.ensure_future(frames.__anext__())  # no event while the model reads
        await asyncio.to_thread(released.wait, 5)
        t0 = time.perf_counter()
        gone.set()  # the client closes the connection; the server only learns it by asking
        await asyncio.to_thread(cancel.wait, 5)
        took = time.perf_counter() - t0
        assert (await waiting).startswith("event: token")  # the source stops at its next check
        await frames.aclose()
        return took

    assert asyncio.run(client_leaves()) < 2  # not the 10 s the event source would have kept it busy
