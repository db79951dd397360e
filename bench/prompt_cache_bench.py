"""Prompt-cache benchmark: the first step of an agent question (system prompt + tool schemas + the
question, ~2,300 tokens with the default tools) in a new process, read cold vs restored from the prompt
cache on disk (assistant.llm.promptcache), on the same model in the same process.

    .venv/bin/python bench/prompt_cache_bench.py                      # default model, settings threads
    .venv/bin/python bench/prompt_cache_bench.py --model qwen2.5-coder-0.5b --repeats 2

Each "process" is a freshly loaded model. Cold: no cache. Restored: a new model instance whose cache
folder holds the state saved by an earlier instance that answered a different question. Prints time to
the finished tool call for both, the ratio, the restore time, the file size, and whether both chose the
same tool call (greedy decoding, so they must).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.config import get_settings  # noqa: E402
from assistant.llm.base import Generation, Message  # noqa: E402
from assistant.llm.llamacpp import LlamaCppLLM  # noqa: E402
from assistant.llm.registry import ensure_model  # noqa: E402
from assistant.prompts import render  # noqa: E402
from assistant.scripting import positive_int, require_model, run_script  # noqa: E402
from assistant.tools.builtin import default_registry  # noqa: E402

QUESTIONS = ["How many units of R85123A will we sell in the next 8 weeks?",
             "Which products are similar to the White Hanging Heart T-Light Holder?",
             "What share of buyers complain about the fit of product 1078?"]


def first_step(llm: LlamaCppLLM, question: str) -> tuple[float, str]:
    tools = default_registry().specs()
    messages: list[Message] = [{"role": "system", "content": render("agent_system", tools=tools, max_steps=5)},
                               {"role": "user", "content": question}]
    t0 = time.perf_counter()
    gen = llm.generate(messages, tools=tools, max_tokens=96)
    assert isinstance(gen, Generation)
    call = gen.tool_calls[0] if gen.tool_calls else None
    return time.perf_counter() - t0, f"{call.name}({call.arguments})" if call else gen.text[:60]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="", help="model key (default: settings.llm_model)")
    parser.add_argument("--repeats", type=positive_int, default=1, help="questions timed (each cold and restored)")
    args = parser.parse_args(argv)
    settings = get_settings()
    key = require_model(args.model or settings.llm_model)
    path = ensure_model(key, settings)

    def load(cache: Path | None) -> LlamaCppLLM:
        return LlamaCppLLM(path, name=key, n_ctx=settings.llm_context, n_threads=settings.llm_threads,
                           n_threads_batch=settings.llm_batch_threads,
                           prompt_cache_dir=cache)

    cold_s, warm_s, same = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        seeder = load(cache)
        seed_s, _ = first_step(seeder, QUESTIONS[0])  # an earlier process: reads the prompt, saves the state
        seeder.close()
        size = sum(p.stat().st_size for p in cache.glob("*.npz"))
        print(f"model {key}, {settings.llm_threads}/{settings.llm_batch_threads} generation/prompt-reading "
              f"thread(s), context {settings.llm_context}; seeding run {seed_s:.1f} s, state file {size / 1e6:.1f} MB")
        for i in range(args.repeats):
            question = QUESTIONS[1 + i % (len(QUESTIONS) - 1)]
            cold = load(None)
            c_s, c_call = first_step(cold, question)
            cold.close()
            warm = load(cache)
            w_s, w_call = first_step(warm, question)
            restored = warm.restored_tokens
            warm.close()
            cold_s.append(c_s)
            warm_s.append(w_s)
            same.append(c_call == w_call)
            print(f"  {question!r}: cold {c_s:.1f} s, restored {w_s:.1f} s (incl. restoring {restored} tokens' "
                  f"state from disk); same call: {c_call == w_call} -> {w_call}")
    cold_m, warm_m = statistics.median(cold_s), statistics.median(warm_s)
    print(f"first agent step in a new process: cold {cold_m:.1f} s, restored {warm_m:.1f} s, "
          f"speed-up x{cold_m / warm_m:.1f}; identical tool calls {sum(same)}/{len(same)}")
    return 0


if __name__ == "__main__":
    run_script(main)
