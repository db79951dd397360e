"""The eval/ and bench/ scripts end a user's mistake (a missing data path, the wrong file, a negative count,
an unknown model) in one ``error: ...`` line and exit code 2, never a traceback; and the shared helpers in
assistant/scripting.py that do it. Every script case fails before any model, index or dataset is loaded."""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from fixtures.scripts.load import load_script

from assistant.config import get_settings
from assistant.errors import ConfigError, ModelNotFoundError
from assistant.forecast.datasets import VISUELLE_COLUMNS
from assistant.scripting import (
    ScriptUsageError,
    describe,
    nonneg_int,
    positive_int,
    require_columns,
    require_dir,
    require_file,
    require_model,
    run_script,
)

REPO = Path(__file__).resolve().parent.parent
MISSING = "/nonexistent/merch-eval-data"


def _csv(path: Path, columns: list[str]) -> Path:
    path.write_text(",".join(columns) + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    env.pop("ASSISTANT_LLM_BACKEND", None)
    return subprocess.run([sys.executable, str(REPO / script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def _fails_cleanly(proc: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "error:" in proc.stderr
    for text in expected:
        assert text in proc.stderr, proc.stderr


# ----------------------------------------------------------------------------- the scripts


@pytest.mark.parametrize(("script", "option"), [
    ("eval/recommend_retail.py", "--data"),
    ("eval/sentiment_clothing.py", "--data"),
    ("eval/forecast_retail_newproducts.py", "--data"),
    ("eval/forecast_visuelle.py", "--train"),
    ("eval/summarize_opinosis.py", None),
    ("eval/qa_subjqa.py", None),
    ("eval/tool_calls.py", None),
    ("bench/plan_bench.py", "--data"),
    ("bench/forecast_bench.py", "--retail"),
    ("bench/index_bench.py", "--data"),
    ("bench/sentiment_bench.py", "--data"),
])
def test_a_missing_data_path_is_one_line(tmp_path: Path, script: str, option: str | None) -> None:
    proc = _run(tmp_path, script, *([option] if option else []), MISSING)
    _fails_cleanly(proc, f"error: {MISSING} not found; pass ", "(default ")


def test_a_folder_without_the_dataset_file_names_the_file(tmp_path: Path) -> None:
    _fails_cleanly(_run(tmp_path, "bench/plan_bench.py", "--data", str(tmp_path)),
                   f"{tmp_path} has no online_retail.csv.gz")


def test_the_wrong_file_names_the_missing_column_and_the_dataset(tmp_path: Path) -> None:
    retail = _csv(tmp_path / "retail.csv", ["InvoiceNo", "StockCode", "Description", "Quantity"])
    _fails_cleanly(_run(tmp_path, "eval/sentiment_clothing.py", "--data", str(retail)),
                   "has no columns 'Clothing ID'", "(is this the Women's Clothing Reviews CSV?)")
    _fails_cleanly(_run(tmp_path, "eval/forecast_visuelle.py", "--train", str(retail)),
                   f"{retail} has no columns 'external_code'", "VISUELLE")


def test_visuelle_trends_file_must_exist(tmp_path: Path) -> None:
    train = _csv(tmp_path / "train.csv", list(VISUELLE_COLUMNS))
    _fails_cleanly(_run(tmp_path, "eval/forecast_visuelle.py", "--train", str(train), "--trends", MISSING),
                   f"{MISSING} not found; pass --trends")


@pytest.mark.parametrize("script", ["eval/tool_calls.py", "eval/agent_answers.py", "eval/summarize_opinosis.py",
                                    "eval/qa_subjqa.py"])
def test_a_negative_limit_is_refused(tmp_path: Path, script: str) -> None:
    _fails_cleanly(_run(tmp_path, script, "--limit", "-1"), "argument --limit: must be 0 or more, got -1")


def test_an_unknown_model_fails_before_any_work(tmp_path: Path) -> None:
    _fails_cleanly(_run(tmp_path, "eval/tool_calls.py", "--models", "nosuchmodel"), "Unknown model 'nosuchmodel'")
    subjqa = _csv(tmp_path / "electronics_test.csv",
                  ["item_id", "q_reviews_id", "question", "review_id", "review", "human_ans_spans"])
    _fails_cleanly(_run(tmp_path, "eval/qa_subjqa.py", str(subjqa), "--model", "nosuchmodel"),  # before the index
                   "Unknown model 'nosuchmodel'")


def test_help_shows_the_whole_docstring_and_the_helper_module_says_what_it_is(tmp_path: Path) -> None:
    proc = _run(tmp_path, "eval/tool_calls.py", "--help")
    assert proc.returncode == 0 and "schema-valid" in proc.stdout  # from the docstring's last paragraphs
    proc = _run(tmp_path, "eval/eval_questions.py")
    assert proc.returncode == 0 and "helper module" in proc.stdout and "tool_questions.jsonl" in proc.stdout


def _api_load() -> ModuleType:
    return load_script("bench/api_load.py")


def test_api_load_removes_the_server_log_unless_the_server_failed(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _api_load()
    idle = [sys.executable, "-c", "import time; time.sleep(60)"]
    proc = bench.start_server(None, None, 0, cmd=idle)
    log = Path(bench.LOGS[proc.pid])
    assert log.is_file()
    bench.stop_server(proc)
    assert not log.exists()
    proc = bench.start_server(None, None, 0, cmd=idle)
    log = Path(bench.LOGS[proc.pid])
    bench.stop_server(proc, keep_log=True)
    assert log.is_file() and f"server log kept: {log}" in capsys.readouterr().err
    log.unlink()


# ----------------------------------------------------------------------------- assistant/scripting.py


def test_count_types() -> None:
    assert nonneg_int("0") == 0 and positive_int("3") == 3
    for fn, bad in ((nonneg_int, "-1"), (positive_int, "0"), (positive_int, "two")):
        with pytest.raises(argparse.ArgumentTypeError):
            fn(bad)
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=nonneg_int)
    with pytest.raises(SystemExit) as exc:
        ap.parse_args(["--limit", "-5"])
    assert exc.value.code == 2


def test_require_file_and_dir(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "data.csv", ["a"])
    assert require_file(csv, "the data CSV") == csv
    assert require_file(tmp_path, "the data CSV", name="data.csv") == csv
    with pytest.raises(ScriptUsageError, match=r"^/nonexistent/x not found; pass --data CSV$"):
        require_file("/nonexistent/x", "the data CSV", "pass --data CSV")
    with pytest.raises(ScriptUsageError, match=r"has no other\.csv \(the data CSV\)"):
        require_file(tmp_path, "the data CSV", name="other.csv")
    with pytest.raises(ScriptUsageError, match=r"is a folder, not the data CSV"):
        require_file(tmp_path, "the data CSV")
    assert require_dir(tmp_path, "the data folder") == tmp_path
    with pytest.raises(ScriptUsageError, match=r"is a file, not the data folder; pass DIR"):
        require_dir(csv, "the data folder", "pass DIR")
    with pytest.raises(ScriptUsageError, match=r"not found"):
        require_dir(tmp_path / "absent", "the data folder")


def test_require_columns_reads_only_the_header(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "data.csv", ["a", "b"])
    require_columns(csv, ["a", "b"], "the data CSV")
    with pytest.raises(ScriptUsageError, match=r"data\.csv has no column 'c' \(is this the data CSV\?\)$"):
        require_columns(csv, ["a", "c"], "the data CSV")
    with pytest.raises(ScriptUsageError, match=r"has no columns 'c', 'd', 'e' \(and 1 more\)"):
        require_columns(csv, ["c", "d", "e", "f"], "the data CSV")
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress(b"x,y\n1,2\n"))
    require_columns(gz, ["x", "y"], "the data CSV")
    binary = tmp_path / "data.pdf"
    binary.write_bytes(b"%PDF-1.4\n\xb5\xb5\xb5\x00\xff\n")
    with pytest.raises(ScriptUsageError, match=r"cannot be read as CSV .*; is this the data CSV\?"):
        require_columns(binary, ["x"], "the data CSV")
    with pytest.raises(ScriptUsageError, match=r"^f\.csv has no column 'z'"):
        require_columns(pd.DataFrame({"x": [1]}), ["z"], "the data CSV", path="f.csv")


def _exit_of(main: object) -> int:
    with pytest.raises(SystemExit) as exc:
        run_script(main)  # type: ignore[arg-type]
    return int(exc.value.code or 0)


def test_run_script_turns_user_errors_into_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_of(lambda: None) == 0 and _exit_of(lambda: 3) == 3

    def project_error() -> None:
        raise ConfigError("Bad setting: fix ASSISTANT_X.")

    def missing_file() -> None:
        (tmp_path / "absent.csv").read_text()

    def wrong_csv() -> None:
        pd.read_csv(_csv(tmp_path / "w.csv", ["a"]), parse_dates=["InvoiceDate"])

    def script_exit() -> None:
        raise SystemExit("questions.jsonl, line 3: not valid JSON")

    for main, message in ((project_error, "error: Bad setting: fix ASSISTANT_X.\n"),
                          (missing_file, f"error: {tmp_path / 'absent.csv'} not found\n"),
                          (wrong_csv, "InvoiceDate"),
                          (script_exit, "error: questions.jsonl, line 3: not valid JSON\n")):
        assert _exit_of(main) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_run_script_keeps_the_traceback_of_a_bug() -> None:
    def bug() -> None:
        raise KeyError("internal")

    def usage() -> None:
        argparse.ArgumentParser().parse_args(["--bogus"])

    with pytest.raises(KeyError):
        run_script(bug)
    assert _exit_of(usage) == 2  # argparse's own exit (usage + message) passes through
    assert describe(ValueError("could not convert string to float: 'x'")) is None
    assert describe(IsADirectoryError(21, "Is a directory", "/tmp")) == "/tmp is a folder, not a file"


def test_require_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "llamacpp")
    get_settings.cache_clear()
    with pytest.raises(ModelNotFoundError, match="Unknown model 'nosuchmodel'. Known models: "):
        require_model("nosuchmodel")
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "openai")  # the server decides which names exist
    get_settings.cache_clear()
    assert require_model("served-model") == "served-model"
    assert require_model(None) == get_settings().llm_model
