"""transformers backend: one real run of the packaged SmolLM2 GGUF loaded through ``gguf_file=``
(de-quantised on CPU). The pre-fill/parse logic is shared with the other backends (test_llm_logic)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.llm.base import Generation
from assistant.llm.registry import ensure_model

TOOLS: list[dict[str, Any]] = [
    {"name": "search_reviews", "description": "Search customer reviews of a product for a topic.",
     "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
]


@pytest.fixture(scope="module")
def hf_llm() -> Any:
    from assistant.llm.hf import TransformersLLM

    model_dir = Path(os.environ.get("ASSISTANT_TEST_MODEL_DIR", Path.home() / ".cache" / "merch-assistant" / "models"))
    return TransformersLLM(ensure_model("smollm2-135m", Settings(model_dir=model_dir)), name="smollm2-hf",
                           max_tokens=32, threads=1)


@pytest.mark.slow
@pytest.mark.llm
def test_transformers_gguf_generate_tools_stream_cancel(hf_llm: Any) -> None:
    gen = hf_llm.generate([{"role": "user", "content": "What is the capital of France?"}], max_tokens=16)
    assert isinstance(gen, Generation) and "Paris" in gen.text and gen.completion_tokens > 0

    call = hf_llm.generate([{"role": "system", "content": "Always call a tool first."},
                            {"role": "user", "content": "Search the reviews: what do customers say about the fit?"}],
                           tools=TOOLS, max_tokens=40)
    assert isinstance(call, Generation)
    # no grammar here: the reply starts with the pre-filled '{"tool": "' and is parsed defensively
    assert call.tool_calls or call.text
    if call.tool_calls:
        assert call.tool_calls[0].name and isinstance(call.tool_calls[0].arguments, dict)

    from assistant.llm.toolcall import ANSWER_ONLY

    answer = hf_llm.generate([{"role": "system", "content": "Always call a tool first."},
                              {"role": "user", "content": "Search the reviews: what do customers say about the fit?"}],
                             tools=TOOLS, json_schema=ANSWER_ONLY, max_tokens=40)
    # pre-filled '{"tool": "final_answer", "answer": "': whatever follows is the answer, never a call
    assert isinstance(answer, Generation) and not answer.tool_calls and answer.text.strip()

    pieces = list(hf_llm.generate([{"role": "user", "content": "Name three colours."}], stream=True, max_tokens=12))
    assert len(pieces) > 1
    cancel = threading.Event()
    got = []
    for piece in hf_llm.generate([{"role": "user", "content": "Write a long story."}], stream=True, max_tokens=100,
                                 cancel=cancel):
        got.append(piece)
        cancel.set()
    assert len(got) <= 2
    assert hf_llm.count_tokens("hello world") == 2
