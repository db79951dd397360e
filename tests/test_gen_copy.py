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


GOOD = copy_json("A navy cotton dress, 110 cm long, easy to wear all day. The navy cotton feels light and the dress "
                 "falls to 110 cm.")
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
    v = draft_copy(ATTRS, llm=llm, length=10)["variants"][0]
    assert v["needs_review"] and v["regenerated"]
    assert {f["claim"] for f in v["flags"]} == {"waterproof", "silk", "120 cm"}


def test_guard_off_reports_but_does_not_regenerate() -> None:
    llm = ScriptedLLM([BAD])
    v = draft_copy(ATTRS, llm=llm, guard=False)["variants"][0]
    assert v["needs_review"] and not v["regenerated"] and len(llm.calls) == 1


def test_variants_use_tones_and_angles() -> None:
    llm = ScriptedLLM([GOOD], repeat_last=True)
    res = draft_copy(ATTRS, llm=llm, variants=3, tones=["playful", "premium"], length=24)
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
    res = draft_copy(ATTRS, llm=llm, title="Navy dress", index=_ProductIndex(), catalog=_Catalog(), length=24)
    assert res["similar"][0]["product_id"] == "C9"
    assert res["praise"] == ["fabric (50% of their buyers)"] and res["complaints"]  # shares shown to the user
    prompt = llm.calls[0].prompt
    assert '<evidence id="C9" kind="product"' in prompt and "&lt;b&gt;soft" in prompt and "[C1]" not in prompt
    assert "they worry about: fit" in prompt and "%" not in prompt  # ...but not given to the model to copy
    assert res["variants"][0]["flags"] == [] and len(llm.calls) == 1


def test_features_copied_from_a_similar_product_are_flagged() -> None:
    """An acceptance run: a similar product's "tie waist" and "durable and easy to care for" came back in the
    draft of a linen dress whose facts say neither, with needs_review False."""
    class Index:
        def search(self, query: str, k: int = 10, **kw: object) -> list[Hit]:
            return [Hit("p:N1", "product", "A breezy linen midi dress with a tie waist. Pockets at the side.", 0.9,
                        "N1", title="Linen midi dress")]

    draft = copy_json("A breezy linen midi dress with a tie waist, durable and easy to care for.",
                      title="Linen midi dress", bullets=["Tie waist", "100% linen", "Side pockets"])
    v = draft_copy({"material": "100% linen", "color": "sage"}, title="Linen midi dress", index=Index(),
                   llm=ScriptedLLM([draft]), guard=False)["variants"][0]
    got = {(f["claim"].lower(), f["type"]) for f in v["flags"]}
    assert {("tie waist", "feature"), ("durable", "feature"), ("easy to care for", "feature"),
            ("pockets", "feature")} <= got and v["needs_review"]
    assert not any(c in {"linen midi", "midi dress", "breezy linen"} for c, _ in got)  # the product's own words


def test_buyer_statistics_are_taken_out_of_new_product_copy() -> None:
    draft = copy_json("Slim navy cotton jeans. Our customers praise the fit, with 48% of buyers praising it. "
                      "They are 110 cm long.",
                      bullets=["Navy cotton", "Praised: style (57%)", "Complaints about size and fit", "110 cm long"])
    v = draft_copy(ATTRS, llm=ScriptedLLM([draft]), title="Navy cotton jeans", length=12)["variants"][0]
    assert v["description"] == "Slim navy cotton jeans. They are 110 cm long."
    assert v["bullets"] == ["Navy cotton", "110 cm long"] and v["flags"] == [] and not v["regenerated"]
    assert v["removed"] == ["bullet: Praised: style (57%)", "bullet: Complaints about size and fit",
                            "sentence: Our customers praise the fit, with 48% of buyers praising it."]
    assert "48%" in v["first_draft"]["description"]  # what the model wrote stays inspectable


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


def test_a_short_draft_is_asked_again_for_its_length() -> None:
    short = copy_json("A navy cotton dress, 110 cm long.")
    longer = json.loads(GOOD)["description"]
    longer = copy_json(longer)
    llm = ScriptedLLM([short, longer])
    v = draft_copy(ATTRS, llm=llm, length=24)["variants"][0]
    assert v["regenerated"] and v["length"]["words"] == 24 and v["flags"] == []
    assert "The description has 7 words; write about 24" in llm.calls[1].prompt
    llm = ScriptedLLM([short, copy_json("Navy cotton dress.")])  # no longer: the first draft stays
    v = draft_copy(ATTRS, llm=llm, length=24)["variants"][0]
    assert not v["regenerated"] and v["description"] == "A navy cotton dress, 110 cm long."


def test_claims_still_unsupported_after_the_rewrite_are_taken_out() -> None:
    draft = copy_json("A navy cotton dress, 110 cm long. Made from high-quality cotton, it is durable and easy to "
                      "clean. It comes with a 5 year warranty.",
                      bullets=["Navy cotton", "Durable", "110 cm long"])
    v = draft_copy(ATTRS, llm=ScriptedLLM([draft, draft]), length=12)["variants"][0]
    assert v["description"] == "A navy cotton dress, 110 cm long." and v["bullets"] == ["Navy cotton", "110 cm long"]
    assert v["flags"] == [] and not v["needs_review"] and len(v["first_flags"]) == 5
    assert v["removed"] == [
        "bullet: Durable (feature claim 'durable')",
        "sentence: Made from high-quality cotton, it is durable and easy to clean. (feature claim 'high-quality')",
        "sentence: It comes with a 5 year warranty. (number claim '5 year')"]
    # without the guard nothing is taken out: the flags are reported as they are
    v = draft_copy(ATTRS, llm=ScriptedLLM([draft]), length=12, guard=False)["variants"][0]
    assert "durable" in v["description"] and len(v["flags"]) == 5 and v["removed"] == []


def test_copy_in_another_language_is_marked_for_review() -> None:
    """The guard's claim words are English: French copy saying "imperméable" would pass it unseen."""
    res = draft_copy(ATTRS, llm=ScriptedLLM([GOOD]), length=24, lang="French")
    assert res["variants"][0]["needs_review"] and "English claim words only" in res["guard_note"]
    res = draft_copy(ATTRS, llm=ScriptedLLM([GOOD]), length=24, lang="en")
    assert not res["variants"][0]["needs_review"] and "guard_note" not in res


def test_an_unsupported_adjective_is_taken_out_and_the_fact_kept() -> None:
    from assistant.gen.copywriter import drop_flagged
    from assistant.gen.specguard import check_copy

    copy = {"title": "Dress", "description": "An eco-friendly navy cotton dress. It is durable and easy to clean.",
            "bullets": ["High-quality cotton", "Durable"], "seo_keywords": ["high-quality cotton dress"]}
    out, removed = drop_flagged(copy, check_copy(copy, ATTRS))
    assert out["description"] == "A navy cotton dress." and out["bullets"] == ["Cotton"]
    assert out["seo_keywords"] == ["cotton dress"] and check_copy(out, ATTRS) == []
    assert removed == ["bullet: High-quality cotton -> Cotton (took out 'high-quality')",
                       "bullet: Durable (feature claim 'durable')",
                       "seo keyword: high-quality cotton dress -> cotton dress (took out 'high-quality')",
                       "sentence: An eco-friendly navy cotton dress. -> A navy cotton dress. (took out 'eco-friendly')",
                       "sentence: It is durable and easy to clean. (feature claim 'durable')"]


def test_a_description_that_loops_keeps_each_sentence_once() -> None:
    loop = copy_json("A navy cotton dress, 110 cm long. " + "In navy, it is perfect for every single occasion. " * 3)
    v = draft_copy(ATTRS, llm=ScriptedLLM([loop]), length=14)["variants"][0]
    assert v["description"] == "A navy cotton dress, 110 cm long. In navy, it is perfect for every single occasion."
    assert v["flags"] == []


def test_a_flagged_claim_takes_out_only_lines_that_hold_it_as_a_word() -> None:
    from assistant.gen.copywriter import drop_flagged
    from assistant.gen.specguard import check_copy

    copy = {"title": "Cake stand", "description": "A stoneware cake stand. It comes in tan.",
            "bullets": ["Stoneware stand", "Tan"], "seo_keywords": ["cake stand"]}
    flags = check_copy(copy, {"material": "stoneware"}, title="Cake stand")
    assert [f.claim for f in flags] == ["tan"]
    out, removed = drop_flagged(copy, flags)  # "stand" holds the letters of "tan": it stays
    assert out["description"] == "A stoneware cake stand." and out["bullets"] == ["Stoneware stand"]
    assert out["seo_keywords"] == ["cake stand"]
    assert removed == ["bullet: Tan (color claim 'tan')", "sentence: It comes in tan. (color claim 'tan')"]
