"""Dates as people write them: one day/month order per column, the choice said when every value reads both
ways (monthly data dated on the 1st is read day first), time zones dropped keeping the local day."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from assistant.data.dates import ambiguous_date, parse_dates
from assistant.data.loaders import load_table


def _read(values: list[str], day_first: bool = False) -> tuple[list[str], list[str]]:
    notes: list[str] = []
    out, bad = parse_dates(pd.Series(values), day_first=day_first, notes=notes, column="ds")
    assert not bad.any()
    return out.dt.strftime("%Y-%m-%d %H:%M").tolist(), notes


@pytest.mark.parametrize(("values", "day_first", "want", "said"), [
    (["01/02/2009", "01/03/2009"], False, ["2009-02-01", "2009-03-01"], "day first"),  # monthly, 1st (was 2 Jan)
    (["02/01/2009", "03/01/2009"], False, ["2009-02-01", "2009-03-01"], "month first"),  # US monthly
    (["01/06/2011", "05/07/2011"], False, ["2011-01-06", "2011-05-07"], "month first"),
    (["01/06/2011", "05/07/2011"], True, ["2011-06-01", "2011-07-05"], "semicolons"),
    (["18/03/2024", "04/03/2024"], False, ["2024-03-18", "2024-03-04"], None),  # 18: day first, no choice
    (["2024-03-04", "2024-03-11"], False, ["2024-03-04", "2024-03-11"], None),
])
def test_day_month_order(values: list[str], day_first: bool, want: list[str], said: str | None) -> None:
    got, notes = _read(values, day_first)
    assert [g[:10] for g in got] == want
    assert (said in notes[0]) if said else not notes


def test_time_zones_keep_the_local_day_and_time() -> None:
    got, _ = _read(["2011-06-06T00:30:00+02:00", "2011-06-06 23:30-05:00", "2011-06-06T10:00Z", "01-06-2011"])
    assert got == ["2011-06-06 00:30", "2011-06-06 23:30", "2011-06-06 10:00", "2011-01-06 00:00"]
    aware = pd.Series(pd.to_datetime(["2011-06-06 00:30"]).tz_localize("Europe/Berlin"))
    assert parse_dates(aware)[0].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2011-06-06 00:30"]  # still Monday


def test_a_semicolon_file_reads_day_first_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("review_id;product_id;text;date\nr1;P1;Schön;01/06/2011\nr2;P1;Gut;05/07/2011\n", encoding="utf-8")
    res = load_table(path, "reviews")
    assert res.frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2011-06-01", "2011-07-05"]
    assert any("day first" in w for w in res.warnings)


def test_an_ambiguous_launch_date_is_refused(tmp_path: Path) -> None:
    from assistant.cli.main import app

    assert ambiguous_date("07/11/2011") and not ambiguous_date("18/11/2011") and not ambiguous_date("2011-07-11")
    res = CliRunner().invoke(app, ["forecast", "new-product", "--title", "Star lamp", "--launch", "07/11/2011"])
    assert res.exit_code == 2 and "YYYY-MM-DD" in " ".join(res.output.split())


def test_iso_weeks_read_as_their_monday_or_given_weekday() -> None:
    notes: list[str] = []
    out, bad = parse_dates(pd.Series(["2024-W01", "2024W02", "2024-w03-5", "2024-W53", "2020-W53"]), notes=notes,
                           column="week")
    assert [None if pd.isna(d) else str(d.date()) for d in out] == \
        ["2024-01-01", "2024-01-08", "2024-01-19", None, "2020-12-28"]
    assert bad.tolist() == [False, False, False, True, False]  # 2024 has no week 53
    assert notes == ["column 'week': ISO weeks such as '2024-W01' read as the Monday of the week (2024-01-01) "
                     "unless a weekday is given"]
