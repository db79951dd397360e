"""Launch Q&A with the scripted model: citations, abstention (retrieval and model-declared), tools
passed through and only allowed tool calls returned."""

from __future__ import annotations

import json

from fakes import ScriptedLLM, tool_call

from assistant.gen.qa import answer_question, answer_schema, parse_answer
from assistant.index.types import Hit

HITS = [
    Hit("r:W2:0", "review", "The fit runs small in the chest.", 0.8, "C1080", review_id="W2", rating=2.0),
    Hit("r:W5:0", "review", "Fit is true to size.", 0.6, "C1080", review_id="W5", rating=5.0),
    Hit("p:C1080", "product", "Linen Wrap Dress. A breezy linen wrap dress.", 0.5, "C1080", title="Linen Wrap Dress"),
]


class WordIndex:
    """Returns the fixed hits that share a word with the query (retrieval is not under test here)."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.queries: list[str] = []

    def search(self, query: str, k: int = 10, **kw: object) -> list[Hit]:
        self.queries.append(query)
        q = set(query.lower().replace("?", "").split())
        return [h for h in self.hits if q & set(h.text.lower().replace(".", "").split())][:k]


def ans(answer: str, cites: list[str], ok: bool = True) -> str:
    return json.dumps({"answer": answer, "citations": cites, "sufficient_evidence": ok})


def test_answer_with_valid_citations() -> None:
    llm = ScriptedLLM([ans("It runs small in the chest [W2], though some find it true to size.", ["W2", "W5", "W77"])])
    res = answer_question("Does the dress fit small?", llm=llm, index=WordIndex(HITS), catalog=None)
    assert not res["abstained"] and res["sufficient_evidence"]
    assert res["citations"] == ["W5", "W2"] or set(res["citations"]) == {"W2", "W5"}
    assert res["invalid_citations"] == ["W77"]
    assert llm.calls[0].json_schema == answer_schema(["C1080", "W2", "W5"])
    assert '<evidence id="W2" kind="review"' in llm.calls[0].prompt


def test_abstains_without_model_call_when_retrieval_finds_nothing() -> None:
    llm = ScriptedLLM([])
    res = answer_question("What is the warranty on the blender motor?", llm=llm, index=WordIndex(HITS))
    assert res["abstained"] and not res["sufficient_evidence"]
    assert res["answer"].startswith("I don't have evidence")
    assert llm.calls == []


def test_abstains_when_model_says_insufficient() -> None:
    llm = ScriptedLLM([ans("The reviews mention fit but not the return policy.", ["W2"], ok=False)])
    res = answer_question("Is the fit covered by the return policy?", llm=llm, index=WordIndex(HITS))
    assert res["abstained"] and res["answer"].startswith("I don't have evidence") and res["citations"] == []


def test_uncited_answer_is_not_trusted() -> None:
    llm = ScriptedLLM([ans("Yes it fits perfectly.", [])])
    res = answer_question("Does it fit?", llm=llm, index=WordIndex(HITS))
    assert res["abstained"] and res["reason"] == "the answer cited no valid evidence"


def test_min_score_threshold() -> None:
    res = answer_question("Does it fit?", llm=ScriptedLLM([]), index=WordIndex(HITS), min_score=0.95)
    assert res["abstained"]


def test_tools_passed_and_only_allowed_calls_returned() -> None:
    tools = [{"name": "search_reviews", "description": "search", "parameters": {"type": "object", "properties": {}}}]
    llm = ScriptedLLM([tool_call("delete_catalog"), tool_call("search_reviews", query="fit")])
    res = answer_question("Does it fit?", llm=llm, index=WordIndex(HITS), tools=tools)
    assert llm.calls[0].tools == tools
    assert res["tool_calls"] == [] and res["rejected_tool_calls"][0]["name"] == "delete_catalog"
    res2 = answer_question("Does it fit?", llm=llm, index=WordIndex(HITS), tools=tools)
    assert [c["name"] for c in res2["tool_calls"]] == ["search_reviews"]


def test_plain_text_final_answer_with_tools() -> None:
    tools = [{"name": "search_reviews", "description": "search", "parameters": {"type": "object", "properties": {}}}]
    llm = ScriptedLLM(["It runs small [W2]."])
    res = answer_question("Does it fit?", llm=llm, index=WordIndex(HITS), tools=tools)
    assert res["answer"] == "It runs small [W2]." and res["citations"] == ["W2"]


def test_cut_off_json_answer_is_salvaged() -> None:
    obj = parse_answer('{"answer": "It runs small [W2].", "citations": ["W2", "W5')
    assert obj == {"answer": "It runs small [W2].", "citations": ["W2"], "sufficient_evidence": True}


def test_model_flag_overridden_only_when_answer_is_supported() -> None:
    supported = ans("The fit runs small in the chest.", ["W2"], ok=False)
    res = answer_question("Does the fit run small?", llm=ScriptedLLM([supported]), index=WordIndex(HITS))
    assert not res["abstained"] and res["model_flag"] is False and res["citations"] == ["W2"]
    unsupported = ans("It ships with a free belt and a gift box.", ["W2"], ok=False)
    res = answer_question("Does the fit run small?", llm=ScriptedLLM([unsupported]), index=WordIndex(HITS))
    assert res["abstained"] and res["reason"] == "the model said the evidence is insufficient"


def test_citation_reattributed_to_the_evidence_the_answer_quotes() -> None:
    quoted_wrong_id = ans("Fit is true to size.", ["W2"], ok=False)  # quotes W5, cites W2
    res = answer_question("Does the fit run true to size?", llm=ScriptedLLM([quoted_wrong_id]), index=WordIndex(HITS))
    assert not res["abstained"] and res["citations"] == ["W5"] and res["citations_repaired"] is True
    assert res["answer"] == "Fit is true to size. [W5]"
    invented = ans("Fit is guaranteed by a lifetime warranty and free tailoring.", ["W2"], ok=True)
    res = answer_question("Does the fit run true to size?", llm=ScriptedLLM([invented]), index=WordIndex(HITS))
    assert res["citations_repaired"] is False and res["citations"] == ["W2"]  # never moved to text it is not in


def test_answer_from_the_second_chunk_of_a_long_review_is_supported() -> None:
    chunks = [Hit("r:W9:0", "review", "Bought these headphones for the gym last spring.", 0.7, "C7", review_id="W9"),
              Hit("r:W9:1", "review", "The bass headphones deliver is deep and punchy.", 0.6, "C7", review_id="W9")]
    llm = ScriptedLLM([ans("The bass is deep and punchy.", ["W9"], ok=False)])
    res = answer_question("How is the bass of these headphones?", llm=llm, index=WordIndex(chunks))
    assert not res["abstained"] and res["citations"] == ["W9"] and res["citations_repaired"] is False


def test_grounded_answer_about_something_else_is_an_abstention() -> None:
    hits = [Hit("r:W1:0", "review", "The strap broke and the screen scratches easily.", 0.7, "C7", review_id="W1")]
    off_topic = ans("The strap broke.", ["W1"], ok=False)  # grounded, but the question is about the screen
    res = answer_question("How is the screen?", llm=ScriptedLLM([off_topic]), index=WordIndex(hits))
    assert res["abstained"] and res["reason"] == "the answer is about something other than the question"
    on_topic_answer = ans("The screen scratches easily.", ["W1"], ok=False)
    res = answer_question("How is the screen?", llm=ScriptedLLM([on_topic_answer]), index=WordIndex(hits))
    assert not res["abstained"] and res["citations"] == ["W1"]


def test_long_answers_are_capped_to_whole_sentences() -> None:
    from assistant.gen.qa import ANSWER_CHARS, on_topic, whole_sentences

    assert answer_schema(["W2"])["properties"]["answer"]["maxLength"] == ANSWER_CHARS
    assert whole_sentences("It runs small. The chest is tight and the") == "It runs small."
    assert whole_sentences("It runs small [W2]") == "It runs small [W2]"
    assert on_topic("How is the product?", "It is great.") and not on_topic("How is the bass?", "The lens is sharp.")
