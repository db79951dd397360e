"""Review summaries with the scripted model: stats by code over ALL reviews, negatives kept,
citations validated, numbers corrected, map-reduce when the evidence does not fit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from fakes import ScriptedLLM

from assistant.errors import AssistantError
from assistant.gen.citations import strip_citations
from assistant.gen.summarize import select_aspects, sentences_for, summarize_reviews
from assistant.sentiment.aspects import aspect_stats

FIX = Path(__file__).parent / "fixtures" / "gen"


@pytest.fixture()
def reviews() -> pd.DataFrame:
    df = pd.read_csv(FIX / "reviews.csv", dtype={"review_id": str, "product_id": str})
    return df[df["product_id"] == "C1080"].reset_index(drop=True)


def test_summary_structure_and_post_checks(reviews: pd.DataFrame) -> None:
    llm = ScriptedLLM(["Buyers like the color [W3, W5]. Fabric is mentioned by 90% of buyers [W2]. "
                       "Some say it is the best dress ever. The fit runs small [W2, W404]."])
    res = summarize_reviews(reviews, llm=llm, subject="Linen Wrap Dress")
    stats = aspect_stats(reviews)
    assert res["n_reviews"] == 8 == stats["n_reviews"]
    assert [a["aspect"] for a in res["aspects"]] == [a["aspect"] for a in stats["aspects"]]
    assert res["invalid_citations"] == ["W404"]
    assert res["dropped_sentences"] == ["Some say it is the best dress ever."]
    assert "50% of buyers" in res["summary"]  # 90% corrected to fabric's real share
    assert res["number_issues"][0]["action"] == "corrected"
    assert res["citations_valid"] is False  # invalid id reported
    assert all(p["review_ids"] for p in res["pros"] + res["cons"])
    assert {q["review_id"] for q in res["quotes"]} <= set(reviews["review_id"])
    # prompt carries the code-computed statistics and evidence blocks
    prompt = llm.calls[0].prompt
    assert "fabric: mentioned in 4 reviews (50% of buyers); 1 positive, 3 negative" in prompt
    assert '<evidence id="W2"' in prompt


def test_negative_aspects_always_kept() -> None:
    stats = {"n_reviews": 1000, "aspects": [
        {"aspect": f"a{i}", "n_reviews": 500 - i, "share": 0.5, "positive": 500 - i, "negative": 0} for i in range(10)
    ] + [{"aspect": "zipper", "n_reviews": 7, "share": 0.007, "positive": 0, "negative": 7}]}
    chosen = [a["aspect"] for a in select_aspects(stats, top_k=4)]
    assert chosen[:4] == ["a0", "a1", "a2", "a3"] and "zipper" in chosen


def test_cons_come_from_stats(reviews: pd.DataFrame) -> None:
    res = summarize_reviews(reviews, llm=ScriptedLLM(["Fabric gets complaints [W4]."]))
    fabric = next(c for c in res["cons"] if c["aspect"] == "fabric")
    assert fabric["count"] == 3 and set(fabric["review_ids"]) == {"W2", "W4", "W8"}
    assert fabric["text"] == "fabric: criticised in 3 of 8 reviews (38%)"
    assert res["citations_valid"] is True


def test_map_reduce_when_evidence_does_not_fit(reviews: pd.DataFrame) -> None:
    big = pd.concat([reviews.assign(review_id=reviews["review_id"] + f"_{i}") for i in range(30)], ignore_index=True)
    def note(messages: list[dict[str, str]], tools: object, schema: object) -> str:
        ids = re.findall(r'<evidence id="([^"]+)"', messages[-1]["content"])
        if not ids:  # the reduce step: prose citing an id taken from the notes
            return "Fit runs small [" + re.findall(r"^- .*\[([^\]]+)\]", messages[-1]["content"], re.M)[0] + "]."
        return f"- fit runs small [{ids[0]}]\n- uncited note\n- bogus [Z1]"

    llm = ScriptedLLM([note], repeat_last=True, context_length=520)
    res = summarize_reviews(big, llm=llm, max_tokens=60, quotes_per_aspect=8)
    assert res["map_reduce_chunks"] > 1
    assert res["n_reviews"] == 240  # stats over ALL reviews, not the evidence sample
    reduce_prompt = llm.calls[-1].prompt
    assert "fit runs small [" in reduce_prompt and "uncited note" not in reduce_prompt
    assert "[Z1]" not in reduce_prompt
    assert len(llm.calls) == res["map_reduce_chunks"] + 1
    assert res["summary"].startswith("Fit runs small [") and res["citations_valid"]
    for call in llm.calls:
        assert "untrusted DATA" in call.messages[0]["content"]  # instructions never truncated


def test_all_uncited_falls_back_to_stats(reviews: pd.DataFrame) -> None:
    res = summarize_reviews(reviews, llm=ScriptedLLM(["This product is perfect."]))
    assert "[" in res["summary"] and "perfect" not in res["summary"]


def test_empty_reviews_error() -> None:
    with pytest.raises(AssistantError, match="No reviews"):
        summarize_reviews(pd.DataFrame(columns=["review_id", "product_id", "text"]), llm=ScriptedLLM())


def test_json_sentences_with_schema_constrained_ids(reviews: pd.DataFrame) -> None:
    out = json.dumps({"sentences": [{"text": "Fabric is thin and wrinkles", "review_ids": ["W2", "W4"]},
                                    {"text": "Colors are loved.", "review_ids": ["W3"]}]})
    llm = ScriptedLLM([out])
    res = summarize_reviews(reviews, llm=llm)
    assert res["summary"] == "Fabric is thin and wrinkles [W2, W4]. Colors are loved [W3]."
    schema = llm.calls[0].json_schema
    assert schema is not None
    enum = schema["properties"]["sentences"]["items"]["properties"]["review_ids"]["items"]["enum"]
    assert set(enum) == set(res["evidence_ids"]) and "W2" in enum
    text = schema["properties"]["sentences"]["items"]["properties"]["text"]
    assert 100 <= text["maxLength"] <= 300  # one run-on "sentence" cannot eat the whole token budget


def test_cut_off_json_keeps_complete_sentences(reviews: pd.DataFrame) -> None:
    out = '{"sentences": [{"text": "Fabric is thin", "review_ids": ["W4", "W4"]}, {"text": "Colors are lo'
    res = summarize_reviews(reviews, llm=ScriptedLLM([out]))
    assert res["summary"] == "Fabric is thin [W4]."


def test_word_budget_is_enforced_by_code(reviews: pd.DataFrame) -> None:
    long = ("Buyers love the bright color and say it looks just like the photos on the site [W3]. "
            "Many mention that the soft linen fabric feels light and breathable on hot summer days [W5]. "
            "Several add that the wrap tie stays put through a whole long day of wear at the office [W3]. "
            "The fit runs small [W2].")
    llm = ScriptedLLM([long])
    res = summarize_reviews(reviews, llm=llm, words=40)
    assert len(strip_citations(res["summary"]).split()) <= 46  # 40 words + 15% slack
    # whole sentences only; the short complaint at the end still fits after a long one was skipped
    assert res["summary"].endswith("The fit runs small [W2].")
    assert res["trimmed_sentences"] == ["Several add that the wrap tie stays put through a whole long day of wear at the office [W3]."]
    # the grammar is told the budget, too: fewer sentences allowed for a short summary
    schema = llm.calls[0].json_schema
    assert schema["properties"]["sentences"]["maxItems"] == sentences_for(40) == 4
