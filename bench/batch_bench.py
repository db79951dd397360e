"""Batch copy throughput (products per minute) with the default model:

  A. in-process llama.cpp backend (the baseline), --threads CPU threads;
  B. HTTP backend (OpenAI-compatible) against a local `python -m llama_cpp.server` on the same GGUF,
     batch concurrency 1;
  C. the same server, batch concurrency 4.

Same products, same options (1 variant, --length words, spec guard on) for every run. Products are
the first --products rows of the bundled demo catalog (assistant/demo/data/products.csv.gz).

    .venv/bin/python bench/batch_bench.py --products 4 --threads 2
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402
from assistant.scripting import positive_int, require_model, run_script  # noqa: E402

use_offline_defaults()


def demo_products(n: int) -> list[dict[str, Any]]:
    """A mix of demo products that have attributes (clothing and gift-shop items)."""
    from assistant.data.demo import demo_dir
    from assistant.data.loaders import load_table
    from assistant.service import _records

    recs = _records(load_table(demo_dir() / "products.csv.gz", "products", skip_bad_rows=True).frame)
    clothing = [r for r in recs if str(r["product_id"]).startswith("C")]
    gifts = [r for r in recs if str(r["product_id"]).startswith("R")]
    mixed = [p for pair in zip(clothing, gifts, strict=False) for p in pair]
    return mixed[:n]


def run(label: str, settings: Any, products: list[dict[str, Any]], concurrency: int, length: int,
        llm: Any = None) -> dict[str, Any]:
    from assistant.batch import run_batch
    from assistant.service import MerchAssistant

    svc = MerchAssistant(settings, llm=llm)
    _ = svc.llm  # load before timing
    out = Path(tempfile.mkdtemp(prefix="batch-bench-")) / "drafts.jsonl"
    t0 = time.perf_counter()
    prog = run_batch(products, svc.copy_fn(tone="friendly", lang="English", variants=1, length=length), out,
                     concurrency=concurrency)
    wall = time.perf_counter() - t0
    row = {"run": label, "products": len(products), "done": prog.done, "flagged": prog.flagged,
           "failed": prog.failed, "wall_s": wall, "per_min": 60 * (prog.done + prog.failed) / wall}
    print(f"{label:<38}{row['products']:>4}{row['done']:>6}{row['flagged']:>9}{row['failed']:>8}"
          f"{wall:>9.1f}{row['per_min']:>10.2f}", flush=True)
    return row


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_llama_server(gguf: Path, threads: int, ctx: int, port: int, parallel: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
           "--n_threads", str(threads), "--n_ctx", str(ctx), "--seed", "0"]
    log = open(Path(tempfile.gettempdir()) / f"llama-server-{port}.log", "wb")  # noqa: SIM115 - lives with proc
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start in 180 s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=positive_int, default=4, help="demo products drafted per run")
    ap.add_argument("--threads", type=positive_int, default=2, help="llama.cpp threads (in-process and server)")
    ap.add_argument("--length", type=positive_int, default=60, help="target description length in words")
    ap.add_argument("--model", default=None, help="model key (default: the configured default model)")
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    require_model(args.model)

    from assistant.config import get_settings
    from assistant.llm.registry import ensure_model

    base = get_settings()
    model = args.model or base.llm_model
    gguf = ensure_model(model, base)
    products = demo_products(args.products)
    home = Path(tempfile.mkdtemp(prefix="batch-bench-home-"))  # empty store: no similar-product context
    common = {"home": home, "llm_model": model, "llm_threads": args.threads, "model_dir": base.model_path}
    print(f"model {model} ({gguf.name}), {args.products} demo products, 1 variant, {args.length} words, "
          f"threads {args.threads}, cpus {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}")
    print(f"{'run':<38}{'n':>4}{'done':>6}{'flagged':>9}{'failed':>8}{'wall s':>9}{'per min':>10}")
    rows = [run("A in-process llama.cpp (baseline)", base.model_copy(update={**common, "llm_backend": "llamacpp"}),
                products, 1, args.length)]
    if not args.skip_http:
        port = free_port()
        server = start_llama_server(gguf, args.threads, base.llm_context, port, 4)
        try:
            from assistant.llm.openai_backend import OpenAICompatLLM

            http = base.model_copy(update={**common, "llm_backend": "openai",
                                           "openai_base_url": f"http://127.0.0.1:{port}/v1"})
            # llama_cpp.server answers a json_schema response_format with HTTP 500 (not 400), so the
            # backend's automatic step-down never reaches json_object: pin the mode it supports.
            client = OpenAICompatLLM(http.openai_base_url, http.openai_model, schema_mode="json_object",
                                     max_tokens=http.llm_max_tokens, context_length=http.llm_context)
            rows.append(run("B HTTP llama_cpp.server, concurrency 1", http, products, 1, args.length, client))
            rows.append(run("C HTTP llama_cpp.server, concurrency 4", http, products, 4, args.length, client))
        finally:
            server.terminate()
            server.wait(10)
    ref = rows[0]["per_min"]
    for r in rows[1:]:
        print(f"{r['run']}: {r['per_min'] / ref:.2f}× the in-process baseline")
    return 0


if __name__ == "__main__":
    run_script(main)
