"""Dates as people write them: ISO, numeric in one day/month order per column (with the choice said when
every value could be read either way), words ("4 March 2024"); time zones dropped, keeping local time."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from assistant.data.cells import is_na, to_str

_ZONE = re.compile(r"(\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d\d:?\d\d)$")  # a time's zone: 10:00+01:00
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?=$|[\sT])(.*)$")
_ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})(?:-?([1-7]))?\s*$", re.IGNORECASE)  # 2024-W05, 2024W05-1


def ambiguous_date(text: str) -> bool:
    """Whether ``text`` is a numeric date that reads as two different days (07/11/2011)."""
    m = _NUMERIC_DATE.match(text)
    return m is not None and int(m.group(1)) <= 12 and int(m.group(2)) <= 12 and int(m.group(1)) != int(m.group(2))


def _as_iso(matches: pd.Series, prefer_day_first: bool = False) -> tuple[pd.Series, str | None]:
    """Numeric dates (regex matches) as ISO text, all in the column's one order (see parse_dates; "" when
    the column mixes both orders, so every such value is reported), and a note when the order was a choice."""
    first = matches.map(lambda m: int(m.group(1)))
    second = matches.map(lambda m: int(m.group(2)))
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        return matches.map(lambda m: ""), None
    note = None
    if not (day_first or month_first) and bool((first != second).any()):  # every value reads either way
        fixed_first, fixed_second = first.nunique() == 1, second.nunique() == 1
        if fixed_first != fixed_second:
            day_first = fixed_first
            why = "the day is the part that never changes (monthly data)"
        else:
            day_first = prefer_day_first
            why = "the file is separated by semicolons" if prefer_day_first else "no value says otherwise"
        example = matches[first != second].iloc[0].group(0).strip()
        note = (f"dates such as {example!r} read {'day' if day_first else 'month'} first because {why}; "
                "write dates as YYYY-MM-DD to be sure")

    def iso(m: re.Match[str]) -> str:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        year = int(y) if len(y) == 4 else 2000 + int(y) if int(y) < 69 else 1900 + int(y)
        day, month = (a, b) if day_first else (b, a)
        return f"{year:04d}-{month:02d}-{day:02d}{m.group(4)}"

    return matches.map(iso), note


def _iso_week(m: re.Match[str]) -> str:
    """An ISO week (2024-W05, optionally with its weekday 1-7) as the ISO date of that day (Monday if none);
    "" for a week the year does not have (W54)."""
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)).isoformat()
    except ValueError:
        return ""


def parse_dates(s: pd.Series, *, day_first: bool = False, notes: list[str] | None = None,
                column: str = "") -> tuple[pd.Series, pd.Series]:
    """Return (datetime64[ns] values, NaT when missing; mask of non-missing values that are not dates).

    ISO dates are parsed vectorised. Numeric dates such as 04/03/2024 are read in ONE order for the whole
    column: day first when some value has a first number above 12 (18/03/2024), month first when some has a
    second one above 12; a column that has both (18/03/2024 and 03/18/2024) cannot be read and its numeric
    dates are reported. When every value could be read either way, the part that never changes is the day
    (monthly data dated 01/02/2009, 01/03/2009, ...), else ``day_first`` decides (a semicolon-separated file,
    as European Excel writes them), else month first; that choice is said in ``notes``. Anything else
    ("4 March 2024") is parsed per value, ISO weeks (2024-W05) as their Monday. Time zones are dropped, keeping
    the local date and time (a Berlin Monday stays a Monday).
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.Series(s)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)  # local wall time, not UTC
        return out.astype("datetime64[ns]"), pd.Series(False, index=s.index)
    na = is_na(s)
    txt = s.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else to_str(v)).where(~na, None)
    txt = txt.map(lambda v: _ZONE.sub(r"\1", v) if isinstance(v, str) else v)  # keep the local date and time
    out = pd.to_datetime(txt, errors="coerce", format="ISO8601", utc=True)
    retry = out.isna() & ~na
    if retry.any():
        numeric = txt[retry].map(lambda v: _NUMERIC_DATE.match(str(v)))
        has = numeric.notna()
        if has.any():
            iso, note = _as_iso(numeric[has], day_first)
            out.loc[numeric[has].index] = pd.to_datetime(iso, errors="coerce", format="ISO8601", utc=True)
            if note and notes is not None:
                notes.append(f"column {column!r}: {note}")
        rest = retry & ~txt.index.isin(numeric[has].index)
        weeks = txt[rest].map(lambda v: _ISO_WEEK.match(str(v)))
        if weeks.notna().any():
            weeks = weeks[weeks.notna()]
            out.loc[weeks.index] = pd.to_datetime(weeks.map(_iso_week), errors="coerce", format="ISO8601", utc=True)
            rest &= ~txt.index.isin(weeks.index)
            if notes is not None:
                notes.append(f"column {column!r}: ISO weeks such as {weeks.iloc[0].group(0).strip()!r} read as "
                             f"the Monday of the week ({_iso_week(weeks.iloc[0])}) unless a weekday is given")
        if rest.any():
            out.loc[rest] = pd.to_datetime(txt[rest], errors="coerce", format="mixed", utc=True)
    out = out.dt.tz_localize(None).astype("datetime64[ns]")
    bad = out.isna() & ~na
    return out, bad
