"""OpenAI-compatible backend against a REAL server: `python -m llama_cpp.server` with the packaged
SmolLM2-135M, started by the test on a free 127.0.0.1 port (no network beyond localhost)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.config import Settings
from assistant.errors import GenerationError
from assistant.llm import generate_many, get_llm, parse_json
from assistant.llm.base import Generation
from assistant.llm.openai_backend import OpenAICompatLLM
from assistant.llm.registry import ensure_model

pytestmark = [pytest.mark.slow, pytest.mark.llm]

TOOLS: list[dict[str, Any]] = [
    {"name": "search_reviews", "description": "Search customer reviews of a product for a topic.",
     "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model_dir = Path(os.environ.get("ASSISTANT_TEST_MODEL_DIR", Path.home() / ".cache" / "merch-assistant" / "models"))
    gguf = ensure_model("smollm2-135m", Settings(model_dir=model_dir))
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_threads", "1", "--n_ctx", "2048", "--model_alias", "smol"],
            stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({proc.returncode}): {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def llm(server: str, monkeypatch: pytest.MonkeyPatch) -> OpenAICompatLLM:
    settings = Settings(llm_backend="openai", openai_base_url=server, openai_model="smol")
    out = get_llm(settings)
    assert isinstance(out, OpenAICompatLLM)
    return out


def test_text_streaming_and_cancel(llm: OpenAICompatLLM) -> None:
    msgs: list[Any] = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
    gen = llm.generate(msgs, max_tokens=24)
    assert isinstance(gen, Generation) and "Paris" in gen.text and gen.completion_tokens > 0
    pieces = list(llm.generate(msgs, stream=True, max_tokens=24))  # type: ignore[arg-type]
    assert len(pieces) > 2 and "".join(pieces) == gen.text
    cancel = threading.Event()
    got = []
    for piece in llm.generate([{"role": "user", "content": "Write a long story."}], stream=True,  # type: ignore[union-attr]
                              max_tokens=200, cancel=cancel):
        got.append(piece)
        if len(got) == 2:
            cancel.set()
    assert len(got) == 2


def test_json_schema_and_tool_call(llm: OpenAICompatLLM) -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "price": {"type": "number"}},
              "required": ["title", "price"]}
    gen = llm.generate([{"role": "user", "content": "Invent a title and a price in USD for a red wool scarf."}],
                       json_schema=schema, max_tokens=80)
    assert isinstance(gen, Generation)
    obj = parse_json(gen.text)
    assert isinstance(obj["title"], str) and isinstance(obj["price"], int | float)
    assert llm._mode in ("json_schema", "json_object")  # the server honoured a schema mode
    call = llm.generate([{"role": "system", "content": "Always call a tool first."},
                         {"role": "user", "content": "Search the reviews: what do customers say about the fit?"}],
                        tools=TOOLS, max_tokens=60)
    assert isinstance(call, Generation) and call.tool_calls and call.tool_calls[0].name == "search_reviews"
    assert "query" in call.tool_calls[0].arguments
    from assistant.llm.toolcall import ANSWER_ONLY

    answer = llm.generate([{"role": "system", "content": "Always call a tool first."},
                           {"role": "user", "content": "Search the reviews: what do customers say about the fit?"}],
                          tools=TOOLS, json_schema=ANSWER_ONLY, max_tokens=60)
    assert isinstance(answer, Generation) and not answer.tool_calls and answer.text.strip()


def test_generate_many_concurrent(llm: OpenAICompatLLM) -> None:
    batch: list[Any] = [[{"role": "user", "content": f"Say the number {i}."}] for i in range(3)]
    out = generate_many(llm, batch, concurrency=3, max_tokens=8)
    assert len(out) == 3 and all(isinstance(g, Generation) and g.text for g in out)


def test_unreachable_server_is_a_clear_error() -> None:
    llm = OpenAICompatLLM(f"http://127.0.0.1:{_free_port()}/v1", "x", timeout=5)
    with pytest.raises(GenerationError, match="Cannot reach the LLM server"):
        llm.generate([{"role": "user", "content": "hi"}], max_tokens=4)
