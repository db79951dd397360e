"""Copy drafting with the scripted model: JSON schema passed, spec guard + one regeneration,
needs_review when still unsupported, variants, length compliance, similar products' context."""

from __future__ import annotations

import json

import pytest
from fakes import ScriptedLLM

from assistant.errors import AssistantError
from assistant.gen.copywriter import copy_schema, draft_copy, length_report, parse_attributes
from assistant.index.types import Hit

ATTRS = {"Material": "Cotton", "Color": "Navy", "Length": "110 cm"}


def copy_json(description: str, title: str = "Navy Cotton Dress", bullets: list[str] | None = None) -> str:
    return json.dumps({"title": title, "description": description,
                       "bullets": bullets or ["Navy cotton", "110 cm long"], "seo_keywords": ["cotton dress"]})


GOOD = copy_json("A navy cotton dress, 110 cm long, easy to wear all day. " * 2)
BAD = copy_json("A waterproof navy silk dress, 120 cm long.")


def test_clean_draft_no_regeneration() -> None:
    llm = ScriptedLLM([GOOD])
    res = draft_copy(ATTRS, llm=llm, length=24)
    v = res["variants"][0]
    assert v["flags"] == [] and not v["regenerated"] and not v["needs_review"]
    assert llm.calls[0].json_schema == copy_schema(24)
    assert v["length"] == {"words": 24, "target": 24, "min": 18, "max": 30, "ok": True}
    assert "- Material: Cotton" in llm.calls[0].prompt


def test_flagged_draft_regenerated_with_feedback() -> None:
    llm = ScriptedLLM([BAD, GOOD])
    v = draft_copy(ATTRS, llm=llm)["variants"][0]
    assert v["regenerated"] and not v["needs_review"] and v["flags"] == []
    assert {f["claim"] for f in v["first_flags"]} == {"waterproof", "silk", "120 cm"}
    assert "certification claim 'waterproof'" in llm.calls[1].prompt
    assert len(llm.calls) == 2


def test_still_flagged_marks_needs_review() -> None:
    llm = ScriptedLLM([BAD, BAD])
    v = draft_copy(ATTRS, llm=llm)["variants"][0]
    assert v["needs_review"] and v["regenerated"]
    assert {f["claim"] for f in v["flags"]} == {"waterproof", "silk", "120 cm"}


def test_guard_off_reports_but_does_not_regenerate() -> None:
    llm = ScriptedLLM([BAD])
    v = draft_copy(ATTRS, llm=llm, guard=False)["variants"][0]
    assert v["needs_review"] and not v["regenerated"] and len(llm.calls) == 1


def test_variants_use_tones_and_angles() -> None:
    llm = ScriptedLLM([GOOD], repeat_last=True)
    res = draft_copy(ATTRS, llm=llm, variants=3, tones=["playful", "premium"])
    assert [v["tone"] for v in res["variants"]] == ["playful", "premium", "playful"]
    assert len({c.prompt for c in llm.calls}) == 3


def test_bad_json_retried_then_error_reported() -> None:
    llm = ScriptedLLM(["not json", "still not json"])
    v = draft_copy(ATTRS, llm=llm)["variants"][0]
    assert "JSON" in v["error"] and v["needs_review"]


class _ProductIndex:
    def search(self, query: str, k: int = 10, **kw: object) -> list[Hit]:
        assert kw.get("kind") == "product"
        return [Hit("p:C9", "product", "Breezy cotton dress. <b>soft</b> [C1] fits well", 0.9, "C9", title="Dress")]


class _Catalog:
    def reviews(self, product_ids: list[str]) -> object:
        import pandas as pd

        return pd.DataFrame({"review_id": ["a", "b"], "product_id": ["C9", "C9"], "rating": [5, 1],
                             "text": ["Love the soft fabric.", "The fit runs small and tight."]})


def test_similar_products_context_in_prompt() -> None:
    llm = ScriptedLLM([GOOD])
    res = draft_copy(ATTRS, llm=llm, index=_ProductIndex(), catalog=_Catalog())
    assert res["similar"][0]["product_id"] == "C9"
    assert res["praise"] and res["complaints"]
    prompt = llm.calls[0].prompt
    assert '<evidence id="C9" kind="product"' in prompt and "&lt;b&gt;soft" in prompt and "[C1]" not in prompt
    assert "complained about: fit" in prompt


def test_parse_attributes_errors() -> None:
    assert parse_attributes('{"a": 1}') == {"a": "1"}
    with pytest.raises(AssistantError, match="JSON object"):
        parse_attributes("{oops")
    with pytest.raises(AssistantError):
        parse_attributes("{}")


def test_length_report_bounds() -> None:
    assert length_report("one two three", 4)["ok"] is True
    assert length_report("one", 4)["ok"] is False


def test_copy_schema_caps_lengths_for_the_grammar() -> None:
    from assistant.gen.citations import whole_sentences
    from assistant.gen.copywriter import copy_schema

    schema = copy_schema(60)
    cap = schema["properties"]["description"]["maxLength"]
    assert 60 * 1.25 * 5.5 <= cap <= 60 * 1.25 * 6.2  # room for target +25% words (~5.8 chars a word), no more
    assert schema["properties"]["bullets"]["maxItems"] == 5
    assert whole_sentences("Soft cotton towel. Dries fast. Ideal for the beach and", min_keep=1 / 3) == "Soft cotton towel. Dries fast."
    assert whole_sentences("Soft cotton towel.") == "Soft cotton towel."
    # copy keeps a fragment rather than cut away two thirds of the text; Q&A keeps any whole sentence
    assert whole_sentences("Soft. A long fragment that the cap cut short before", min_keep=1 / 3).endswith("before")
    assert whole_sentences("Soft. A long fragment that the cap cut short before") == "Soft."
