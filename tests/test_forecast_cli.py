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


def test_demand_by_category_reads_products_files_like_ingest(tmp_path: Path) -> None:
    """A Windows-1252, semicolon-separated products export with its own header spelling (was a traceback)."""
    cats = pd.read_csv(FIX / "categories.csv")
    path = tmp_path / "products.csv"
    text = "Product_ID;Titel – Name;Department\n" + "".join(
        f"{p};Jouet “{p}”;{c}\n" for p, c in zip(cats["product_id"], cats["category"], strict=True))
    path.write_bytes(text.encode("cp1252"))
    args = ["forecast", "demand", "--sales", str(FIX / "weekly_sales.csv"), "--h", "3", "--by", "category",
            "--products", str(path), "--json"]
    res = runner.invoke(app, args)
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "missing category" in said and "--products-map" in said
    assert "Traceback" not in said and "Titel – Name" in said  # decoded as Windows-1252
    res = runner.invoke(app, [*args, "--products-map", "Department=category"])
    assert res.exit_code == 0, res.output
    assert {s["unique_id"] for s in json.loads(res.stdout)["series"]} == set(cats["category"])


def test_demand_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    sales = pd.read_csv(FIX / "weekly_sales.csv").drop(index=[3, 4])
    path = tmp_path / "gappy.csv"
    sales.to_csv(path, index=False)
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "3"])
    assert res.exit_code == 2
    assert "--fill-gaps" in res.output or "fill_gaps" in res.output
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "3", "--fill-gaps", "--json"])
    assert res.exit_code == 0, res.output


def _history(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """30 past launches (candles sell 30 a week, mugs 10, lamps 3) written to products.csv / sales.csv."""
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
    return pd.DataFrame(prods), pd.DataFrame(sales)


def test_new_product_from_history_files(tmp_path: Path) -> None:
    _history(tmp_path)
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
    early = runner.invoke(app, ["forecast", "new-product", "--title", "candle red", "--category", "candle",
                                "--launch", "2020-01-06", "--weeks", "6", "--model", str(model)])
    assert early.exit_code == 0, early.output
    assert "note: No past launch is earlier than 2020-01-06" in " ".join(early.output.split())
    missing = runner.invoke(app, ["forecast", "new-product", "--title", "x"])
    assert missing.exit_code == 2 and "--history-products" in missing.output


def test_new_product_history_files_take_column_maps_and_can_skip_bad_rows(tmp_path: Path) -> None:
    """The history files load like `assistant ingest`: their own column names through --products-map /
    --sales-map (hints name those options, not --map), bad rows left out and counted with --skip-bad-rows."""
    prods, sales = _history(tmp_path)
    prods.rename(columns={"product_id": "SKU", "title": "Name"}).to_csv(tmp_path / "p.csv", index=False)
    theirs = sales.rename(columns={"unique_id": "SKU", "ds": "Week", "y": "Units"}).astype({"Units": object})
    theirs.loc[3, "Units"] = "lots"
    theirs.to_csv(tmp_path / "s.csv", index=False)
    base = ["forecast", "new-product", "--title", "candle red", "--category", "candle", "--launch", "2024-02-05",
            "--weeks", "6", "--no-text", "--history-products", str(tmp_path / "p.csv"),
            "--history-sales", str(tmp_path / "s.csv")]
    unmapped = runner.invoke(app, base)
    assert unmapped.exit_code == 2 and "--products-map 'SKU=product_id'" in unmapped.output, unmapped.output
    maps = ["--products-map", "SKU=product_id", "--products-map", "Name=title", "--sales-map", "SKU=unique_id",
            "--sales-map", "Week=ds", "--sales-map", "Units=y"]
    bad = runner.invoke(app, base + maps)
    assert bad.exit_code == 2 and "line 5, column 'Units'" in " ".join(bad.output.split())
    res = runner.invoke(app, base + maps + ["--skip-bad-rows", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert 0.3 * 30 * 6 < out["total"] < 2 * 30 * 6
    assert any("left out 1 bad rows" in n for n in out["notes"])


def test_new_product_bad_input_exits_2_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    good_p, good_s = tmp_path / "p.csv", tmp_path / "s.csv"
    good_p.write_text("product_id,title,category\nP1,mug,Kitchen\n")
    good_s.write_text("unique_id,ds,y\nP1,2024-01-01,3\n")
    bad_y, no_id, empty = tmp_path / "bad_y.csv", tmp_path / "no_id.csv", tmp_path / "empty.csv"
    bad_y.write_text("unique_id,ds,y\nP1,2024-01-01,three\n")
    no_id.write_text("title,category\nmug,Kitchen\n")
    empty.write_text("")
    base = ["forecast", "new-product", "--title", "mug"]
    cases = [
        (["--history-products", str(good_p), "--history-sales", str(bad_y)], "line 2"),
        (["--history-products", str(no_id), "--history-sales", str(good_s)], "product_id"),
        (["--history-products", str(good_p), "--history-sales", str(empty)], "empty"),
        (["--history-products", str(tmp_path / "nope.csv"), "--history-sales", str(good_s)], "does not exist"),
        (["--history-products", str(good_p), "--history-sales", str(good_s), "--weeks", "0"], "--weeks"),
        (["--history-products", str(good_p), "--history-sales", str(good_s), "--price", "-5"], "--price"),
    ]
    for extra, says in cases:
        res = runner.invoke(app, base + extra)
        assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit), res.output
        assert res.exit_code == 2 and says in res.output, (extra, res.output)


def test_demand_refuses_unknown_model_and_mode() -> None:
    for extra, says in ((["--model", "Bogus"], "Unknown model(s) 'Bogus'"), (["--mode", "turbo"], "mode must be"),
                        (["--select-by", "xyz"], "select_by")):
        res = runner.invoke(app, ["forecast", "demand", "--sales", str(FIX / "weekly_sales.csv"), "--h", "3", *extra])
        assert res.exit_code == 2 and says in res.output, res.output


def test_demand_takes_column_maps_and_can_skip_bad_rows(tmp_path: Path) -> None:
    sales = pd.read_csv(FIX / "weekly_sales.csv").rename(columns={"unique_id": "sku", "ds": "week", "y": "units"})
    path = tmp_path / "export.csv"
    sales.to_csv(path, index=False)
    mapped = ["--map", "sku=unique_id", "--map", "week=ds", "--map", "units=y"]
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "2", "--json"])
    assert res.exit_code == 2 and "--map" in res.output  # the hint names an option this command has
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "2", "--json", *mapped])
    assert res.exit_code == 0 and json.loads(res.stdout)["n_series"] == 4, res.output
    sales["units"] = sales["units"].astype(object)
    sales.loc[len(sales) - 1, "units"] = "n/a"  # the last row of a series: no gap when left out
    sales.to_csv(path, index=False)
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "2", *mapped])
    assert res.exit_code == 2 and "--skip-bad-rows" in res.output
    res = runner.invoke(app, ["forecast", "demand", "--sales", str(path), "--h", "2", "--json", "--skip-bad-rows",
                              *mapped])
    assert res.exit_code == 0, res.output
    notes = json.loads(res.stdout)["notes"]  # the row left out is said, with where it went
    assert notes[0].startswith(f"loaded {len(sales) - 1} rows of {path}; left out 1 bad rows (written to ")
