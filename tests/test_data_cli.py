"""`assistant ingest` and `assistant demo load` through typer's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import common
from assistant.cli.main import app
from assistant.config import get_settings
from assistant.data.catalog import Catalog

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns under CliRunner; widen so paths and messages stay on one line."""
    monkeypatch.setattr(common.console, "width", 400)
    monkeypatch.setattr(common.err_console, "width", 400)


def test_ingest_products_json(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("sku,name,Colour\nA1,Mug,red\nA2,Bag,blue\n")
    res = runner.invoke(app, ["ingest", "products", str(path), "--map", "sku=product_id", "--map", "name=title",
                              "--map", "Colour=attr.color", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["loaded"], out["rejected"], out["encoding"], out["written"]) == (2, 0, "utf-8", 2)
    assert out["catalog_counts"]["products"] == 2
    with Catalog.open(get_settings()) as cat:
        assert cat.products(["A1"]).iloc[0]["attributes"] == {"color": "red"}


def test_ingest_bad_file_exits_2_with_location(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("review_id,product_id,rating,text\nr1,P1,5,Good\nr2,P1,9,Bad rating\n")
    res = runner.invoke(app, ["ingest", "reviews", str(path)])
    assert res.exit_code == 2
    assert f"{path}, line 3, column 'rating'" in res.output and "rating from 1 to 5" in res.output
    assert "Traceback" not in res.output
    with Catalog.open(get_settings()) as cat:
        assert cat.counts()["reviews"] == 0  # nothing loaded from a failing file
    res = runner.invoke(app, ["ingest", "reviews", str(path), "--json"])  # a script parsing stdout reads why
    err = json.loads(res.stdout)
    assert res.exit_code == 2 and err["type"] == "DataValidationError" and "--skip-bad-rows" in err["error"]
    assert err["problems"] == [{"file": str(path), "line": 3, "column": "rating", "value": "9",
                                "expected": "a rating from 1 to 5 (or empty)"}]


def test_ingest_skip_bad_rows_reports_counts(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes("review_id,product_id,rating,text\nr1,P1,5,Tr\xe8s bien\nr2,P1,9,Bad\n".encode("latin-1"))
    rejects = tmp_path / "rejects.csv"
    res = runner.invoke(app, ["ingest", "reviews", str(path), "--skip-bad-rows", "--rejects", str(rejects)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert re.search(r"loaded\W+1 rows", text) and re.search(r"rejected\W+1 rows", text)
    assert "cp1252 (fallback" in text and "not valid UTF-8" in text
    assert str(rejects) in text and rejects.is_file()
    assert "1 product ids not in the catalog" in text


def test_ingest_missing_columns_suggests_map(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("sku,week,units\nA,2024-01-01,3\n")
    res = runner.invoke(app, ["ingest", "sales", str(path)])
    assert res.exit_code == 2 and "--map" in res.output and "sku, week, units" in res.output


def test_demo_load(isolated_home: Path) -> None:
    res = runner.invoke(app, ["demo", "load", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["written"]["products"] == out["catalog_counts"]["products"] > 200
    assert out["catalog"] == str(isolated_home / "store" / "catalog.sqlite")
