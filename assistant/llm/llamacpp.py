"""Embedded llama.cpp backend (llama-cpp-python): the default, runs the packaged GGUF models in-process.

Tool calls and JSON outputs are constrained by a grammar built from a JSON schema
(``response_format={"type": "json_object", "schema": ...}``) and still parsed defensively. Generation
always streams internally so that ``cancel`` is checked between tokens.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import GenerationError, ModelNotFoundError, require
from assistant.llm.base import LLM, Generation, Message
from assistant.llm.promptcache import PromptCache
from assistant.llm.toolcall import parse_tool_reply, prepare_messages, reply_schema

log = logging.getLogger(__name__)
_LIVE: weakref.WeakSet[LlamaCppLLM] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Free models before interpreter teardown (llama-cpp-python's __del__ fails once its modules are gone)."""
    for llm in list(_LIVE):
        llm.close()


class LlamaCppLLM(LLM):
    """A GGUF model run by llama.cpp. Not thread-safe inside llama.cpp, so calls are serialised.

    With ``prompt_cache_dir`` the state after a long prompt is saved there and restored by later
    processes that send the same first message (see :mod:`assistant.llm.promptcache`)."""

    def __init__(self, model_path: str | Path, *, name: str = "", n_ctx: int = 4096, n_threads: int = 1,
                 n_threads_batch: int | None = None, temperature: float = 0.0, seed: int = 0, max_tokens: int = 512,
                 verbose: bool = False, prompt_cache_dir: str | Path | None = None) -> None:
        llama_cpp = require("llama_cpp", "llama-cpp-python")
        path = Path(model_path)
        if not path.is_file():
            raise ModelNotFoundError(f"GGUF file {path} not found (see `assistant models`).")
        t0 = time.perf_counter()
        try:
            self.llama = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                         n_threads_batch=n_threads_batch or n_threads, seed=seed, verbose=verbose)
        except (ValueError, RuntimeError) as exc:
            raise ModelNotFoundError(f"llama.cpp could not load {path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - t0
        self.name = name or path.stem
        self.model_path = path
        self.context_length = int(self.llama.n_ctx())
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self._lock = threading.Lock()  # not an RLock: a stream may end on another thread than it began
        self.prompt_cache: PromptCache | None = None
        if prompt_cache_dir is not None:
            size = path.stat().st_size
            model_id = f"{path.name}:{size}:{self.context_length}:llama-cpp-python {llama_cpp.__version__}"
            self.prompt_cache = PromptCache(prompt_cache_dir, model_id)
        self._live_key: str | None = None  # prompt-cache key of what the context holds now
        self.restored_tokens = 0  # tokens restored from the prompt cache by the latest request
        self.prompt_cache_hits = 0  # requests that started from a restored state
        _LIVE.add(self)

    def close(self) -> None:
        """Free the model's memory now; the object cannot generate afterwards."""
        with contextlib.suppress(Exception):
            self.llama.close()

    # ------------------------------------------------------------------ tokens
    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    # ------------------------------------------------------------------ generation
    def _request(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                 json_schema: dict[str, Any] | None, max_tokens: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "messages": prepare_messages(messages, tools),
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": max_tokens or self.max_tokens,
            "stream": True,
        }
        schema = reply_schema(tools, json_schema)
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        return kwargs

    def _pieces(self, kwargs: dict[str, Any], cancel: threading.Event | None, state: dict[str, Any]) -> Iterator[str]:
        """Yield text pieces; record finish_reason / token counts in ``state``. Holds the model lock."""
        with self._lock:
            state["finish_reason"] = "stop"
            if cancel is not None and cancel.is_set():
                state["finish_reason"] = "cancelled"
                return
            key = self._restore_prompt(kwargs["messages"])
            chunks = self.llama.create_chat_completion(**kwargs)
            n = 0
            done = False
            try:
                for chunk in _checked(chunks, self.name):
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content") or ""
                    if choice.get("finish_reason"):
                        state["finish_reason"] = choice["finish_reason"]
                    if piece:
                        n += 1
                        yield piece
                    if cancel is not None and cancel.is_set():
                        state["finish_reason"] = "cancelled"
                        break
                done = state["finish_reason"] != "cancelled"
            finally:
                with contextlib.suppress(Exception):
                    chunks.close()
                state["completion_tokens"] = n
                state["prompt_tokens"] = max(0, int(self.llama.n_tokens) - n)
            if done and key is not None:
                self._save_prompt(key)

    # ------------------------------------------------------------------ prompt cache
    def _restore_prompt(self, messages: list[dict[str, Any]]) -> str | None:
        """Load the saved state for this prompt's first message unless the context already holds it."""
        self.restored_tokens = 0
        if self.prompt_cache is None or not messages:
            return None
        key = self.prompt_cache.key(f"{messages[0]['role']}\n{messages[0]['content']}")
        if key == self._live_key:
            return key
        self._live_key = None
        saved = self.prompt_cache.load(key)
        if saved is not None:
            try:
                self._load_state(saved.tokens, saved.blob)
                self.restored_tokens = len(saved.tokens)
                self.prompt_cache_hits += 1
            except (RuntimeError, ValueError) as exc:
                log.warning("prompt cache: could not restore %s (%s); reading the prompt instead", key, exc)
                self.prompt_cache.discard(key)
                self.llama.reset()
        self._live_key = key
        return key

    def _save_prompt(self, key: str) -> None:
        assert self.prompt_cache is not None
        n = int(self.llama.n_tokens)
        tokens = self.prompt_cache.tokens_to_save(key, np.asarray(self.llama.input_ids[:n], dtype=np.int32))
        if tokens is None:
            return
        try:
            self.prompt_cache.save(key, tokens, self._state_bytes())
        except OSError as exc:  # a full or read-only disk must not fail the answer
            log.warning("prompt cache: could not save (%s)", exc)

    def _state_bytes(self) -> bytes:
        """The context's state, as ``Llama.save_state()`` reads it but without its copy of the logits
        buffer (n_batch x vocab floats, ~311 MB for Qwen), which a restore does not need."""
        llama_cpp = require("llama_cpp", "llama-cpp-python")
        ctx = self.llama._ctx.ctx
        size = int(llama_cpp.llama_state_get_size(ctx))
        buf = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_get_data(ctx, buf, size))
        if written > size:
            raise RuntimeError("llama.cpp state larger than reported")
        return bytes(memoryview(buf)[:written])

    def _load_state(self, tokens: np.ndarray, blob: bytes) -> None:
        from llama_cpp.llama import LlamaState

        n_ctx = int(self.llama.n_ctx())
        if len(tokens) >= n_ctx:
            raise ValueError(f"{len(tokens)} saved tokens do not fit a {n_ctx}-token context")
        ids = np.zeros(n_ctx, dtype=np.intc)
        ids[: len(tokens)] = tokens
        # scores are not needed: a restored state always re-reads at least its last token before sampling
        scores = np.zeros((1, self.llama.n_vocab()), dtype=np.single)
        self.llama.load_state(LlamaState(input_ids=ids, scores=scores, n_tokens=len(tokens), llama_state=blob,
                                         llama_state_size=len(blob), seed=self.seed))

    def generate(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        stream: bool = False,
        max_tokens: int | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation | Iterator[str]:
        kwargs = self._request(messages, tools, json_schema, max_tokens)
        state: dict[str, Any] = {}
        if stream:
            return self._pieces(kwargs, cancel, state)
        text = "".join(self._pieces(kwargs, cancel, state))
        base: dict[str, Any] = {"model": self.name, "prompt_tokens": state.get("prompt_tokens", 0),
                                "completion_tokens": state.get("completion_tokens", 0)}
        finish = state.get("finish_reason", "stop")
        if tools and finish != "cancelled":
            return parse_tool_reply(text, tools, finish_reason=finish, **base)
        return Generation(text=text, finish_reason=finish, **base)


def _checked(chunks: Iterator[Any], name: str) -> Iterator[Any]:
    """llama-cpp-python raises ValueError lazily (first chunk) when the prompt overflows the context."""
    try:
        yield from chunks
    except ValueError as exc:
        raise GenerationError(f"{name}: {exc}. Shorten the input (see assistant.llm.budget.fit_messages) "
                              "or raise ASSISTANT_LLM_CONTEXT.") from exc
