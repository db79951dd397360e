"""Numbers as spreadsheets write them: one decimal separator per column, chosen from the values that can only
be read one way, else from the file's delimiter; mixed columns report the odd values instead of guessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assistant.data.loaders import load_table
from assistant.data.numformat import clean_number_text, read_number_texts
from assistant.errors import DataValidationError


@pytest.mark.parametrize(("texts", "decimal_comma", "want", "european"), [
    (["1,234.50", "12.5", "3"], False, [1234.5, 12.5, 3.0], False),
    (["1.234,50", "12,5", "3"], False, [1234.5, 12.5, 3.0], True),
    (["1.104", "975", "2.310"], True, [1104.0, 975.0, 2310.0], True),  # semicolon file: thousands
    (["1.104", "975", "2.310"], False, [1.104, 975.0, 2.31], False),  # comma file: decimals
    (["1,104", "975"], False, [1104.0, 975.0], False),
    (["€7", "12,50 €", "EUR 3,5", "1 234,5"], False, [7.0, 12.5, 3.5, 1234.5], True),
    (["$12.50", "USD 3", "1 234.5"], False, [12.5, 3.0, 1234.5], False),
    (["12.5", "12.5", "3,25"], False, [12.5, 12.5, np.nan], False),  # the odd one out is reported
    (["15%", "abc", "1,23,456"], False, [np.nan, np.nan, np.nan], False),
])
def test_number_columns(texts: list[str], decimal_comma: bool, want: list[float], european: bool) -> None:
    values, note = read_number_texts(pd.Series(texts), decimal_comma=decimal_comma)
    np.testing.assert_allclose(values.to_numpy(), np.array(want), equal_nan=True)
    assert (note is not None) == european


def test_clean_number_text() -> None:
    assert clean_number_text(" $ 1,299.00 ") == "1,299.00" and clean_number_text("12,50\u00a0€") == "12,50"
    assert clean_number_text("1\u202f234,5") == "1234,5" and clean_number_text("USD 5") == "5"


def test_a_semicolon_export_reads_thousands_and_decimal_commas(tmp_path: Path) -> None:
    """An ERP export from a German Excel: 1.104 units is eleven hundred and four, not 1.104 (was read
    silently as 1.104, and its forecast fell from 2,869 to 1,812 units)."""
    path = tmp_path / "sales.csv"
    path.write_text("unique_id;ds;y\nA;2011-01-03;1.104\nA;2011-01-10;975\nA;2011-01-17;2.310\n", encoding="utf-8")
    res = load_table(path, "sales")
    assert res.frame["y"].tolist() == [1104.0, 975.0, 2310.0]
    assert any("decimal comma" in w and "semicolons" in w for w in res.warnings)
    prices = tmp_path / "products.csv"
    prices.write_text("product_id;title;price\nP1;Lamp;1.299,00\nP2;Mug;12,50 €\nP3;Jar;3\n", encoding="utf-8")
    assert load_table(prices, "products").frame["price"].tolist() == [1299.0, 12.5, 3.0]


def test_an_english_file_is_unchanged_and_a_mixed_column_names_its_odd_lines(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text('product_id,title,price\nP1,Lamp,"1,299.00"\nP2,Mug,$12.50\nP3,Jar,0.5\n', encoding="utf-8")
    res = load_table(path, "products")
    assert res.frame["price"].tolist() == [1299.0, 12.5, 0.5] and not res.warnings
    path.write_text('product_id,title,price\nP1,Lamp,12.5\nP2,Mug,3.75\nP3,Jar,"2,5"\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_table(path, "products")
    assert [(p.line, p.column) for p in err.value.problems] == [(4, "price")]
