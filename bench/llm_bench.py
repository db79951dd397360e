"""LLM runtime benchmark: per installed model, load time, prompt tok/s, decode tok/s and time to first
token on a ~1k-token RAG prompt built from real reviews, and the assistant's overhead against raw
llama-cpp-python on the same prompt in the same process (target: ours/raw >= 0.9).

    .venv/bin/python bench/llm_bench.py                       # all installed models, 1 thread
    .venv/bin/python bench/llm_bench.py --models qwen2.5-coder-0.5b --threads 1,2 --repeats 3
    .venv/bin/python bench/llm_bench.py --models qwen2.5-coder-1.5b --batch-threads 1,2   # prompt-reading threads

Raw and ours run interleaved on the same loaded model; the KV cache is reset before every run so each
one evaluates the full prompt. Figures depend heavily on how busy the machine is: compare ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.config import get_settings  # noqa: E402
from assistant.llm.base import Message  # noqa: E402
from assistant.llm.budget import EVIDENCE, fit_messages  # noqa: E402
from assistant.llm.llamacpp import LlamaCppLLM  # noqa: E402
from assistant.llm.registry import MODELS, ensure_model, list_models  # noqa: E402
from assistant.prompts import render  # noqa: E402
from assistant.scripting import positive_int, require_columns, require_file, require_model, run_script  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_reviews" / "Womens_Clothing_E-Commerce_Reviews.csv"


def thread_list(text: str) -> list[int]:
    """argparse ``type=``: comma-separated thread counts, each >= 1 ("": none given)."""
    return [positive_int(t) for t in text.split(",") if t.strip()]


def rag_messages(llm: LlamaCppLLM, data: Path, prompt_tokens: int, clothing_id: str = "1078") -> list[Message]:
    """System prompt + evidence blocks of real reviews for one product + a question, ~prompt_tokens long."""
    blocks = []
    with open(data, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Clothing ID"] == clothing_id and row["Review Text"].strip():
                blocks.append(f'<evidence id="W{row[""]}">rating {row["Rating"]}/5. {row["Review Text"].strip()}</evidence>')
    system = render("system", task="answer the shopper's question about this dress from its reviews")
    messages: list[Message] = [{"role": "system", "content": system},
                               {"role": "user", "content": f"{EVIDENCE}\n\nQuestion: How does this dress fit, "
                                                           "and is the fabric good quality? Cite review ids."}]
    # choose a context so that the fitted prompt is about prompt_tokens long
    budget = prompt_tokens + 64

    class _Sized:
        context_length = budget + 64
        max_tokens = 64
        count_tokens = staticmethod(llm.count_tokens)

    return fit_messages(_Sized(), messages, blocks, max_tokens=64, reserve=0).messages  # type: ignore[arg-type]


def run_raw(llm: LlamaCppLLM, messages: list[Message], max_tokens: int) -> dict[str, float]:
    """llama-cpp-python called directly (streaming), as a user would without the assistant."""
    llm.llama.reset()
    t0 = time.perf_counter()
    first, n = None, 0
    for chunk in llm.llama.create_chat_completion(messages=list(messages), max_tokens=max_tokens,  # type: ignore[arg-type]
                                                  temperature=0.0, seed=0, stream=True):
        if chunk["choices"][0]["delta"].get("content"):  # type: ignore[index, union-attr]
            n += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return _figures(t0, first or end, end, n, int(llm.llama.n_tokens) - n)


def run_ours(llm: LlamaCppLLM, messages: list[Message], max_tokens: int) -> dict[str, float]:
    """The same prompt through the assistant's backend (prepare_messages, cancel checks, accounting)."""
    llm.llama.reset()
    t0 = time.perf_counter()
    first, n = None, 0
    for _piece in llm.generate(messages, stream=True, max_tokens=max_tokens):  # type: ignore[union-attr]
        n += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    return _figures(t0, first or end, end, n, int(llm.llama.n_tokens) - n)


def _figures(t0: float, first: float, end: float, n: int, prompt_tokens: int) -> dict[str, float]:
    ttft = first - t0
    return {"ttft_s": ttft, "total_s": end - t0, "completion_tokens": n, "prompt_tokens": prompt_tokens,
            "prompt_tok_s": prompt_tokens / ttft if ttft > 0 else 0.0,
            "decode_tok_s": (n - 1) / (end - first) if n > 1 and end > first else 0.0}


def bench_model(key: str, threads: int, batch_threads: int, args: argparse.Namespace) -> dict[str, Any]:
    settings = get_settings()
    path = ensure_model(key, settings)
    llm = LlamaCppLLM(path, name=key, n_ctx=max(2048, args.prompt_tokens + args.gen_tokens + 256), n_threads=threads,
                      n_threads_batch=batch_threads)
    messages = rag_messages(llm, Path(args.data), args.prompt_tokens)
    run_ours(llm, messages, 4)  # warm-up (first decode allocates buffers)
    raw, ours = [], []
    for _ in range(args.repeats):
        raw.append(run_raw(llm, messages, args.gen_tokens))
        ours.append(run_ours(llm, messages, args.gen_tokens))
    med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for name, runs in (("raw", raw), ("ours", ours))}
    ratio_total = (med["raw"]["total_s"] / med["ours"]["total_s"]) if med["ours"]["total_s"] else 0.0
    ratio_decode = (med["ours"]["decode_tok_s"] / med["raw"]["decode_tok_s"]) if med["raw"]["decode_tok_s"] else 0.0
    return {"model": key, "threads": threads, "batch_threads": batch_threads, "load_s": llm.load_seconds, "raw": med["raw"], "ours": med["ours"],
            "ratio_speed_ours_over_raw": ratio_total, "ratio_decode_ours_over_raw": ratio_decode}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="", help=f"comma-separated keys (default: all installed): {', '.join(MODELS)}")
    parser.add_argument("--threads", type=thread_list, default="",
                        help="comma-separated n_threads to try (default: settings.llm_threads)")
    parser.add_argument("--batch-threads", type=thread_list, default="",
                        help="comma-separated prompt-reading threads to try (default: settings.llm_batch_threads)")
    parser.add_argument("--prompt-tokens", type=positive_int, default=1000)
    parser.add_argument("--gen-tokens", type=positive_int, default=64)
    parser.add_argument("--repeats", type=positive_int, default=2)
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="the Women's Clothing Reviews CSV, or its folder (evidence text; default: %(default)s)")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    args.data = require_file(args.data, "the Women's Clothing Reviews CSV",
                             f"pass --data CSV or DIR (default {DEFAULT_DATA})", name=DEFAULT_DATA.name)
    require_columns(args.data, ["Clothing ID", "Review Text", "Rating"], "the Women's Clothing Reviews CSV")
    settings = get_settings()
    installed = [r["key"] for r in list_models(settings) if r["installed"]]
    keys = [k for k in args.models.split(",") if k] or installed
    for key in keys:  # an unknown or missing model fails now, before the first one is benchmarked
        require_model(key)
    threads = args.threads or [settings.llm_threads]
    batch_threads = args.batch_threads or [settings.llm_batch_threads]
    results = []
    print("thr = generation threads / prompt-reading threads")
    print(f"prompt ~{args.prompt_tokens} tokens of real reviews ({Path(args.data).name}), {args.gen_tokens} new "
          f"tokens, greedy, median of {args.repeats}; raw = llama_cpp.Llama.create_chat_completion in-process")
    header = (f"{'model':<20} {'thr':>5} {'load s':>7} {'prompt tok':>10} {'raw pp tok/s':>12} {'ours pp tok/s':>13} "
              f"{'raw dec tok/s':>13} {'ours dec tok/s':>14} {'raw TTFT s':>10} {'ours TTFT s':>11} {'ours/raw':>8}")
    print(header)
    for key in keys:
        for n, nb in [(n, nb) for n in threads for nb in batch_threads]:
            r = bench_model(key, n, nb, args)
            results.append(r)
            raw, ours = r["raw"], r["ours"]
            print(f"{key:<20} {f'{n}/{nb}':>5} {r['load_s']:>7.2f} {ours['prompt_tokens']:>10.0f} {raw['prompt_tok_s']:>12.1f} "
                  f"{ours['prompt_tok_s']:>13.1f} {raw['decode_tok_s']:>13.1f} {ours['decode_tok_s']:>14.1f} "
                  f"{raw['ttft_s']:>10.2f} {ours['ttft_s']:>11.2f} {r['ratio_speed_ours_over_raw']:>8.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    run_script(main)
