"""Real model tier: the packaged Qwen2.5-Coder-0.5B (greedy, llama.cpp) picks a tool and its arguments
for one launch question, the agent runs it on the tiny fixture store and answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.agent.store import make_context

from assistant.agent import Agent
from assistant.llm import get_llm
from assistant.tools import default_registry

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def test_real_model_chooses_the_forecast_tool_end_to_end(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    llm = get_llm(model="qwen2.5-coder-0.5b")
    agent = Agent(llm, default_registry(), context=ctx, max_steps=2, max_tokens=160)
    res = agent.run("Forecast weekly demand for product R1 for the next 4 weeks.")
    assert res.steps, res.answer
    first = res.steps[0]
    assert first.tool == "forecast_demand"
    assert first.arguments.get("product_id") == "R1" and first.ok, first.error
    assert first.result is not None and len(first.result["by_period"]) == first.arguments.get("horizon", 12)
    assert res.artifacts and res.artifacts[0].mime == "image/png"
    assert res.answer.strip()
    assert all(s.tool in default_registry() for s in res.steps if s.ok)


def test_warm_up_saves_the_tool_prompt_for_a_later_process(tmp_path: Path) -> None:
    from assistant.config import get_settings
    from assistant.llm import ensure_model
    from assistant.llm.llamacpp import LlamaCppLLM

    ctx = make_context(tmp_path / "store")
    gguf = ensure_model("smollm2-135m", get_settings())
    server = LlamaCppLLM(gguf, prompt_cache_dir=tmp_path / "cache")
    Agent(server, default_registry(), context=ctx, max_steps=2).warm_up()  # what app.py / `assistant serve` do
    server.close()
    later = LlamaCppLLM(gguf, prompt_cache_dir=tmp_path / "cache")  # e.g. the next `assistant ask`
    first_call: list[int] = []
    generate = later.generate

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = generate(*args, **kwargs)
        if not first_call:
            out = list(out) if kwargs.get("stream") else out  # run the request now to read its figures
            first_call.append(later.restored_tokens)
            return iter(out) if kwargs.get("stream") else out
        return out

    later.generate = spy  # type: ignore[method-assign]
    Agent(later, default_registry(), context=ctx, max_steps=2, max_tokens=24).run("Forecast R1 for 4 weeks.")
    assert later.prompt_cache_hits == 1  # once: later steps reuse the live context
    assert first_call[0] > 1000  # instructions + tool schemas came from disk, not re-read
