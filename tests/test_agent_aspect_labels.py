"""Review-statistics numbers written as something else: a share of mentions as a share of complaints,
praise as complaints, one aspect's count beside another (cases from the 1.5B model on the demo's C1078)."""

from __future__ import annotations

import pytest

from assistant.agent.aspect_labels import aspect_flags
from assistant.agent.checks import number_flags
from assistant.agent.result import AgentStep

STATS = {  # review_stats(product_id="C1078"), trimmed
    "scope": {"product_id": "C1078"}, "n_reviews": 987, "rating_mean": 4.19,
    "rating_hist": {"1": 32, "2": 59, "3": 135, "4": 225, "5": 536},
    "aspects": [
        {"aspect": "style", "n_reviews": 758, "share": 0.768, "positive": 615, "negative": 51, "neutral": 92},
        {"aspect": "fit", "n_reviews": 543, "share": 0.5502, "positive": 282, "negative": 152, "neutral": 109},
        {"aspect": "size", "n_reviews": 529, "share": 0.536, "positive": 159, "negative": 174, "neutral": 196},
        {"aspect": "fabric", "n_reviews": 451, "share": 0.4569, "positive": 269, "negative": 73, "neutral": 109},
        {"aspect": "color", "n_reviews": 358, "share": 0.3627, "positive": 254, "negative": 16, "neutral": 88},
    ],
}
STEPS = [AgentStep("review_stats", {"product_id": "C1078"}, result=STATS)]
ASKED = "What do buyers say about C1078?"


@pytest.mark.parametrize(("question", "answer", "bad"), [
    # the 1.5B model's answers
    ("What share of buyers complain about the fit of C1078?",
     "The share of buyers who complain about the fit of C1078 is 0.5502.", {"0.5502": 152}),
    ("How many reviews of C1078 complain about size, and how many praise the fabric?",
     "There are 159 reviews of C1078 that complain about size, and 269 reviews that praise the fabric.",
     {"159": 174}),
    (ASKED, "174 reviews praise the fabric.", {"174": 269}),  # size's complaints beside fabric
    (ASKED, "55% of buyers complain about the fit.", {"55%": 152}),
    ("What do buyers complain about for C1078?", "Size: 159 reviews. Fit: 282 reviews.", {"159": 174, "282": 152}),
    ("What do buyers complain about for C1078?", "Buyers love the colour (254 positive reviews) but complain "
     "about size (159).", {"159": 174}),
    # right
    (ASKED, "Fit is mentioned in 55% of reviews, with 152 negative.", {}),
    (ASKED, "55.02% of reviews mention fit; 282 are positive and 152 negative.", {}),
    ("What do buyers complain about for C1078?", "Size: 174 reviews. Fit: 152 reviews.", {}),
    (ASKED, "Buyers love the colour (254 positive reviews) but complain about size (174).", {}),
    (ASKED, "Buyers praise the style (615) and comfort, but complain about size (174) and fit (152).", {}),
    (ASKED, "Only 16 of 358 colour mentions are negative.", {}),
    (ASKED, "Positive outnumber negative reviews of fit 282 to 152.", {}),  # both sides: not judged
    (ASKED, "The dress has 987 reviews, 59 of them 2-star, and a mean rating of 4.19.", {}),
])
def test_review_numbers_must_be_called_what_they_are(question: str, answer: str, bad: dict[str, float]) -> None:
    flags = aspect_flags(answer, question, STEPS)
    assert {f.detail["text"]: f.detail.get("expected") for f in flags} == bad
    for f in flags:
        assert f.kind == "mislabelled_number" and f.detail["entity"] == "C1078"
        assert answer[f.detail["start"]:f.detail["end"]] == f.detail["text"]


def test_the_share_of_mentions_flag_explains_itself() -> None:
    flags = number_flags("The share of buyers who complain about the fit of C1078 is 0.5502.",
                         "What share of buyers complain about the fit of C1078?", STEPS)
    assert [f.message for f in flags] == [
        "The number '0.5502' reads as reviews that complain about fit but is the share of reviews that mention fit "
        "(aspects[1].share) in the result for C1078; fit: 152 reviews are negative about it (of 543 that mention it)."]
    assert flags[0].detail["expected_path"] == "aspects[1].negative"


def test_the_agent_rewrites_praise_given_as_complaints() -> None:
    from fakes import ScriptedLLM, tool_call

    from assistant.agent import Agent
    from assistant.tools.registry import ToolRegistry, tool

    @tool
    def review_stats(product_id: str) -> dict[str, object]:
        """Aspect statistics of a product's reviews."""
        return STATS

    wrong, fixed = "159 reviews of C1078 complain about size.", "174 reviews of C1078 complain about size."
    llm = ScriptedLLM([tool_call("review_stats", product_id="C1078"), wrong, fixed])
    res = Agent(llm, ToolRegistry([review_stats])).run("How many buyers complain about the size of C1078?")
    assert res.answer == fixed and [f.kind for f in res.flags] == ["answer_revised"]
    assert "'159' reads as reviews that complain about size" in llm.calls[-1].messages[-1]["content"]


@pytest.mark.parametrize(("question", "answer", "bad"), [
    # the 1.5B model on C1081 (over the API): colour has 6 complaints in 212 mentions
    ("What do customers complain about most for C1078?", "Buyers complain about the fit, fabric, and color.",
     ["color"]),
    ("What do customers complain about most for C1078?", "Fit, size and colour.", ["color"]),  # the question's
    (ASKED, "Buyers love the style and the colour but complain about the size.", []),
    (ASKED, "Buyers complain about size and fit, and love the fabric.", []),
    (ASKED, "Buyers praise the size.", []),  # 159 of 529 positive: not rare enough to flag
    (ASKED, "Buyers love the style, but some complain about colour and fabric.", []),  # some: true
    (ASKED, "Buyers love the style but complain about the colour.", ["color"]),
])
def test_aspects_named_as_complaints_few_buyers_have_are_flagged(question: str, answer: str, bad: list[str]) -> None:
    flags = [f for f in aspect_flags(answer, question, STEPS) if f.kind == "unsupported_claim"]
    assert [f.detail["aspect"] for f in flags] == bad
    for f in flags:
        assert answer[f.detail["start"]:f.detail["end"]].lower().startswith(("color", "colour"))
        assert "16 of the 358 reviews that mention color are negative" in f.message


@pytest.mark.parametrize(("answer", "bad"), [
    # the 1.5B model on C1081: size has the most complaints (95), fit 62
    ("The most complained about aspect is 'fit', with 282 positive reviews and 152 negative reviews.", ["fit"]),
    ("The most complained about aspect is size, with 174 negative reviews.", []),
    ("Buyers mostly love the style; the top complaint is size.", []),
    ("The biggest complaint is the colour.", ["color"]),
])
def test_the_aspect_called_most_complained_about_must_be_it(answer: str, bad: list[str]) -> None:
    flags = [f for f in aspect_flags(answer, "What do customers complain about most for C1078?", STEPS)
             if f.kind == "unsupported_claim"]
    assert [f.detail["aspect"] for f in flags] == bad
    assert all("size has more negative reviews (174)" in f.message for f in flags)
