"""assistant.llm: the local LLM runtime.

    from assistant.llm import get_llm
    llm = get_llm()                          # settings.llm_backend / settings.llm_model
    llm = get_llm(model="fast")              # settings.llm_fast_model ("default" = settings.llm_model)
    gen = llm.generate(messages, tools=[...])  # Generation(text, tool_calls=[ToolCall(name, arguments)])

Backends: ``llamacpp`` (embedded, default; packaged GGUFs), ``transformers`` (HF folder or GGUF,
``ASSISTANT_HF_MODEL_PATH``), ``openai`` (any OpenAI-compatible server, ``ASSISTANT_OPENAI_BASE_URL``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from assistant.config import Settings, get_settings
from assistant.errors import ConfigError
from assistant.llm.base import LLM, Generation, Message, ToolCall
from assistant.llm.budget import EVIDENCE, FitResult, fit_messages
from assistant.llm.registry import MODELS, ensure_model, list_models
from assistant.llm.toolcall import parse_json, tool_call_message, tool_result_message

__all__ = [
    "EVIDENCE", "LLM", "MODELS", "FitResult", "Generation", "Message", "ToolCall", "clear_cache", "ensure_model",
    "fit_messages", "generate_many", "get_llm", "list_models", "parse_json", "resolve_model",
    "tool_call_message", "tool_result_message",
]

_CACHE: dict[tuple[Any, ...], LLM] = {}
_CACHE_LOCK = threading.Lock()


def resolve_model(settings: Settings, model: str | None) -> str:
    """``None``/"default" -> settings.llm_model, "fast" -> settings.llm_fast_model, else the key itself."""
    if model in (None, "", "default"):
        return settings.llm_model
    if model == "fast":
        return settings.llm_fast_model
    return str(model)


def _build(settings: Settings, model: str) -> LLM:
    backend = settings.llm_backend
    common: dict[str, Any] = {"temperature": settings.llm_temperature, "seed": settings.llm_seed,
                              "max_tokens": settings.llm_max_tokens}
    if backend == "llamacpp":
        from assistant.llm.llamacpp import LlamaCppLLM

        return LlamaCppLLM(ensure_model(model, settings), name=model, n_ctx=settings.llm_context,
                           n_threads=settings.llm_threads, n_threads_batch=settings.llm_batch_threads,
                           prompt_cache_dir=settings.llm_cache_path if settings.llm_prompt_cache else None, **common)
    if backend == "transformers":
        from assistant.llm.hf import TransformersLLM

        path = settings.hf_model_path or (str(ensure_model(model, settings)) if model in MODELS else model)
        return TransformersLLM(path, name=model, context_length=settings.llm_context,
                               threads=settings.llm_threads, **common)
    if backend == "openai":
        from assistant.llm.openai_backend import OpenAICompatLLM

        served = settings.openai_model if model == settings.llm_model else model
        return OpenAICompatLLM(settings.openai_base_url, served, settings.openai_api_key,
                               context_length=settings.llm_context, **common)
    raise ConfigError(f"Unknown ASSISTANT_LLM_BACKEND {backend!r}: use llamacpp, transformers or openai.")


def get_llm(settings: Settings | None = None, model: str | None = None) -> LLM:
    """The LLM for ``model`` (a key from ``assistant models``, "default" or "fast") on the configured
    backend; loaded once per process and cached per (backend, model, settings that matter)."""
    settings = settings or get_settings()
    key = resolve_model(settings, model)
    cache_key = (settings.llm_backend, key, str(settings.model_path), settings.llm_context, settings.llm_threads,
                 settings.llm_batch_threads, settings.llm_temperature, settings.llm_seed, settings.llm_max_tokens,
                 settings.openai_base_url, settings.openai_model, settings.hf_model_path, settings.llm_prompt_cache,
                 str(settings.llm_cache_path))
    with _CACHE_LOCK:
        llm = _CACHE.get(cache_key)
        if llm is None:
            llm = _build(settings, key)
            _CACHE[cache_key] = llm
        return llm


def clear_cache() -> None:
    """Forget loaded models (tests; freeing memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def generate_many(llm: LLM, batch: Sequence[list[Message]], *, concurrency: int = 4,
                  return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
    """Run ``llm.generate(messages, **kwargs)`` for each conversation; results in input order.

    HTTP backends run ``concurrency`` requests at once (thread pool); in-process backends run one at a
    time (the model is the bottleneck). With ``return_exceptions=True`` a failed item holds its
    exception instead of stopping the batch. ``stream`` is not allowed here.
    """
    if kwargs.get("stream"):
        raise ValueError("generate_many does not stream; call generate(stream=True) per item")

    def one(messages: list[Message]) -> Generation | BaseException:
        try:
            out = llm.generate(messages, **kwargs)
        except Exception as exc:
            if not return_exceptions:
                raise
            return exc
        assert isinstance(out, Generation)
        return out

    if not getattr(llm, "concurrent", False) or concurrency <= 1 or len(batch) <= 1:
        return [one(m) for m in batch]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(batch))) as pool:
        return list(pool.map(one, batch))
