"""Load test of the HTTP API from a second process over loopback.

Starts `assistant serve` on 127.0.0.1 (or uses --url), then runs, for --duration seconds,
--search-clients concurrent clients looping on POST /v1/search and --ask-clients concurrent clients
looping on POST /v1/ask. Prints per endpoint: requests, errors, throughput, p50/p95/max latency, plus
an idle baseline (one client, /v1/search, before the load) and the ratio p50 under load / idle.

    .venv/bin/python bench/api_load.py                               # demo store, smollm2 for /v1/ask
    .venv/bin/python bench/api_load.py --duration 60 --model qwen2.5-coder-0.5b
    .venv/bin/python bench/api_load.py --url http://127.0.0.1:8000 --token T

The server gets ASSISTANT_API_RATE_LIMIT_PER_MINUTE=10000000 so the limiter does not shape the load
(a 429 would be counted as an error)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from assistant.scripting import nonneg_int, positive_int, require_model, run_script  # noqa: E402

LOGS: dict[int, str] = {}  # server pid -> log file
QUERIES = ["runs small", "soft fabric", "too short", "great gift", "zipper broke", "true to size", "itchy wool",
           "lovely colour", "cheap material", "fits perfectly", "mug", "lantern", "cotton dress", "pockets"]
QUESTIONS = ["What do buyers say about the fit of dresses?", "Which products have complaints about the fabric?",
             "Is the heart lantern popular?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path | None, model: str | None, port: int, cmd: list[str] | None = None,
                 max_tokens: int | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ASSISTANT_API_RATE_LIMIT_PER_MINUTE="10000000", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_WAIT_POLICY="PASSIVE")
    if max_tokens:
        env["ASSISTANT_LLM_MAX_TOKENS"] = str(max_tokens)
    if home:
        env["ASSISTANT_HOME"] = str(home)
    if model:
        env["ASSISTANT_LLM_MODEL"] = model
    cmd = cmd or [sys.executable, "-m", "assistant.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
                  "--log-level", "warning"]
    log = tempfile.NamedTemporaryFile(prefix=f"serve-{port}-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the server writes to its own copy of the handle
    LOGS[proc.pid] = log.name
    return proc


def stop_server(proc: subprocess.Popen[bytes], *, keep_log: bool = False) -> None:
    """Stop a server started by ``start_server`` and delete its log file; with ``keep_log`` (the server
    failed) the log stays and its path is printed on stderr."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log = LOGS.pop(proc.pid, None)
    if log and keep_log:
        print(f"server log kept: {log}", file=sys.stderr)
    elif log:
        Path(log).unlink(missing_ok=True)


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            log = Path(LOGS.get(proc.pid, "/dev/null")).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log}")
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server at {url} not ready after {timeout} s")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    vs = sorted(values)
    return vs[min(len(vs) - 1, int(round(q / 100 * (len(vs) - 1))))]


async def _worker(client: Any, kind: str, stop_at: float, stats: dict[str, Any], rnd: random.Random) -> None:
    while time.perf_counter() < stop_at:
        if kind == "search":
            path, body = "/v1/search", {"query": rnd.choice(QUERIES), "k": 10}
        else:
            path, body = "/v1/ask", {"question": rnd.choice(QUESTIONS)}
        t0 = time.perf_counter()
        try:
            r = await client.post(path, json=body)
            ok = r.status_code == 200
            if not ok:
                stats["codes"][r.status_code] = stats["codes"].get(r.status_code, 0) + 1
        except Exception as exc:  # noqa: BLE001 - counted as an error
            ok = False
            stats["codes"][type(exc).__name__] = stats["codes"].get(type(exc).__name__, 0) + 1
        end = time.perf_counter()
        stats["lat"].append(end - t0)
        stats["in_window"] += end <= stop_at
        stats["errors"] += 0 if ok else 1


async def _load(url: str, token: str | None, duration: float, search_clients: int, ask_clients: int,
                seed: int = 0) -> dict[str, dict[str, Any]]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=search_clients + ask_clients + 4)
    stats: dict[str, dict[str, Any]] = {k: {"lat": [], "errors": 0, "codes": {}, "in_window": 0}
                                        for k in ("search", "ask")}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600, limits=limits) as client:
        t0 = time.perf_counter()
        stop_at = t0 + duration
        tasks = [_worker(client, "search", stop_at, stats["search"], random.Random(seed + i))
                 for i in range(search_clients)]
        tasks += [_worker(client, "ask", stop_at, stats["ask"], random.Random(seed + 1000 + i))
                  for i in range(ask_clients)]
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
    out = {}
    for kind, st in stats.items():
        lat = st["lat"]
        # throughput: requests completed inside the load window; latency: every completed request
        out[kind] = {"requests": len(lat), "errors": st["errors"], "codes": st["codes"], "wall_s": wall,
                     "after_window": len(lat) - st["in_window"],
                     "throughput_rps": st["in_window"] / duration, "p50_ms": 1000 * pct(lat, 50),
                     "p95_ms": 1000 * pct(lat, 95), "max_ms": 1000 * max(lat) if lat else float("nan")}
    return out


def run_load(url: str, *, duration: float = 60, search_clients: int = 50, ask_clients: int = 5,
             token: str | None = None) -> dict[str, dict[str, Any]]:
    """Run the mixed load against ``url``; per-endpoint stats (requests, errors, throughput, p50/p95)."""
    return asyncio.run(_load(url, token, duration, search_clients, ask_clients))


def baseline(url: str, token: str | None, seconds: float = 5.0) -> dict[str, Any]:
    """One client, sequential /v1/search: the idle latency the loaded figures are compared with."""
    return run_load(url, duration=seconds, search_clients=1, ask_clients=0, token=token)["search"]


def ensure_demo_home(home: Path, max_reviews: int | None = None) -> None:
    """A store with the demo data and its index. The full demo index (`assistant demo setup`) embeds
    ~13k reviews; ``max_reviews`` indexes only the first N reviews (all products) to save time."""
    if (home / "index").is_dir() and any((home / "index").iterdir()):
        return
    env = dict(os.environ, ASSISTANT_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if max_reviews is None:
        print(f"building the demo store in {home} (assistant demo setup)…", flush=True)
        subprocess.run([sys.executable, "-m", "assistant.cli.main", "demo", "setup"], cwd=REPO, env=env, check=True)
        return
    print(f"building the demo store in {home} (index: all products + {max_reviews} reviews)…", flush=True)
    code = ("from assistant.config import get_settings as g; from assistant.data.catalog import Catalog; "
            "from assistant.data.demo import load_demo; from assistant.index.embedder import get_embedder; "
            "from assistant.index.hybrid import HybridIndex; s = g(); c = Catalog.open(s); "
            "c.is_empty() and load_demo(c); "
            f"HybridIndex.build(s.current_index(), c.products(), c.reviews().head({int(max_reviews)}), "
            "get_embedder(s), s.index_type)")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an already running server (default: start `assistant serve`)")
    ap.add_argument("--token")
    ap.add_argument("--home", type=Path, default=Path(os.environ.get("ASSISTANT_HOME", "/tmp/merch-bench-home")),
                    help="store folder of the started server, built with the demo data if it has no index "
                         "(default: $ASSISTANT_HOME or %(default)s)")
    ap.add_argument("--model", default="smollm2-135m", help="LLM for /v1/ask on the started server")
    ap.add_argument("--max-reviews", type=positive_int, default=None,
                    help="index only the first N demo reviews when building the bench store (default: all)")
    ap.add_argument("--max-tokens", type=positive_int, default=160,
                    help="ASSISTANT_LLM_MAX_TOKENS of the started server")
    ap.add_argument("--duration", type=float, default=60, help="seconds of load")
    ap.add_argument("--search-clients", type=nonneg_int, default=50)
    ap.add_argument("--ask-clients", type=nonneg_int, default=5)
    args = ap.parse_args()
    if not args.duration > 0:
        ap.error(f"argument --duration: must be more than 0, got {args.duration:g}")

    proc = None
    url = args.url
    if not url:
        require_model(args.model)  # before the demo store is built
        ensure_demo_home(args.home, args.max_reviews)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(args.home, args.model, port, max_tokens=args.max_tokens)
    ready = False
    try:
        wait_ready(url, proc)
        ready = True
        t0 = time.perf_counter()
        run_load(url, duration=0.01, search_clients=1, ask_clients=0, token=args.token)  # loads the embedder
        print(f"warm-up (first /v1/search, loads the embedder and index): {time.perf_counter() - t0:.1f} s")
        base = baseline(url, args.token)
        print(f"server {url}  store {args.home if proc else '(external)'}  model {args.model if proc else '?'}  "
              f"cpus {os.cpu_count()}  load avg {os.getloadavg()[0]:.1f}")
        print(f"idle baseline /v1/search (1 client): {base['requests']} req, p50 {base['p50_ms']:.1f} ms, "
              f"p95 {base['p95_ms']:.1f} ms, {base['throughput_rps']:.1f} req/s")
        res = run_load(url, duration=args.duration, search_clients=args.search_clients,
                       ask_clients=args.ask_clients, token=args.token)
        print(f"\nload: {args.search_clients} × /v1/search + {args.ask_clients} × /v1/ask for {args.duration:.0f} s")
        print(f"{'endpoint':<12}{'requests':>9}{'late':>6}{'errors':>8}{'req/s':>9}{'p50 ms':>10}{'p95 ms':>10}"
              f"{'max ms':>10}")
        for kind, st in res.items():
            print(f"{'/v1/' + kind:<12}{st['requests']:>9}{st['after_window']:>6}{st['errors']:>8}"
                  f"{st['throughput_rps']:>9.2f}{st['p50_ms']:>10.1f}{st['p95_ms']:>10.1f}{st['max_ms']:>10.1f}"
                  f"   {st['codes'] or ''}")
        print("(late = requests started inside the window that completed after it; req/s counts the window)")
        if base["p50_ms"] == base["p50_ms"] and base["p50_ms"] > 0:
            print(f"\n/v1/search p50 under load / idle p50: {res['search']['p50_ms'] / base['p50_ms']:.1f}×; "
                  f"throughput under load / idle: {res['search']['throughput_rps'] / max(base['throughput_rps'], 1e-9):.2f}×")
        total_err = sum(st["errors"] for st in res.values())
        print(f"errors: {total_err}")
        return 1 if total_err else 0
    finally:
        if proc is not None:  # keep the server's log only when it failed (did not start, or died)
            stop_server(proc, keep_log=not ready or proc.poll() is not None)


if __name__ == "__main__":
    run_script(main)
