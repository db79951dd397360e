"""Real model tier: the packaged Qwen2.5-Coder-0.5B (greedy, llama.cpp) picks a tool and its arguments
for one launch question, the agent runs it on the tiny fixture store and answers."""

from __future__ import annotations

from pathlib import Path

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
    assert first.result is not None and len(first.result["forecast"]) == first.arguments.get("horizon", 12)
    assert res.artifacts and res.artifacts[0].mime == "image/png"
    assert res.answer.strip()
    assert all(s.tool in default_registry() for s in res.steps if s.ok)
