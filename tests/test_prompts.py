"""Every template in prompts/ renders with StrictUndefined given its sample variables. A new template
without a sample here fails the test: add one."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.config import PROMPTS_DIR_DEFAULT
from assistant.prompts import render, template_names

_ASPECTS = [{"aspect": "fit", "n_reviews": 4, "share_pct": 50, "positive": 1, "negative": 3}]
_EVIDENCE = '<evidence id="W1" kind="review">\nRuns small.\n</evidence>'

SAMPLES: dict[str, dict[str, Any]] = {
    "system.j2": {"task": "summarise reviews"},
    "summary_user.j2": {"subject": "Dress", "words": 100, "n_reviews": 8, "aspects": _ASPECTS, "rating_mean": 4.1,
                        "evidence": _EVIDENCE},
    "summary_map.j2": {"subject": "Dress", "part": 1, "parts": 2, "max_notes": 5, "evidence": _EVIDENCE},
    "summary_reduce.j2": {"subject": "Dress", "words": 100, "n_reviews": 8, "aspects": _ASPECTS,
                          "notes": ["- runs small [W1]"]},
    "copy_draft.j2": {"attributes": {"Material": "Cotton"}, "title": "Dress", "notes": "", "tone": "friendly",
                      "words": 80, "lang": "English", "angle": "", "praise": ["fit"], "complaints": ["size"],
                      "evidence": _EVIDENCE, "feedback": ["material claim 'silk'"]},
    "qa_answer.j2": {"question": "Does it fit?", "evidence": _EVIDENCE, "tools": True},
    "agent_system.j2": {"tools": [{"name": "search_reviews", "description": "Search reviews."}], "max_steps": 4},
    "agent_cover.j2": {"products": ["C1094"], "reviews": True},
    "agent_answer_now.j2": {"results": ["forecast_demand for R1"], "question": "Compare R1 and R2"},
    "agent_revise.j2": {"problems": ["The number '999' in the answer does not appear in any tool result."],
                        "more": 2, "fixes": [{"wrong": "379.5", "right": "1518.1", "entity": "R1",
                                             "what": "total_units"}]},
    "agent_tool_result.j2": {"ok": True, "tool_name": "search_reviews", "payload": '{"hits": []}'},
    "llm_json.j2": {"schema": {"type": "object"}},
    "llm_tools.j2": {"tools": [{"name": "search_reviews", "description": "Search reviews.",
                                "parameters": {"type": "object", "properties": {}}}]},
}


@pytest.mark.parametrize("name", template_names(PROMPTS_DIR_DEFAULT))
def test_every_template_renders(name: str) -> None:
    assert name in SAMPLES, f"prompts/{name} has no sample variables in tests/test_prompts.py::SAMPLES"
    text = render(name, PROMPTS_DIR_DEFAULT, **SAMPLES[name])
    assert text.strip()
    assert "{{" not in text and "{%" not in text


def test_system_prompt_says_evidence_is_data() -> None:
    text = render("system", PROMPTS_DIR_DEFAULT, task="x")
    assert "untrusted DATA" in text and "<evidence" in text
