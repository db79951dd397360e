"""Prompt cache on disk (assistant.llm.promptcache): save/restore policy without a model, then the real
SmolLM2 through llama.cpp: a new process-like instance restores the saved prompt and answers exactly
as a cold one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from assistant.config import get_settings
from assistant.llm.promptcache import PromptCache, common_prefix


def toks(*parts: range | list[int]) -> np.ndarray:
    return np.array([t for p in parts for t in p], dtype=np.int32)


def test_common_prefix() -> None:
    assert common_prefix(toks([1, 2, 3]), toks([1, 2, 4, 5])) == 2
    assert common_prefix(toks([1, 2]), toks([1, 2, 3])) == 2
    assert common_prefix(toks([]), toks([1])) == 0
    assert common_prefix(toks([9]), toks([1])) == 0


def test_first_long_prompt_is_saved_whole_then_cut_to_the_shared_prefix(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "m", min_tokens=10)
    key = cache.key("system\nYou are a merchandising assistant.")
    system, q1, q2 = range(100, 150), range(1, 8), range(900, 905)
    assert cache.tokens_to_save(key, toks(range(5))) is None  # shorter than min_tokens: not worth a file
    first = toks(system, q1)
    assert cache.tokens_to_save(key, first) is not None
    cache.save(key, first, b"state-1")
    assert cache.tokens_to_save(key, toks(system, q1, [7, 7])) is None  # saved prefix fully reused
    cut = cache.tokens_to_save(key, toks(system, q2))
    assert cut is not None and list(cut) == list(system)  # only what both prompts share
    cache.save(key, cut, b"state-2")
    assert cache.tokens_to_save(key, toks(system, q1)) is None  # stable now: no more writes
    fresh = PromptCache(tmp_path, "m", min_tokens=10)  # another process reads the file
    saved = fresh.load(key)
    assert saved is not None and list(saved.tokens) == list(system) and saved.blob == b"state-2"
    # prompts that share fewer than min_tokens with the saved one leave it alone
    assert fresh.tokens_to_save(key, toks(system[:5], range(300, 340))) is None


def test_keys_depend_on_model_and_first_message(tmp_path: Path) -> None:
    a, b = PromptCache(tmp_path, "model-a"), PromptCache(tmp_path, "model-b")
    assert a.key("x") != b.key("x") and a.key("x") != a.key("y") and a.key("x") == a.key("x")


def test_unreadable_file_is_a_miss_and_is_removed(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "m", min_tokens=1)
    key = cache.key("s")
    cache.path(key).write_bytes(b"not an npz file")
    assert cache.load(key) is None and not cache.path(key).exists()
    assert cache.tokens_to_save(key, toks([1, 2, 3])) is not None


def test_writes_are_atomic_and_old_entries_are_evicted(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "m", max_files=2, min_tokens=1)
    keys = [cache.key(f"s{i}") for i in range(3)]
    for i, key in enumerate(keys):
        cache.save(key, toks([i, i, i]), bytes([i]) * 10)
        os.utime(cache.path(key), (1_000_000 + i, 1_000_000 + i))
    cache.save(keys[2], toks([2, 2, 2, 2]), b"newer")  # re-save: triggers eviction by last use
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and not any(n.startswith(".tmp-") for n in names)
    assert cache.load(keys[0]) is None and cache.load(keys[2]) is not None


@pytest.mark.slow
@pytest.mark.llm
def test_real_model_restores_a_saved_prompt_with_identical_output(tmp_path: Path) -> None:
    from assistant.llm import ensure_model
    from assistant.llm.llamacpp import LlamaCppLLM

    gguf = ensure_model("smollm2-135m", get_settings())
    system = {"role": "system", "content": "You help merchandisers. " + "Quote tool numbers exactly. " * 60}

    def ask(llm: LlamaCppLLM, question: str) -> str:
        gen = llm.generate([system, {"role": "user", "content": question}], max_tokens=16)
        return gen.text  # type: ignore[union-attr]

    first = LlamaCppLLM(gguf, prompt_cache_dir=tmp_path)
    ask(first, "Name a colour.")
    assert first.restored_tokens == 0 and len(list(tmp_path.glob("*.npz"))) == 1
    first.close()

    warm = LlamaCppLLM(gguf, prompt_cache_dir=tmp_path)  # a later process
    cold = LlamaCppLLM(gguf)  # no cache
    answer = ask(warm, "Name a fruit.")
    assert warm.restored_tokens > 300  # the long system prompt came from disk
    assert answer == ask(cold, "Name a fruit.") and answer.strip()
    assert ask(warm, "Name a fruit.") == answer and warm.restored_tokens == 0  # live context reused

    for path in tmp_path.glob("*.npz"):
        path.write_bytes(b"\0" * 64)  # damaged on disk: a miss, not an error
    broken = LlamaCppLLM(gguf, prompt_cache_dir=tmp_path)
    assert ask(broken, "Name a fruit.") == answer and broken.restored_tokens == 0


@pytest.mark.slow
@pytest.mark.llm
def test_settings_put_the_cache_under_home_and_can_turn_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.llm import clear_cache, get_llm
    from assistant.llm.llamacpp import LlamaCppLLM

    llm = get_llm(model="smollm2-135m")
    assert isinstance(llm, LlamaCppLLM) and llm.prompt_cache is not None
    assert llm.prompt_cache.directory == get_settings().home / "cache" / "llm"
    monkeypatch.setenv("ASSISTANT_LLM_PROMPT_CACHE", "0")
    get_settings.cache_clear()
    clear_cache()
    off = get_llm(model="smollm2-135m")
    assert isinstance(off, LlamaCppLLM) and off.prompt_cache is None
