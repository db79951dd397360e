"""Real model tier: the packaged SmolLM2-135M through the embedded llama.cpp backend, greedy decoding."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from assistant.errors import GenerationError
from assistant.llm import fit_messages, get_llm, parse_json
from assistant.llm.base import LLM, Generation

pytestmark = [pytest.mark.slow, pytest.mark.llm]

MODEL = "smollm2-135m"
QUESTION = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
TOOLS: list[dict[str, Any]] = [
    {"name": "search_reviews", "description": "Search customer reviews of a product for a topic.",
     "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
    {"name": "forecast_demand", "description": "Forecast weekly unit sales of a product.",
     "parameters": {"type": "object", "properties": {"product_id": {"type": "string"}, "weeks": {"type": "integer"}},
                    "required": ["product_id", "weeks"]}},
]


@pytest.fixture()
def llm() -> LLM:
    return get_llm(model=MODEL)  # cached per process: loaded once for the module


def test_generates_text_greedily(llm: LLM) -> None:
    first = llm.generate(QUESTION, max_tokens=24)  # type: ignore[arg-type]
    second = llm.generate(QUESTION, max_tokens=24)  # type: ignore[arg-type]
    assert isinstance(first, Generation) and isinstance(second, Generation)
    assert first.text.strip() and "Paris" in first.text
    assert first.text == second.text  # temperature 0: deterministic
    assert first.finish_reason in ("stop", "length") and first.completion_tokens > 0 and first.prompt_tokens > 10
    assert get_llm(model=MODEL) is llm


def test_json_schema_output_parses(llm: LLM) -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "price": {"type": "number"}},
              "required": ["title", "price"]}
    gen = llm.generate([{"role": "user", "content": "Invent a product title and a price in USD for a red wool scarf."}],
                       json_schema=schema, max_tokens=80)
    assert isinstance(gen, Generation)
    obj = parse_json(gen.text)
    assert isinstance(obj["title"], str) and isinstance(obj["price"], int | float)


def test_tool_call_has_valid_name_and_arguments(llm: LLM) -> None:
    gen = llm.generate([{"role": "system", "content": "Always call a tool first."},
                        {"role": "user", "content": "Search the reviews: what do customers say about the fit?"}],
                       tools=TOOLS, max_tokens=80)
    assert isinstance(gen, Generation)
    assert gen.tool_calls, gen
    call = gen.tool_calls[0]
    assert call.name in {"search_reviews", "forecast_demand"} and isinstance(call.arguments, dict)
    required = next(t for t in TOOLS if t["name"] == call.name)["parameters"]["required"]
    assert set(required) <= set(call.arguments) and gen.finish_reason == "tool_calls"


def test_answer_only_schema_forbids_a_tool_call_with_the_tools_still_listed(llm: LLM) -> None:
    from assistant.llm.toolcall import ANSWER_ONLY

    msgs: list[Any] = [{"role": "system", "content": "Always call a tool first."},
                       {"role": "user", "content": "Search the reviews: what do customers say about the fit?"}]
    gen = llm.generate(msgs, tools=TOOLS, json_schema=ANSWER_ONLY, max_tokens=60)
    assert isinstance(gen, Generation) and not gen.tool_calls and gen.text.strip()
    assert not gen.text.lstrip().startswith("{")  # parsed out of {"tool": "final_answer", "answer": ...}


def test_streaming_matches_blocking_output(llm: LLM) -> None:
    pieces = list(llm.generate(QUESTION, stream=True, max_tokens=24))  # type: ignore[arg-type]
    blocking = llm.generate(QUESTION, max_tokens=24)  # type: ignore[arg-type]
    assert len(pieces) > 2 and isinstance(blocking, Generation)
    assert "".join(pieces) == blocking.text


def test_cancel_stops_early(llm: LLM) -> None:
    cancel = threading.Event()
    pieces = []
    for piece in llm.generate([{"role": "user", "content": "Write a long story about a dragon."}],  # type: ignore[union-attr]
                              stream=True, max_tokens=200, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    gen = llm.generate(QUESTION, max_tokens=50, cancel=cancel)  # type: ignore[arg-type]
    assert isinstance(gen, Generation) and gen.finish_reason == "cancelled" and gen.text == ""

    stopper = threading.Event()
    threading.Timer(0.3, stopper.set).start()  # cancel from another thread, mid-generation
    long = llm.generate([{"role": "user", "content": "Count from 1 to 500."}], max_tokens=400, cancel=stopper)
    assert isinstance(long, Generation) and long.finish_reason == "cancelled" and long.completion_tokens < 400


def test_budget_with_real_tokenizer(llm: LLM) -> None:
    assert llm.count_tokens("Paris is the capital of France.") < 12
    blocks = [f'<evidence id="W{i}">' + "The fabric is soft and the fit runs small. " * 8 + "</evidence>" for i in range(20)]
    msgs = [{"role": "system", "content": "Cite evidence."}, {"role": "user", "content": "{evidence}\n\nQ: fit?"}]
    answer_budget = llm.context_length - 400  # leaves ~400 tokens for the prompt: keeps the test quick
    fit = fit_messages(llm, msgs, blocks, max_tokens=answer_budget)  # type: ignore[arg-type]
    assert 0 < len(fit.kept) < 20 and fit.prompt_tokens <= 400 and fit.messages[1]["content"].endswith("Q: fit?")
    gen = llm.generate(fit.messages, max_tokens=4)
    assert isinstance(gen, Generation) and gen.prompt_tokens <= 400
    with pytest.raises(GenerationError, match="context"):  # unfitted evidence overflows the window
        llm.generate([{"role": "user", "content": "\n".join(blocks * 20)}], max_tokens=8)  # type: ignore[list-item]


def test_prompt_reading_threads_come_from_settings_and_do_not_change_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ASSISTANT_LLM_BATCH_THREADS sets llama.cpp's prompt-reading threads (generation keeps
    ASSISTANT_LLM_THREADS); greedy answers are the same with 1 or 2 of them."""
    from assistant.config import get_settings
    from assistant.llm import llamacpp

    messages = [{"role": "system", "content": "You are a helpful assistant. " * 40},
                {"role": "user", "content": "Name three colours of dresses people like in summer."}]
    monkeypatch.setenv("ASSISTANT_LLM_PROMPT_CACHE", "0")  # both runs must read the whole prompt
    texts = []
    for n in (1, 2):
        monkeypatch.setenv("ASSISTANT_LLM_BATCH_THREADS", str(n))
        get_settings.cache_clear()
        llm = get_llm(model=MODEL)
        assert isinstance(llm, llamacpp.LlamaCppLLM)
        assert (llm.llama.n_threads_batch, llm.llama.n_threads) == (n, get_settings().llm_threads)
        out = llm.generate(messages, max_tokens=32)  # type: ignore[arg-type]
        assert isinstance(out, Generation)
        texts.append(out.text)
    get_settings.cache_clear()
    assert texts[0].strip() and texts[0] == texts[1]
