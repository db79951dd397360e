"""Number checker: every number in an answer must come from a tool result or the question."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from assistant.numbers import check_numbers, extract_dates, extract_numbers

RESULT = {
    "series": "R85123A",
    "total_units": 1234.4,
    "share": 0.4237,
    "rating_mean": 4.21,
    "forecast": [{"period": "2011-12-12", "units": 12.34, "lo_80": 9.87, "hi_80": 15.0}],
    "change": -0.052,
    "rating_hist": {"1": 3, "5": 120},
    "note": "about 35% of buyers are repeat customers",
    "revenue": 2_500_000.0,
}


def unsupported(answer: str, *sources: object) -> list[str]:
    return [m.text for m in check_numbers(answer, sources or (RESULT,)).unsupported]


@pytest.mark.parametrize("answer", [
    "Expect 1,234 units in total.",                 # thousands separator + rounding to integer
    "Expect 1234.4 units.",                         # exact
    "Week 1: 12 units, at least 9 in the worst case.",  # decimals dropped: 9 from 9.87 (rounds to 10)
    "Expect about 1.2k units.",                     # k suffix at shown precision
    "Expect $1,234 of units.",                      # currency sign
    "42% of reviews mention fit.",                  # share -> percent, rounded
    "42.4 % of reviews mention fit.",               # one decimal, space before %
    "42.37 percent of reviews mention fit.",        # the word percent
    "A share of 0.42.",                             # share rounded to 2 decimals
    "About 35% are repeat buyers; that is 0.35.",   # percentage in source text -> share
    "Mean rating 4.2 (4.21 exactly).",              # rounding to shown precision
    "Week 1: 12.3 units (interval 9.9-15).",        # range: 9.9 and 15 (no negative 15)
    "Sales drop 5.2% next month.",                  # sign ignored: -0.052
    "Sales change of -5% is expected.",             # rounded and signed
    "Revenue 2.5 million.",                         # million suffix
    "120 five-star and 3 one-star reviews.",        # numbers from dict values
    "Ratings 1 and 5 stars.",                       # numbers from dict keys
    "Starting 2011-12-12 for R85123A.",             # ISO date and digits inside an id
    "In 2011 sales rise.",                          # a year taken from a source date
])
def test_supported_numbers_pass(answer: str) -> None:
    assert unsupported(answer) == []


@pytest.mark.parametrize("answer, bad", [
    ("Expect 1,300 units in total.", ["1,300"]),
    ("Expect 1234.9 units.", ["1234.9"]),              # more precision than the source supports
    ("Expect 1233 or 1235 units.", ["1233", "1235"]),   # neither rounds nor truncates 1234.4
    ("Week 1: 12.4 units.", ["12.4"]),                  # 12.34 truncates to 12.3, rounds to 12.3
    ("43% of reviews mention fit.", ["43%"]),
    ("Mean rating 4.3.", ["4.3"]),
    ("Expect 17 units and 1,234 in total.", ["17"]),
    ("Revenue 4 million.", ["4 million"]),
    ("Sales will grow 20% in week 3.", ["20%"]),  # 3 is a rating count; 20 is invented
])
def test_invented_numbers_are_flagged(answer: str, bad: list[str]) -> None:
    assert unsupported(answer) == bad


def test_invented_date_is_flagged() -> None:
    check = check_numbers("Sales peak on 2011-12-19.", [RESULT])
    assert check.unsupported_dates == ["2011-12-19"] and not check.ok
    assert "2011-12-19" in check.messages()[0]
    assert check_numbers("Sales start 2011-12-12.", [RESULT]).ok


def test_question_numbers_count_as_sources() -> None:
    assert unsupported("Here is the 8-week forecast: 12.3 units.", "Forecast 8 weeks", RESULT) == []
    assert unsupported("Here is the 8-week forecast.", RESULT) == ["8"]


def test_list_markers_ids_and_ordinals_are_exempt() -> None:
    answer = "Top picks:\n1. C1078 (3rd best)\n2) R22423\n- 85099B is 2x bigger"
    assert [m.text for m in extract_numbers(answer)] == []
    assert unsupported(answer, {}) == []
    # period labels are names, a number of periods is a number
    assert [m.text for m in extract_numbers("Week 1 sells 70, week 12 peaks; 3 weeks; month 2; week 1.5")] == \
        ["70", "3", "1.5"]


def test_extract_numbers_details() -> None:
    found = {m.text: m for m in extract_numbers("Sold 1,234.5 units, 12% up, -3 vs 80–95 band, .5 more")}
    assert found["1,234.5"].value == 1234.5 and found["1,234.5"].tolerance == pytest.approx(0.05)
    assert found["12%"].percent and found["12%"].value == 12
    assert found["-3"].value == -3
    assert "80" in found and "95" in found and found["95"].value == 95  # en dash range, not negative
    assert found[".5"].value == 0.5
    assert extract_dates("from 2024-01-01 to 2024-02-01T00:00:00") == ["2024-01-01", "2024-02-01"]


def test_sources_accept_numpy_pandas_and_nested_values() -> None:
    sources = [{"a": np.float64(3.14159), "b": [np.int64(7)], "c": pd.Timestamp("2024-03-04"),
                "d": float("nan"), "e": None, "f": True}]
    assert unsupported("pi is 3.14, there are 7, on 2024-03-04.", *sources) == []
    assert unsupported("It is 1.", *sources) == ["1"]  # True is not the number 1


def test_an_explicit_minus_sign_needs_a_negative_source() -> None:
    import numpy as np

    plan = {"excluded": [{"product_id": "R22197", "margin": 13381.51, "change": -0.052}]}
    assert unsupported("R22197 has a margin of -13381.51.", plan) == ["-13381.51"]  # the sign was made up
    assert unsupported("Its margin is 13381.51 and sales fall 5.2% (-5.2%, -0.052).", plan) == []
    assert unsupported("A loss of -120.5 and -3%.", {"loss": np.float64(-120.5)}, "trend -3% a week") == []
    assert unsupported("Returns were -7 units.", {"returns": np.int64(7)}) == ["-7"]



def test_a_percentage_needs_a_share_or_a_percent_like_source() -> None:
    # seen from the 1.5B: "with a 6198.5% forecast interval", 6198.5 being the interval's upper bound
    forecast = {"total_units": 828.0, "total_hi_80": 6198.5, "level": 80, "cv_mase": 1.68}
    assert unsupported("Interval to 6198.5 units (a 6198.5% interval).", forecast) == ["6198.5%"]
    assert unsupported("A 1.68% error.", forecast) == ["1.68%"]
    # a level, digits in a key name, a share, a *_pct field or the question's text may be written with %
    assert unsupported("The 80% interval ends at 6198.5.", forecast) == []
    assert unsupported("The 95% band.", {"hi_95": 10.0}) == []
    assert unsupported("12.5% of buyers; 40% of the shelf.", {"share_pct": 12.5, "knn_share": 0.4}) == []
    assert unsupported("A 20% lift.", {"units": 20.0}, "What if sales grow 20 in a month?") == []


def test_a_bare_zero_is_a_zero_not_dropped_decimals() -> None:
    assert unsupported("From 0 to 1439.7 units.", {"hi_80": 1439.7, "cv_mase": 0.63}) == ["0"]
    assert unsupported("From 0 to 1439.7 units.", {"hi_80": 1439.7, "lo_80": 0.0}) == []
    assert unsupported("From 0.0 to 1439.7 units.", {"hi_80": 1439.7, "lo_80": 0.04}) == []
    assert unsupported("Week 1: 5627 units.", {"units": 5627.6}) == []  # other numbers may drop decimals

def test_no_sources_flags_every_number() -> None:
    check = check_numbers("Buy 500 units at 9.99.", [])
    assert [m.text for m in check.unsupported] == ["500", "9.99"] and len(check.checked) == 2
    assert check_numbers("No numbers here.", []).ok


# ---------------------------------------------------------------- attribution across products
R1 = {"series": "R85123A", "horizon": 12, "total_units": 8441.4, "total_lo_80": 3153.0}
R2 = {"series": "R22423", "horizon": 12, "total_units": 3312.5, "total_lo_80": 2392.1}
BY_ID = {"R85123A": [R1], "R22423": [R2]}


@pytest.mark.parametrize("answer", [
    "R85123A sells 8441.4 units over 12 weeks, R22423 sells 3312.5.",
    "- R85123A: 8441.4 units (at least 3153.0)\n- R22423: 3312.5 units",
    "R85123A and R22423 sell 8441.4 and 3312.5 units respectively.",
    "R85123A (8441.4) outsells R22423 (3312.5) by 5128.9 units.",  # two ids in one clause: not judged
    "Over the next 12 weeks r85123a leads.",  # 12 is in both results
])
def test_numbers_beside_their_own_product_pass(answer: str) -> None:
    from assistant.numbers import check_attribution

    assert check_attribution(answer, BY_ID, ["Compare R85123A and R22423 over 12 weeks"]) == []


def test_a_number_beside_the_wrong_product_names_both() -> None:
    from assistant.numbers import check_attribution

    wrong = check_attribution("R85123A sells 3312.5 units, while R22423 sells 8441.4 units.", BY_ID)
    assert [(w.mention.text, w.entity, w.source) for w in wrong] == [("3312.5", "R85123A", "R22423"),
                                                                     ("8441.4", "R22423", "R85123A")]
    text = "The totals for R85123A and R22423 are 3312.5 and 8441.4 units respectively."
    wrong = check_attribution(text, BY_ID)
    assert [(w.entity, w.source) for w in wrong] == [("R85123A", "R22423"), ("R22423", "R85123A")]
    assert text[wrong[0].mention.start:wrong[0].mention.end] == "3312.5"
    assert check_attribution("R85123A sells 3312.5 units.", {"R85123A": [R1]}) == []  # one product: nothing to mix


def test_a_misattributed_number_comes_with_the_products_own_value_at_the_same_place() -> None:
    from assistant.numbers import check_attribution, counterpart, extract_numbers

    wrong = check_attribution("R85123A sells 3312.5 units, while R22423 sells 8441.4 units.", BY_ID)
    assert [(w.path, w.expected) for w in wrong] == [("total_units", 8441.4), ("total_units", 3312.5)]
    rows = {"forecast": [{"units": 70.0}, {"units": 69.0}]}
    theirs = {"forecast": [{"units": 276.0}, {"units": 281.5}]}
    assert counterpart(extract_numbers("281.5")[0], [theirs], [rows]) == ("forecast[1].units", 69.0)
    # the number sits in two places whose values differ for the other product: no single counterpart
    twice = {"total_units": 3312.5, "best_week": 3312.5}
    assert counterpart(extract_numbers("3312.5")[0], [twice], [{"total_units": 8441.4, "best_week": 900.0}]) is None
    assert counterpart(extract_numbers("3312.5")[0], [R2], [{"other": 1.0}]) is None  # nothing at that place
    assert counterpart(extract_numbers("12%")[0], [{"share": 0.12}], [{"share": 0.3}]) == ("share", 0.3)


def test_the_agent_flags_a_swapped_total() -> None:
    from fakes import ScriptedLLM, tool_call

    from assistant.agent import Agent
    from assistant.tools.registry import ToolRegistry, tool

    @tool
    def total(product_id: str) -> dict[str, object]:
        """Forecast total of a product."""
        return R1 if product_id == "R85123A" else R2

    swapped = "R85123A sells 3312.5 units; R22423 sells 8441.4 units."
    llm = ScriptedLLM([tool_call("total", product_id="R85123A"), tool_call("total", product_id="R22423"), swapped])
    res = Agent(llm, ToolRegistry([total]), revise=0).run("Compare R85123A and R22423.")
    assert [f.kind for f in res.flags] == ["misattributed_number", "misattributed_number"]
    assert res.flags[0].detail["entity"] == "R85123A" and res.flags[0].detail["source"] == "R22423"
    assert "comes from the result for R22423 (its total_units); R85123A's total_units is 8441.4" in res.flags[0].message
    assert res.flags[0].detail["expected"] == 8441.4 and res.flags[0].detail["path"] == "total_units"

    # by default the model is shown the two swapped totals once and its corrected answer replaces the first
    fixed = "R85123A sells 8441.4 units; R22423 sells 3312.5 units."
    llm = ScriptedLLM([tool_call("total", product_id="R85123A"), tool_call("total", product_id="R22423"), swapped,
                       fixed])
    res = Agent(llm, ToolRegistry([total])).run("Compare R85123A and R22423.")
    assert res.answer == fixed and [f.kind for f in res.flags] == ["answer_revised"]
    assert res.flags[0].detail["first_answer"] == swapped
    note = llm.calls[-1].messages[-1]["content"]
    assert "'3312.5' is written beside R85123A but comes from the result for R22423" in note
    assert ("- for R85123A: write 8441.4 (total_units) instead of 3312.5\n"
            "- for R22423: write 3312.5 (total_units) instead of 8441.4") in note


# ---------------------------------------------------------------- past sales written as a forecast
FORECAST = {"series": "R85123A", "total_units": 8441.4, "total_lo_80": 3153.0, "level": 80,
            "history": {"periods": 53, "last_period_units": 301.0, "units_last_12_periods": 3312.5,
                        "mean_units_last_12_periods": 276.0},
            "by_period": [{"period": "2011-12-12", "units": 702.1}]}


def _forecast_step() -> Any:
    from assistant.agent.result import AgentStep

    return AgentStep("forecast_demand", {"product_id": "R85123A", "horizon": 12}, result=FORECAST)


@pytest.mark.parametrize(("question", "answer", "bad"), [
    ("Forecast R85123A for 12 weeks", "R85123A will sell about 3312.5 units in the next 12 weeks.", ["3312.5"]),
    ("Compare the 12-week forecasts of R85123A and R22423", "R85123A: 3312.5 units", ["3312.5"]),  # question's cue
    ("How did R85123A do?", "R85123A is expected to sell 276 units a week.", ["276"]),
    # right: past words mark past sales, forecast numbers are forecasts, a number also in the forecast part passes
    ("Forecast R85123A for 12 weeks", "R85123A sold 3312.5 units in the last 12 weeks and will sell 8441.4.", []),
    ("Forecast R85123A for 12 weeks", "R85123A: 8441.4 units (at least 3153.0); its history has 53 weeks.", []),
    ("How did R85123A sell recently?", "R85123A: 3312.5 units, 276 a week.", []),  # the question is about the past
    ("Forecast R85123A", "The forecast starts at 702.1 units, against 301 in the final week before it.", []),
    ("Forecast R85123A", "R85123A has 53 weeks of history.", []),  # a row count, not sales
])
def test_past_sales_written_as_a_forecast_are_flagged(question: str, answer: str, bad: list[str]) -> None:
    from assistant.agent.checks import number_flags

    flags = number_flags(answer, question, [_forecast_step()])
    assert [f.detail["text"] for f in flags] == bad
    assert all(f.kind == "mislabelled_number" for f in flags)
    if bad:
        assert flags[0].detail["path"].startswith("history.")
        assert "reads as a forecast but is past sales" in flags[0].message
        if "a week" in answer:  # one week's sales: no single forecast number belongs there
            assert "expected" not in flags[0].detail
        else:
            assert "the forecast total (total_units) for R85123A is 8441.4" in flags[0].message


@pytest.mark.parametrize(("answer", "bad", "says"), [
    # a07, 1.5B: 69 is both the last week's sales and each week's naive forecast, never the 12 weeks' sales
    ("R85123A sold 301 units in the last 12 weeks.", ["301"], "reads as a total but is one period's past sales"),
    ("It sold 3312.5 units last week.", ["3312.5"], "reads as one period's sales but is a total"),
    # right: an average is one period's figure, a total over the history's span is a total
    ("R85123A averaged 276 units over the last 12 weeks.", [], ""),
    ("It sold 3312.5 units in the last 12 weeks, 301 in the final week.", [], ""),
    ("The most recent sales were 301 units, sold in the final week.", [], ""),  # a07: not a 12-week total
    ("The most recent sales were on Monday, with 301 units sold.", [], ""),  # the sentence says "most recent"
])
def test_one_periods_past_sales_written_as_a_span_total_are_flagged(answer: str, bad: list[str], says: str) -> None:
    from assistant.agent.checks import number_flags

    flags = number_flags(answer, "Forecast R85123A for 12 weeks and tell me how it sold recently", [_forecast_step()])
    assert [f.detail["text"] for f in flags] == bad and all(f.kind == "mislabelled_number" for f in flags)
    if bad:
        assert says in flags[0].message
        if "last 12 weeks" in answer:
            assert flags[0].detail["expected"] == 3312.5 and "history.units_last_12_periods" in flags[0].message


def test_a_number_that_is_both_last_weeks_sales_and_the_weekly_forecast_is_judged_by_both() -> None:
    from assistant.agent.checks import number_flags

    step = _forecast_step()
    step.result = {**FORECAST, "history": {**FORECAST["history"], "last_period_units": 69.0},  # type: ignore[dict-item]
                   "by_period": [{"period": "2011-12-12", "units": 69.0}]}
    question = "Forecast R85123A for 12 weeks and tell me how it sold recently"
    wrong = number_flags("The product sold 69 units in the last 12 weeks.", question, [step])
    assert [f.detail.get("expected") for f in wrong] == [3312.5]
    for right in ("It sold 69 units last week.", "It will sell 69 units a week."):
        assert number_flags(right, question, [step]) == []


@pytest.mark.parametrize(("question", "answer", "bad"), [  # the first three: real 1.5B answers
    ("How much will R85123A sell over the next 8 weeks?",
     "The forecasted total units for R85123A over the next 8 weeks is 702.1 units, with an interval of 0 to 1439.7.",
     ["702.1", "0", "1439.7"]),
    ("Compare the 12-week forecasts of R85123A and R22423", "R85123A: 702.1 units, 0.0 lo_80, 1439.7 hi_80",
     ["702.1", "0.0", "1439.7"]),
    ("Forecast R85123A for 12 weeks and tell me how it sold recently",
     "R85123A sold 702.1 units in the last 12 weeks.", ["702.1"]),
    # right: one period's number said as such, a total said as a total
    ("How much will R85123A sell over the next 8 weeks?", "R85123A will sell 8441.4 units in total, 702.1 in week 1.",
     []),
    ("What is the 12-week outlook for R85123A?", "It starts at 702.1 units a week, with a peak of 1439.7.", []),
    ("Should we reorder R85123A?", "Expect about 702.1 units next week (up to 1439.7).", []),  # no total asked for
])
def test_one_weeks_forecast_written_as_the_total_or_as_past_sales_is_flagged(question: str, answer: str,
                                                                             bad: list[str]) -> None:
    from assistant.agent.checks import number_flags

    step = _forecast_step()
    step.result = {**FORECAST, "by_period": [{"period": "2011-12-12", "units": 702.1, "lo_80": 0.0, "hi_80": 1439.7}]}
    flags = number_flags(answer, question, [step])
    assert [f.detail["text"] for f in flags] == bad and all(f.kind == "mislabelled_number" for f in flags)
    if bad:
        assert flags[0].detail["path"] == "by_period[0].units"
        assert ("reads as past sales but is a forecast" if "sold" in answer else "reads as a total but is one "
                "period's forecast: by_period[0].units in the result for R85123A; the forecast total (total_units) "
                "for R85123A is 8441.4") in flags[0].message
    if len(bad) == 3:  # an interval bound of week 1: its counterpart is the total's bound
        assert flags[1].message.endswith("the forecast total (total_lo_80) for R85123A is 3153.")


def test_the_agent_rewrites_past_sales_given_as_a_forecast() -> None:
    from fakes import ScriptedLLM, tool_call

    from assistant.agent import Agent
    from assistant.tools.registry import ToolRegistry, tool

    @tool
    def forecast_demand(product_id: str, horizon: int = 12) -> dict[str, object]:
        """Forecast a product's weekly demand."""
        return FORECAST

    wrong, fixed = "R85123A will sell 3312.5 units.", "R85123A will sell 8441.4 units over 12 weeks."
    llm = ScriptedLLM([tool_call("forecast_demand", product_id="R85123A"), wrong, fixed])
    res = Agent(llm, ToolRegistry([forecast_demand])).run("Forecast R85123A for 12 weeks")
    assert res.answer == fixed and [f.kind for f in res.flags] == ["answer_revised"]
    assert "'3312.5' reads as a forecast but is past sales: history.units_last_12_periods" in \
        llm.calls[-1].messages[-1]["content"]


@pytest.mark.parametrize(("answer", "bad"), [
    # a07, 1.5B: cv_mase is the forecast's error score
    ("The forecasted demand is expected to increase by 1.68 units per week.", ["1.68"]),
    ("R85123A costs 4.95, so 4.95 units is the break-even.", ["4.95"]),
    # right: counts, the question's number, a score not written as units, a number also held as units
    ("Expect 8441.4 units (error score 1.68).", []),
    ("Order 12 units a week.", []),  # the horizon argument
    ("About 3 units a day.", []),  # in the question
    ("Each sells 2.5 units.", []),  # 2.5 is both a price and a row's units
])
def test_a_score_or_price_written_as_units_is_flagged(answer: str, bad: list[str]) -> None:
    from assistant.agent.checks import number_flags
    from assistant.agent.result import AgentStep

    steps = [_forecast_step(), AgentStep("product_info", {"product_id": "R85123A"},
                                         result={"product_id": "R85123A", "price": 4.95, "unit_cost": 2.5,
                                                 "similar": [{"units": 2.5}]})]
    steps[0].result = {**FORECAST, "cv_mase": 1.68}
    flags = number_flags(answer, "Forecast R85123A for 12 weeks; can it sell 3 a day?", steps)
    assert [f.detail["text"] for f in flags] == bad and all(f.kind == "mislabelled_number" for f in flags)
    if bad:
        assert "is written as units but is" in flags[0].message and flags[0].detail["path"] in ("cv_mase", "price")


def test_numbers_only_in_review_text_count_only_where_the_answer_quotes_a_review() -> None:
    """A review that plants "99999 units" must not make that figure pass as a tool's number (red team M2)."""
    reviews = {"query": "fit", "product_id": "C9001", "n_reviews": 7, "reviews": [
        {"review_id": "W90002", "product_id": "C9001", "rating": 5.0,
         "text": "Great jacket. This jacket will sell 99999 units and has 4821 reviews. It lasted 3 winters."}]}
    planted = "C9001 will sell 99999 units, from 4821 reviews."
    assert [m.text for m in check_numbers(planted, [reviews]).unsupported] == ["99999", "4821"]
    quoted = ['One buyer says it "lasted 3 winters" [W90002].', "A reviewer wrote that it lasted 3 winters.",
              "According to one review, it lasted 3 winters."]
    for answer in quoted:
        assert check_numbers(answer, [reviews]).unsupported == [], answer
    assert check_numbers("There are 7 reviews.", [reviews]).unsupported == []  # tool fields still count
