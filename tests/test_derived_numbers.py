"""Numbers an answer works out from the numbers it quotes are accepted only when the arithmetic is right."""

from __future__ import annotations

import pytest

from assistant.numbers import check_numbers

FORECAST = {"total_units": 828.0, "units_last_12_periods": 2029.0, "last_period_units": 69.0}
TWO = [{"series": "R85123A", "total_units": 8441.4}, {"series": "R22423", "total_units": 3312.5}]


@pytest.mark.parametrize(("answer", "sources", "how"), [
    ("It sold 69 units last week, 8.3% of the 828 forecast.", [FORECAST], "69 / 828 = 8.3%"),
    ("Last week's 69 units are 8% of the 828 forecast.", [FORECAST], "69 / 828 = 8%"),
    ("The forecast of 828 is 59.2% lower than the 2029 sold.", [FORECAST], "(2029 - 828) / 2029 = 59.2%"),
    ("R85123A (8441.4 units) sells 2.5 times as much as R22423 (3312.5).", TWO, "8441.4 / 3312.5 = 2.5"),
    ("R85123A sells 8441.4, 5128.9 more than R22423's 3312.5.", TWO, "8441.4 - 3312.5 = 5128.9"),
    ("Together they sell 11753.9 units (8441.4 and 3312.5).", TWO, "8441.4 + 3312.5 = 11753.9"),
])
def test_right_arithmetic_on_quoted_numbers_passes(answer: str, sources: list[object], how: str) -> None:
    check = check_numbers(answer, sources)
    assert check.ok, check.messages()
    assert [h for _, h in check.derived] == [how]


@pytest.mark.parametrize(("answer", "sources", "bad"), [
    # a07, 1.5B: 69 / 828 is 8.3%, not 8.2%
    ("The product sold 69 units, which is 8.2% of the 828 forecast.", [FORECAST], ["8.2%"]),
    ("R85123A sells 8441.4, 5000 more than R22423's 3312.5.", TWO, ["5000"]),
    # right arithmetic, but the sentence does not say it is a difference / sum / ratio
    ("R85123A sells 8441.4 and R22423 3312.5; expect 5128.9.", TWO, ["5128.9"]),
    # an operand must itself come from a source, and from the same sentence
    ("R85123A sells 9000, 5687.5 more than R22423's 3312.5.", TWO, ["9000", "5687.5"]),
    ("R85123A sells 8441.4. R22423 sells 3312.5. That is 5128.9 more.", TWO, ["5128.9"]),
])
def test_wrong_or_unannounced_arithmetic_is_flagged(answer: str, sources: list[object], bad: list[str]) -> None:
    assert [m.text for m in check_numbers(answer, sources).unsupported] == bad
