"""Excel workbooks (.xlsx / .xlsm) read like a CSV export of their first sheet that holds data.

Cells keep the types Excel stored (numbers, dates), so a date cell needs no day/month guess and a number no
decimal-separator guess; text cells are read like CSV values. Row numbers are Excel's own (header = the first
non-blank row), so a bad value is reported at the row a user sees in Excel.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from assistant.data.cells import clean_header
from assistant.errors import DataValidationError, require

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
OLD_SPREADSHEETS = {".xls", ".ods", ".numbers"}


@dataclass
class Sheet:
    """One sheet's header, data rows (cells as Excel stored them; blank = None) and their row numbers."""

    header: list[str]
    rows: list[list[Any]]
    lines: list[int]
    warnings: list[str] = field(default_factory=list)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _cell(v: Any) -> Any:
    """Excel's date cells come back as datetimes; midnight ones are dates (so they read as YYYY-MM-DD)."""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return v


def read_sheet(data: bytes, source: str) -> Sheet:
    """The first sheet with data in the workbook; other sheets with data are named in a warning."""
    openpyxl = require("openpyxl")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile / XML errors of several types for a corrupt or mislabelled file
        raise DataValidationError(f"{source}: not a readable Excel workbook ({type(exc).__name__}: {exc}). Open it "
                                  "in Excel and save it again as .xlsx, or export the sheet as CSV UTF-8.") from exc
    try:
        found: Sheet | None = None
        used: str = ""
        others: list[str] = []
        for ws in book.worksheets:
            if found is not None:
                if any(not _blank(v) for row in ws.iter_rows(values_only=True) for v in row):
                    others.append(ws.title)
                continue
            found = _rows(ws.iter_rows(values_only=True), source, ws.title)
            used = ws.title
        if found is None:
            raise DataValidationError(f"{source} is empty: no sheet has a header line with column names.")
        if others:
            found.warnings.append(f"{source}: read sheet {used!r}; sheet(s) {', '.join(map(repr, others))} were "
                                  "left out. Save each sheet as its own file to load it.")
        return found
    finally:
        book.close()


def _rows(cells: Any, source: str, title: str) -> Sheet | None:
    header: list[str] | None = None
    rows: list[list[Any]] = []
    lines: list[int] = []
    for n, rec in enumerate(cells, start=1):
        rec = list(rec)
        if all(_blank(v) for v in rec):
            continue
        if header is None:
            while rec and _blank(rec[-1]):  # formatting can stretch a sheet's width past its last column
                rec.pop()
            header = clean_header(["" if v is None else str(v) for v in rec], f"{source} (sheet {title!r})", n)
            continue
        values = [_cell(v) for v in rec]
        extra = [v for v in values[len(header):] if not _blank(v)]
        if extra:
            raise DataValidationError(
                f"{source} (sheet {title!r}), row {n}: {len(extra)} value(s) right of the last named column "
                f"({extra[0]!r}). Give that column a header or delete the stray cells.")
        rows.append((values + [None] * len(header))[: len(header)])
        lines.append(n)
    return None if header is None else Sheet(header, rows, lines)
