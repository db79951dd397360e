"""eval/agent_answers.py scores answers against forecast totals it computes itself (the scripted model
stands in for the real one; the real run is the eval)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from fakes import ScriptedLLM, tool_call
from fixtures.agent.store import make_context
from fixtures.scripts.load import load_script

from assistant.agent import Agent
from assistant.tools import default_registry


def _script() -> ModuleType:
    return load_script("eval/agent_answers.py")


def test_first_and_final_answers_are_scored_against_the_tools_totals(tmp_path: Path) -> None:
    ev = _script()
    ctx = make_context(tmp_path)
    q = {"id": "t1", "question": "How much will R1 sell over the next 4 weeks?", "products": ["R1"], "horizon": 4}
    probe = Agent(ScriptedLLM([]), default_registry(), context=ctx)
    truth = ev.true_totals(probe, [q])
    total = truth[("R1", 4)]
    week1 = default_registry().get("forecast_demand").run(ctx, {"product_id": "R1", "horizon": 4}).data["by_period"][0]
    assert total > week1["units"] > 0

    # the first answer gives week 1 as the total (flagged), the rewrite gives the total
    llm = ScriptedLLM([tool_call("forecast_demand", product_id="R1", horizon=4),
                       f"R1 will sell {week1['units']} units in total.", f"R1 will sell {total} units in total."])
    rows = ev.run(Agent(llm, default_registry(), context=ctx), [q], truth)
    assert rows[0]["first"] == {"totals": False, "clean": False}
    assert rows[0]["final"] == {"totals": True, "clean": True}
    lines = ev.summary(rows)
    assert lines[1].split()[-3:] == ["0.000", "0.000", "0.000"] and lines[2].split()[-3:] == ["1.000", "1.000", "1.000"]


def test_questions_file_is_checked(tmp_path: Path) -> None:
    ev = _script()
    assert len(ev.load_questions(ev.DEFAULT_DATA)) >= 10
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x", "question": "Forecast R1"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"line 1: missing key\(s\) \['products', 'horizon'\]"):
        ev.load_questions(bad)
