"""Validation and preparation of long-format sales series (``unique_id, ds, y`` + optional exogenous
columns): frequency inference, duplicates, gaps, negative values, too-short series. Every error says
how to fix the input (which option to pass, or which rows to change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from assistant.data.dates import parse_dates
from assistant.errors import DataValidationError, ForecastError, RowProblem

FillGaps = Literal["error", "zero"]
Duplicates = Literal["error", "sum"]
OnShort = Literal["error", "naive", "drop"]

# Default seasonal period per pandas frequency prefix.
_SEASON = {"W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "D": 7, "B": 5, "h": 24, "H": 24}


@dataclass
class PreparedSales:
    """Validated, regular, sorted series ready for statsforecast."""

    df: pd.DataFrame  # unique_id (str), ds (Timestamp), y (float) + exogenous columns
    freq: str
    season_length: int
    exog: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fixes applied (filled gaps, summed duplicates, ...)
    short: list[str] = field(default_factory=list)  # ids routed to the simple model (on_short="naive")


def season_length_for(freq: str) -> int:
    """Seasonal period implied by a pandas frequency alias ("W-MON" -> 52, "MS" -> 12, "D" -> 7)."""
    base = freq.split("-")[0]
    base = base.lstrip("0123456789") or base
    return _SEASON.get(base, _SEASON.get(base.upper(), 1))


def infer_freq(df: pd.DataFrame) -> str:
    """Infer the frequency from the longest series (pandas), falling back to the most common step."""
    lengths = df.groupby("unique_id", sort=False)["ds"].size().sort_values(ascending=False)
    for uid in lengths.index[:5]:
        ds = df.loc[df["unique_id"] == uid, "ds"].sort_values()
        if len(ds) >= 3:
            freq = pd.infer_freq(pd.DatetimeIndex(ds))
            if freq:
                return str(freq)
    steps = df.sort_values(["unique_id", "ds"]).groupby("unique_id")["ds"].diff().dropna()
    if steps.empty:
        raise ForecastError(
            "Cannot infer the frequency: every series has a single date. Pass freq explicitly "
            "(e.g. freq='W-MON' for weekly, 'MS' for monthly, 'D' for daily)."
        )
    days = steps.dt.days.mode().iloc[0]
    first = df["ds"].min()
    if days == 7:
        return f"W-{first.day_name()[:3].upper()}"
    if days == 1:
        return "D"
    if 28 <= days <= 31:
        return "MS" if first.day == 1 else "ME"
    if 89 <= days <= 92:
        return "QS" if first.day == 1 else "QE"
    raise ForecastError(
        f"Cannot infer the frequency (most common step: {days} days). Pass freq explicitly, "
        "e.g. 'W-MON', 'MS', 'D'."
    )


def _check_columns(sales: pd.DataFrame, source: str) -> None:
    missing = [c for c in ("unique_id", "ds", "y") if c not in sales.columns]
    if missing:
        raise DataValidationError(
            f"{source}: sales data needs columns unique_id, ds, y; missing {missing} (found "
            f"{list(sales.columns)[:12]}). Rename your columns, e.g. --map 'StockCode=unique_id'."
        )


def _parse(sales: pd.DataFrame, source: str) -> pd.DataFrame:
    df = sales.copy()
    df["unique_id"] = df["unique_id"].astype(str)
    problems: list[RowProblem] = []
    ds, _ = parse_dates(df["ds"])  # one day/month order for the whole column
    y = pd.to_numeric(df["y"], errors="coerce")
    for col, parsed, expected in (("ds", ds, "a date such as 2024-01-29"), ("y", y, "a number")):
        bad = parsed.isna() & df[col].notna() | df[col].isna()
        for pos in np.flatnonzero(bad.to_numpy())[:50]:
            problems.append(RowProblem(source, int(pos) + 2, col, df[col].iloc[pos], expected))
    if problems:
        raise DataValidationError(
            f"{source}: {len(problems)} bad value(s) in the sales data (line numbers count the header "
            "as line 1). Fix or remove these rows.",
            problems,
        )
    df["ds"] = ds
    df["y"] = y.astype(float)
    return df


def prepare_sales(
    sales: pd.DataFrame,
    *,
    freq: str | None = None,
    fill_gaps: FillGaps = "error",
    duplicates: Duplicates = "error",
    clip_negative: bool = False,
    min_length: int = 4,
    on_short: OnShort = "error",
    source: str = "<sales>",
) -> PreparedSales:
    """Validate ``sales`` and return regular series. Raises DataValidationError / ForecastError with a
    message that names the bad series or rows and the option that fixes them."""
    _check_columns(sales, source)
    if sales.empty:
        raise DataValidationError(f"{source}: the sales data is empty; give at least one row per period.")
    df = _parse(sales, source)
    exog = [c for c in df.columns if c not in ("unique_id", "ds", "y") and pd.api.types.is_numeric_dtype(df[c])]
    df = df[["unique_id", "ds", "y", *exog]]
    notes: list[str] = []

    dup = df.duplicated(["unique_id", "ds"], keep=False)
    if dup.any():
        if duplicates != "sum":
            first = df[dup].iloc[0]
            raise DataValidationError(
                f"{source}: {int(dup.sum())} rows share a (unique_id, ds) pair, e.g. series "
                f"{first['unique_id']!r} on {first['ds'].date()}. Pass duplicates='sum' (CLI --sum-duplicates) "
                "to add them up, or aggregate the file to one row per series and period."
            )
        agg = {"y": "sum", **{c: "mean" for c in exog}}
        df = df.groupby(["unique_id", "ds"], as_index=False, sort=False).agg(agg)
        notes.append(f"summed {int(dup.sum())} duplicate rows")

    neg = df["y"] < 0
    if neg.any():
        if not clip_negative:
            first = df[neg].iloc[0]
            raise DataValidationError(
                f"{source}: {int(neg.sum())} negative sales values (returns?), e.g. series "
                f"{first['unique_id']!r} on {first['ds'].date()}: {first['y']}. Pass clip_negative=True "
                "(CLI --clip-negative) to set them to 0, or net returns against sales before forecasting."
            )
        df.loc[neg, "y"] = 0.0
        notes.append(f"clipped {int(neg.sum())} negative values to 0")

    df = df.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    freq = freq or infer_freq(df)
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError as exc:
        raise ForecastError(f"Unknown frequency {freq!r}; use a pandas alias such as 'W-MON', 'MS', 'D'.") from exc
    bad_dates = [d for d in df["ds"].unique() if not offset.is_on_offset(pd.Timestamp(d))]
    off_grid = df["ds"].isin(bad_dates)
    if off_grid.any():
        first = df[off_grid].iloc[0]
        raise DataValidationError(
            f"{source}: {int(off_grid.sum())} dates are not on the {freq!r} grid, e.g. "
            f"{first['ds'].date()} in series {first['unique_id']!r}. Pass the right freq (weekly data dated "
            "on Sundays is 'W-SUN') or aggregate the dates to period starts."
        )

    df = _handle_gaps(df, freq, fill_gaps, source, notes)

    sizes = df.groupby("unique_id", sort=False)["y"].size()
    short_ids = sizes[sizes < min_length].index.tolist()
    if short_ids:
        if on_short == "error":
            raise ForecastError(
                f"{len(short_ids)} series are too short: e.g. {short_ids[0]!r} has {int(sizes[short_ids[0]])} "
                f"observation(s); the models need at least {min_length}. Pass on_short='naive' (CLI --short naive) "
                "to forecast them with a simple model (Naive / HistoricAverage, which need 1 point), "
                "on_short='drop' to skip them, or models=['Naive']."
            )
        if on_short == "drop":
            df = df[~df["unique_id"].isin(short_ids)].reset_index(drop=True)
            notes.append(f"dropped {len(short_ids)} series shorter than {min_length}")
            short_ids = []
            if df.empty:
                raise ForecastError(f"Every series is shorter than {min_length} observations; nothing to forecast.")
        else:
            notes.append(f"{len(short_ids)} series shorter than {min_length} forecast with Naive")
    return PreparedSales(df, freq, season_length_for(freq), exog, notes, short_ids)


def _handle_gaps(df: pd.DataFrame, freq: str, fill_gaps: FillGaps, source: str, notes: list[str]) -> pd.DataFrame:
    g = df.groupby("unique_id", sort=False)["ds"]
    start, end, count = g.min(), g.max(), g.size()
    expected = pd.Series(
        [len(pd.date_range(s, e, freq=freq)) for s, e in zip(start, end, strict=True)], index=start.index
    )
    gappy = expected[expected > count].index
    if len(gappy) == 0:
        return df
    if fill_gaps != "zero":
        uid = gappy[0]
        have = set(df.loc[df["unique_id"] == uid, "ds"])
        missing = next(d for d in pd.date_range(start[uid], end[uid], freq=freq) if d not in have)
        raise DataValidationError(
            f"{source}: {len(gappy)} series have missing periods, e.g. {uid!r} has no row for "
            f"{missing.date()} ({int(expected[uid] - count[uid])} missing). Pass fill_gaps='zero' "
            "(CLI --fill-gaps) if a missing period means no sales, or add the rows."
        )
    from utilsforecast.preprocessing import fill_gaps as _fill

    out = _fill(df, freq=freq, start="per_serie", end="per_serie")
    out = out.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    out["y"] = out["y"].fillna(0.0)
    exog = [c for c in df.columns if c not in ("unique_id", "ds", "y")]
    if exog:
        out[exog] = out.groupby("unique_id")[exog].ffill().fillna(0.0)
    notes.append(f"filled {int((expected - count).sum())} missing periods with 0 in {len(gappy)} series")
    return out
