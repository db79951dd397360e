"""Short loopback load test: the API in its own process (fixture store, scripted model), 20 concurrent
/v1/search clients + 3 concurrent /v1/ask clients for ~8 s from this process; no request may fail.
(bench/api_load.py runs the full 60 s version against `assistant serve` on the demo store.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("api_load", REPO / "bench" / "api_load.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_loopback_load_has_no_errors(tmp_path: Path) -> None:
    bench: object = _bench()
    port = bench.free_port()  # type: ignore[attr-defined]
    server = REPO / "tests" / "fixtures" / "frontends" / "serve_fixture.py"
    proc = bench.start_server(None, None, port,  # type: ignore[attr-defined]
                              cmd=[sys.executable, str(server), str(tmp_path), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        bench.wait_ready(url, proc, timeout=90)  # type: ignore[attr-defined]
        res = bench.run_load(url, duration=8, search_clients=20, ask_clients=3)  # type: ignore[attr-defined]
    finally:
        proc.terminate()
        proc.wait(10)
    assert res["search"]["requests"] > 20 and res["ask"]["requests"] >= 3
    assert res["search"]["errors"] == 0, res["search"]["codes"]
    assert res["ask"]["errors"] == 0, res["ask"]["codes"]
