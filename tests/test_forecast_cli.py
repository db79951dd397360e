"""`assistant forecast demand|new-product` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from assistant.cli.main import app

FIX = Path(__file__).parent / "fixtures" / "forecast"
runner = CliRunner()


def test_demand_json_out_and_plot(tmp_path: Path) -> None:
    out, png = tmp_path / "fc.csv", tmp_path / "fc.png"
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(FIX / "weekly_sales.csv"), "--h", "5",
                              "--level", "80", "--level", "95", "--freq", "W-MON", "--out", str(out),
                              "--plot", str(png), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["n_series"] == 4 and summary["h"] == 5 and summary["levels"] == [80, 95]
    table = pd.read_csv(out)
    assert len(table) == 20 and {"yhat_lo_95", "yhat_hi_80", "model"} <= set(table.columns)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_demand_by_category_table_output() -> None:
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(FIX / "weekly_sales.csv"), "--h", "3",
                              "--by", "category", "--products", str(FIX / "categories.csv")])
    assert res.exit_code == 0, res.output
    assert "Toys" in res.output and "models used" in res.output


def test_demand_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    sales = pd.read_csv(FIX / "weekly_sales.csv").drop(index=[3, 4])
    path = tmp_path / "gappy.csv"
    sales.to_csv(path, index=False)
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "3"])
    assert res.exit_code == 2
    assert "--fill-gaps" in res.output or "fill_gaps" in res.output
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "3", "--fill-gaps", "--json"])
    assert res.exit_code == 0, res.output


def test_new_product_from_history_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    prods, sales = [], []
    for i in range(30):
        cat = ["candle", "mug", "lamp"][i % 3]
        base = {"candle": 30, "mug": 10, "lamp": 3}[cat]
        start = pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=i)
        prods.append({"product_id": f"P{i}", "title": f"{cat} {['red', 'blue'][i % 2]}", "category": cat,
                      "price": 2.5, "launch_date": start.date()})
        for w in range(10):
            sales.append({"unique_id": f"P{i}", "ds": (start + pd.Timedelta(weeks=w)).date(),
                          "y": float(rng.poisson(base))})
    pd.DataFrame(prods).to_csv(tmp_path / "products.csv", index=False)
    pd.DataFrame(sales).to_csv(tmp_path / "sales.csv", index=False)
    model = tmp_path / "np.joblib"
    args = ["forecast", "new-product", "--title", "candle red", "--category", "candle", "--price", "2.5",
            "--launch", "2024-02-05", "--weeks", "6", "--history-products", str(tmp_path / "products.csv"),
            "--history-sales", str(tmp_path / "sales.csv"), "--no-text", "--json", "--model", str(model), "--save"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["yhat"]) == 6 and out["total_lo"] <= out["total"] <= out["total_hi"]
    assert 0.3 * 30 * 6 < out["total"] < 2 * 30 * 6
    assert model.is_file()
    again = runner.invoke(app, ["forecast", "new-product", "--title", "candle red", "--category", "candle",
                                "--price", "2.5", "--launch", "2024-02-05", "--weeks", "6", "--model", str(model),
                                "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["yhat"] == out["yhat"]
    missing = runner.invoke(app, ["forecast", "new-product", "--title", "x"])
    assert missing.exit_code == 2 and "--history-products" in missing.output
