"""Embedded llama.cpp backend (llama-cpp-python): the default, runs the packaged GGUF models in-process.

Tool calls and JSON outputs are constrained by a grammar built from a JSON schema
(``response_format={"type": "json_object", "schema": ...}``) and still parsed defensively. Generation
always streams internally so that ``cancel`` is checked between tokens.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.errors import GenerationError, ModelNotFoundError, require
from assistant.llm.base import LLM, Generation, Message
from assistant.llm.toolcall import parse_tool_reply, prepare_messages, tool_choice_schema

_LIVE: weakref.WeakSet[LlamaCppLLM] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Free models before interpreter teardown (llama-cpp-python's __del__ fails once its modules are gone)."""
    for llm in list(_LIVE):
        llm.close()


class LlamaCppLLM(LLM):
    """A GGUF model run by llama.cpp. Not thread-safe inside llama.cpp, so calls are serialised."""

    def __init__(self, model_path: str | Path, *, name: str = "", n_ctx: int = 4096, n_threads: int = 1,
                 temperature: float = 0.0, seed: int = 0, max_tokens: int = 512, verbose: bool = False) -> None:
        llama_cpp = require("llama_cpp", "llama-cpp-python")
        path = Path(model_path)
        if not path.is_file():
            raise ModelNotFoundError(f"GGUF file {path} not found (see `assistant models`).")
        t0 = time.perf_counter()
        try:
            self.llama = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                         n_threads_batch=n_threads, seed=seed, verbose=verbose)
        except (ValueError, RuntimeError) as exc:
            raise ModelNotFoundError(f"llama.cpp could not load {path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - t0
        self.name = name or path.stem
        self.model_path = path
        self.context_length = int(self.llama.n_ctx())
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self._lock = threading.RLock()
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
        schema = tool_choice_schema(tools) if tools else json_schema
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
            chunks = self.llama.create_chat_completion(**kwargs)
            n = 0
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
            finally:
                with contextlib.suppress(Exception):
                    chunks.close()
                state["completion_tokens"] = n
                state["prompt_tokens"] = max(0, int(self.llama.n_tokens) - n)

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
