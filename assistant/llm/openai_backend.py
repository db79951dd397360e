"""OpenAI-compatible HTTP backend: the same assistant against vLLM, llama.cpp's server, TGI or Ollama.

Structured output is requested the strongest way the server accepts, found once and remembered:
``response_format={"type": "json_schema", ...}`` (OpenAI, vLLM, Ollama), then llama-cpp-python's
``{"type": "json_object", "schema": ...}``, then plain text that is parsed defensively.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from assistant.errors import ConfigError, GenerationError, require
from assistant.llm.base import LLM, Generation, Message
from assistant.llm.toolcall import parse_tool_reply, prepare_messages, reply_schema

_MODES = ("json_schema", "json_object", "none")


class OpenAICompatLLM(LLM):
    """A chat model served over the OpenAI API. Thread-safe: ``generate_many`` runs requests in parallel."""

    concurrent = True

    def __init__(self, base_url: str, model: str, api_key: str = "not-needed", *, temperature: float = 0.0,
                 seed: int = 0, max_tokens: int = 512, context_length: int = 4096, timeout: float = 600.0,
                 schema_mode: str = "auto") -> None:
        openai = require("openai")
        self._openai = openai
        # no automatic retries: llama-cpp-python's server answers 500 to a response_format it does not
        # know, and the schema-mode step-down below must not wait for back-offs first
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout,
                                    max_retries=0)
        self.base_url = base_url
        self.model = model
        self.name = f"openai:{model}"
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.context_length = context_length
        if schema_mode not in ("auto", *_MODES):
            raise ConfigError(f"schema_mode must be one of auto, {', '.join(_MODES)}; got {schema_mode!r}")
        self._mode: str | None = None if schema_mode == "auto" else schema_mode

    # ------------------------------------------------------------------ request building
    @staticmethod
    def _response_format(mode: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
        if mode == "json_object":
            return {"type": "json_object", "schema": schema}
        return None

    def _create(self, kwargs: dict[str, Any], schema: dict[str, Any] | None) -> Any:
        """Call the API, stepping down the structured-output modes the server rejects (once per backend)."""
        if schema is None:
            try:
                return self._call(kwargs)
            except self._openai.APIStatusError as exc:
                raise GenerationError(f"{self.base_url} failed: {exc}") from exc
        modes = [self._mode] if self._mode else list(_MODES)
        last: Exception | None = None
        for mode in modes:
            fmt = self._response_format(mode, schema)
            try:
                result = self._call({**kwargs, **({"response_format": fmt} if fmt else {})})
            except self._openai.APIStatusError as exc:
                # 400/422 from most servers; llama-cpp-python's server answers 500 for a rejected body
                rejected = exc.status_code in (400, 422) or (exc.status_code == 500 and "response_format" in str(exc))
                if not rejected:
                    raise GenerationError(f"{self.base_url} failed: {exc}") from exc
                last = exc
                continue
            self._mode = mode
            return result
        raise GenerationError(f"{self.base_url} rejected the request: {last}")

    def _call(self, kwargs: dict[str, Any]) -> Any:
        try:
            return self.client.chat.completions.create(**kwargs)
        except (self._openai.APIConnectionError, self._openai.APITimeoutError) as exc:
            raise GenerationError(
                f"Cannot reach the LLM server at {self.base_url} ({exc}). Start it, or set "
                "ASSISTANT_OPENAI_BASE_URL / ASSISTANT_LLM_BACKEND=llamacpp."
            ) from exc
        except self._openai.NotFoundError as exc:
            raise GenerationError(f"{self.base_url}: model {self.model!r} not found ({exc}); set ASSISTANT_OPENAI_MODEL.") from exc

    # ------------------------------------------------------------------ generation
    def _pieces(self, stream: Any, cancel: threading.Event | None, state: dict[str, Any]) -> Iterator[str]:
        state["finish_reason"] = "stop"
        n = 0
        try:
            for chunk in stream:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.finish_reason:
                    state["finish_reason"] = choice.finish_reason
                piece = (choice.delta.content if choice.delta else None) or ""
                if piece:
                    n += 1
                    yield piece
                if cancel is not None and cancel.is_set():
                    state["finish_reason"] = "cancelled"
                    break
        finally:
            with contextlib.suppress(Exception):
                stream.close()  # closes the HTTP response: the server stops generating
            state["completion_tokens"] = n

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
        if cancel is not None and cancel.is_set():
            return iter(()) if stream else Generation(text="", finish_reason="cancelled", model=self.name)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": prepare_messages(messages, tools, json_schema=json_schema),
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": max_tokens or self.max_tokens,
        }
        schema = reply_schema(tools, json_schema)
        state: dict[str, Any] = {}
        if stream or cancel is not None:
            chunks = self._create({**kwargs, "stream": True}, schema)
            if stream:
                return self._pieces(chunks, cancel, state)
            text = "".join(self._pieces(chunks, cancel, state))
            finish, usage = state.get("finish_reason", "stop"), (0, state.get("completion_tokens", 0))
        else:
            resp = self._create(kwargs, schema)
            text = resp.choices[0].message.content or ""
            finish = resp.choices[0].finish_reason or "stop"
            usage = (resp.usage.prompt_tokens, resp.usage.completion_tokens) if resp.usage else (0, 0)
        if tools and finish != "cancelled":
            return parse_tool_reply(text, tools, model=self.name, prompt_tokens=usage[0],
                                    completion_tokens=usage[1], finish_reason=finish)
        return Generation(text=text, finish_reason=finish, prompt_tokens=usage[0], completion_tokens=usage[1],
                          model=self.name)
