"""Batch copy runner: resumable JSONL, per-item failures recorded (never abort), retry of failed items,
torn-line recovery, cancel, background jobs; and the `assistant copy batch` command end to end."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fakes import ScriptedLLM
from typer.testing import CliRunner

from assistant.batch import BatchProgress, JobManager, done_ids, is_flagged, read_results, run_batch


def _products(n: int) -> list[dict[str, Any]]:
    return [{"product_id": f"P{i}", "title": f"Product {i}"} for i in range(n)]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_resume_skips_done_and_retries_failed(tmp_path: Path) -> None:
    out = tmp_path / "drafts.jsonl"
    calls: list[str] = []

    def flaky(p: dict[str, Any]) -> dict[str, Any]:
        calls.append(p["product_id"])
        if p["product_id"] == "P2":
            raise RuntimeError("model crashed")
        return {"variants": [{"title": p["title"], "flags": []}]}

    prog = run_batch(_products(4), flaky, out, concurrency=2)
    assert (prog.done, prog.failed, prog.skipped) == (3, 1, 0)
    recs = {r["product_id"]: r for r in _lines(out)}
    assert recs["P2"]["status"] == "failed" and "model crashed" in recs["P2"]["error"]
    assert recs["P0"]["status"] == "ok" and recs["P0"]["variants"][0]["title"] == "Product 0"

    calls.clear()
    prog = run_batch(_products(5), lambda p: {"variants": [{"title": "x", "flags": []}]}, out)
    assert sorted(calls) == [] and (prog.done, prog.skipped, prog.failed) == (2, 3, 0)  # P2 retried, P4 new
    assert done_ids(out) == {f"P{i}" for i in range(5)}
    assert read_results(out)["P2"]["status"] == "ok"  # last record wins


def test_torn_last_line_is_redone(tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    out.write_text(json.dumps({"product_id": "P0", "status": "ok", "variants": []}) + "\n" + '{"product_id": "P1", "sta')
    prog = run_batch(_products(2), lambda p: {"variants": []}, out)
    assert prog.skipped == 1 and prog.done == 1
    assert [r["product_id"] for r in _lines_tolerant(out)] == ["P0", "P1"]


def _lines_tolerant(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def test_flagged_counted_and_cancel_stops_early(tmp_path: Path) -> None:
    assert is_flagged({"variants": [{"flags": [{"claim": "waterproof"}]}]})
    assert not is_flagged({"variants": [{"flags": []}]})
    cancel = threading.Event()

    def fn(p: dict[str, Any]) -> dict[str, Any]:
        if p["product_id"] == "P1":
            cancel.set()
        return {"variants": [{"flags": [{"claim": "x"}] if p["product_id"] == "P0" else []}]}

    prog = run_batch(_products(10), fn, tmp_path / "o.jsonl", cancel=cancel)
    assert prog.done == 2 and prog.flagged == 1
    assert len(_lines(tmp_path / "o.jsonl")) == 2


def test_job_manager_runs_and_cancels() -> None:
    jobs = JobManager()
    gate = threading.Event()

    def slow(p: dict[str, Any]) -> dict[str, Any]:
        gate.wait(5)
        return {"variants": []}

    job = jobs.start(_products(5), slow)
    assert jobs.get(job.id) is job
    while job.status == "queued":
        time.sleep(0.01)
    assert jobs.cancel(job.id).status == "cancelling"  # the product being written finishes first
    assert jobs.cancel(job.id).status == "cancelling"  # asking twice changes nothing
    gate.set()
    job.thread.join(5)  # type: ignore[union-attr]
    summary = job.summary()
    assert job.status == "cancelled" and summary["done"] == 1 and summary["cancelled"] == 4
    # one record per product: those never started say so
    assert sorted(r["status"] for r in job.results) == ["cancelled"] * 4 + ["ok"]
    assert len({r["product_id"] for r in job.results}) == 5
    elapsed = summary["elapsed_s"]
    time.sleep(0.05)
    assert job.summary()["elapsed_s"] == elapsed  # frozen once the job has stopped
    assert jobs.cancel(job.id).status == "cancelled"
    with pytest.raises(KeyError):
        jobs.get("nope")
    done = jobs.start(_products(2), lambda p: {"variants": []})
    done.thread.join(5)  # type: ignore[union-attr]
    assert done.summary()["done"] == 2 and done.status == "done" and done.summary()["cancelled"] == 0
    assert jobs.cancel(done.id).status == "done"


def test_progress_counts() -> None:
    p = BatchProgress(total=3, skipped=1, done=1, failed=1)
    assert p.finished == 3 and p.as_dict()["elapsed_s"] >= 0


COPY_JSON = json.dumps({"title": "Ceramic mug", "description": "A stoneware mug that holds 350 ml.",
                        "bullets": ["350 ml"], "seo_keywords": ["mug"]})


def test_cli_copy_batch_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.llm as llm_mod
    from assistant.cli.main import app

    calls: list[str] = []

    def reply(messages: list[Any], tools: Any, schema: Any) -> str:
        calls.append("x")
        if any("Broken thing" in str(m.get("content")) for m in messages):
            return "not json at all"
        return COPY_JSON

    monkeypatch.setattr(llm_mod, "get_llm", lambda *a, **k: ScriptedLLM([reply], repeat_last=True))
    catalog = tmp_path / "catalog.csv"
    pd.DataFrame([
        {"product_id": "N1", "title": "Ceramic mug", "category": "Kitchen", "attributes": '{"capacity": "350 ml"}'},
        {"product_id": "N2", "title": "Broken thing", "category": "Kitchen", "attributes": "{}"},
        {"product_id": "N3", "title": "Tea towel", "category": "Kitchen", "attributes": '{"material": "cotton"}'},
        {"product_id": "", "title": "no id", "category": "", "attributes": "{}"},
    ]).to_csv(catalog, index=False)
    out = tmp_path / "drafts.jsonl"
    runner = CliRunner()
    t0 = time.time()
    res = runner.invoke(app, ["copy", "batch", str(catalog), "--out", str(out), "--tone", "premium", "--length", "40"])
    assert res.exit_code == 0, res.output
    assert time.time() - t0 < 60
    recs = read_results(out)
    assert set(recs) == {"N1", "N2", "N3"}
    assert recs["N1"]["status"] in ("ok", "flagged") and recs["N1"]["variants"][0]["title"] == "Ceramic mug"
    assert recs["N1"]["variants"][0]["tone"] == "premium"
    # bad model output for one product is recorded in that product's record, the batch went on
    assert recs["N2"]["variants"][0].get("error") or recs["N2"]["status"] == "failed"
    assert "products/min" in res.output and "flagged by the spec guard" in res.output
    n_calls = len(calls)
    res = runner.invoke(app, ["copy", "batch", str(catalog), "--out", str(out)])
    assert res.exit_code == 0 and len(calls) == n_calls  # everything already done: no model call
    # the row without an id is reported with where it went; --json gives the same counts to scripts
    assert "1 row(s) of" in res.output and "are not valid products" in res.output
    res = runner.invoke(app, ["copy", "batch", str(catalog), "--out", str(out), "--json"])
    summary = json.loads(res.stdout)
    assert res.exit_code == 0 and summary["skipped"] == 3 and summary["rejected"] == 1
    assert summary["rejects_path"].endswith(".rejects.csv") and Path(summary["rejects_path"]).is_file()
