"""Excel workbooks load like their CSV export: typed cells (dates, numbers) kept, Excel row numbers in
errors, blank rows skipped, other sheets named; old spreadsheet formats and corrupt files get a hint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from assistant.data.loaders import load_table
from assistant.data.schema import ColumnMap
from assistant.errors import DataValidationError


def book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


WEEK = dt.datetime(2024, 1, 1)


def test_sales_sheet_keeps_typed_cells_and_excel_row_numbers(tmp_path: Path) -> None:
    rows: list[list[object]] = [["SKU", "Week", "Units"]]
    rows += [[10001, WEEK + dt.timedelta(weeks=i), 5 + i] for i in range(4)]
    rows += [[None, None, None], ["A-7", "03/04/2024", "lots"]]  # a blank row, then a bad one on row 7
    path = book(tmp_path / "sales.xlsx", {"Sales": rows, "Notes": [["exported by the ERP"]], "Empty": []})
    cmap = ColumnMap.from_pairs(["SKU=unique_id", "Week=ds", "Units=y"])
    with pytest.raises(DataValidationError) as exc:
        load_table(path, "sales", column_map=cmap)
    assert [(p.line, p.column) for p in exc.value.problems] == [(7, "Units")]

    res = load_table(path, "sales", column_map=cmap, skip_bad_rows=True, rejects_path=tmp_path / "rej.csv")
    assert (res.loaded, res.rejected) == (4, 1)
    df = res.frame
    assert set(df["unique_id"]) == {"10001"}  # a number cell used as an id: no "10001.0"
    assert [str(d.date()) for d in df["ds"]] == ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
    assert df["y"].tolist() == [5.0, 6.0, 7.0, 8.0]
    assert any("read sheet 'Sales'" in w and "'Notes'" in w and "'Empty'" not in w for w in res.warnings)
    assert "A-7,03/04/2024,lots,7,Units" in (tmp_path / "rej.csv").read_text()  # the row as it was


def test_products_sheet_with_a_header_below_blank_rows(tmp_path: Path) -> None:
    path = book(tmp_path / "p.xlsx", {"Catalog": [[], ["product_id", "title", "price", "launch_date", None],
                                                  ["X1", "Blue mug", 4.5, dt.datetime(2024, 2, 5), None]]})
    res = load_table(path, "products")
    row = res.frame.iloc[0]
    assert (row["product_id"], row["title"], row["price"], str(row["launch_date"].date())) == \
        ("X1", "Blue mug", 4.5, "2024-02-05")
    assert not res.warnings


def test_stray_cells_and_unreadable_workbooks(tmp_path: Path) -> None:
    path = book(tmp_path / "p.xlsx", {"S": [["product_id", "title"], ["X1", "Mug", "oops"]]})
    with pytest.raises(DataValidationError, match=r"row 2: 1 value\(s\) right of the last named column \('oops'\)"):
        load_table(path, "products")
    with pytest.raises(DataValidationError, match="is empty"):
        load_table(book(tmp_path / "e.xlsx", {"S": [[None]]}), "products")
    (tmp_path / "bad.xlsx").write_text("not a zip")
    with pytest.raises(DataValidationError, match="not a readable Excel workbook.*save it again as .xlsx"):
        load_table(tmp_path / "bad.xlsx", "products")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataValidationError, match=r"'\.xls'\. Open it in its spreadsheet program and save it as "
                                                  r"\.xlsx or as CSV UTF-8"):
        load_table(tmp_path / "old.xls", "products")
