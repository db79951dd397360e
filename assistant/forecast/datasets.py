"""Adapters for the public datasets used by the forecast evals and benches (Online Retail, VISUELLE,
US retail sales). Each returns canonical long-format frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assistant.errors import DataValidationError

VISUELLE_WEEKS = [str(i) for i in range(12)]
VISUELLE_COLUMNS = ("external_code", "season", "category", "release_date", "color", "fabric", *VISUELLE_WEEKS)


def load_online_retail(path: str | Path) -> pd.DataFrame:
    """Clean Online Retail sale lines: Quantity > 0, UnitPrice > 0, 5-digit StockCode (products only)."""
    dtypes: dict[str, str] = {"InvoiceNo": "str", "StockCode": "str", "CustomerID": "Int64"}
    df = pd.read_csv(path, dtype=dtypes,
                     parse_dates=["InvoiceDate"])
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0) & df["StockCode"].str.match(r"^\d{5}")]
    df = df[~df["InvoiceNo"].str.startswith(("C", "A"))].copy()
    df["StockCode"] = df["StockCode"].str.upper()
    df["Description"] = df["Description"].fillna("").str.strip()
    return df


def retail_weekly(lines: pd.DataFrame, freq: str = "W-MON") -> pd.DataFrame:
    """Weekly units per product (unique_id = "R<StockCode>", ds = week start Monday), from first sale to
    the last full week of the data, zeros where a product did not sell."""
    week = lines["InvoiceDate"].dt.to_period(freq.replace("W-MON", "W-SUN")).dt.start_time
    w: pd.DataFrame = lines.assign(ds=week).groupby(["StockCode", "ds"], as_index=False)[["Quantity"]].sum()
    w = w.rename(columns={"StockCode": "unique_id", "Quantity": "y"})
    w["unique_id"] = "R" + w["unique_id"]
    w["y"] = w["y"].astype(float)
    last_full = week.max() - pd.Timedelta(days=7) if lines["InvoiceDate"].max().dayofweek < 6 else week.max()
    w = w[w["ds"] <= last_full]
    from utilsforecast.preprocessing import fill_gaps

    full = fill_gaps(w, freq=freq, start="per_serie", end=last_full)
    full["y"] = full["y"].fillna(0.0)
    return full.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def retail_products(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per product: product_id, title (most common description), price (median), launch_date."""
    g = lines.groupby("StockCode")
    out = pd.DataFrame({
        "title": g["Description"].agg(lambda s: s[s != ""].mode().iloc[0] if (s != "").any() else ""),
        "price": g["UnitPrice"].median(),
        "launch_date": g["InvoiceDate"].min(),
    }).reset_index()
    out["product_id"] = "R" + out.pop("StockCode")
    return out[["product_id", "title", "price", "launch_date"]]


def load_visuelle(path: str | Path) -> pd.DataFrame:
    """VISUELLE train/test csv: checks the columns, parses release_date, weeks "0".."11" as float."""
    df = pd.read_csv(path)
    missing = [c for c in VISUELLE_COLUMNS if c not in df.columns]
    if missing:
        raise DataValidationError(f"{path}: not a VISUELLE file; missing columns {missing}.")
    df["release_date"] = pd.to_datetime(df["release_date"])
    df[VISUELLE_WEEKS] = df[VISUELLE_WEEKS].astype(float)
    df["external_code"] = df["external_code"].astype(str)
    for c in ("season", "category", "color", "fabric"):
        df[c] = df[c].fillna("").astype(str)
    return df


def load_us_retail(path: str | Path) -> pd.DataFrame:
    """Prophet's monthly US retail sales example as one series ``us_retail``."""
    df = pd.read_csv(path, parse_dates=["ds"])
    return pd.DataFrame({"unique_id": "us_retail", "ds": df["ds"], "y": df["y"].astype(float)})
