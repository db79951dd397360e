"""The model interface: one method, ``generate``. Backends (llama.cpp, transformers, OpenAI-compatible
HTTP) and the scripted fake used in tests all implement it."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict


class Message(TypedDict, total=False):
    """A chat message. ``role`` is system/user/assistant/tool; tool results carry ``name``."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    name: str


@dataclass
class ToolCall:
    """A tool call chosen by the model: tool name and JSON arguments."""

    name: str
    arguments: dict[str, Any]
    id: str = "call_0"


@dataclass
class Generation:
    """What a model returned: text, any tool calls, token usage and why it stopped."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"  # stop | length | cancelled | tool_calls
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""


class LLM(ABC):
    """Base class of every backend.

    ``generate(messages, tools=..., json_schema=..., stream=...)``:
      - ``tools``: JSON-schema tool specs (``{"name", "description", "parameters"}``); the backend
        constrains the output to a call of one of them (or a final answer) and parses it defensively.
      - ``json_schema``: constrain the text to this JSON schema (grammar where the backend has one). With
        ``tools`` as well, the tools are still described in the prompt (so it starts as usual) but the reply
        follows ``json_schema``: ``toolcall.ANSWER_ONLY`` asks for a final answer and no call.
      - ``stream=True`` returns an iterator of text pieces instead of a ``Generation``.
      - ``cancel``: an Event; when set, generation stops and ``finish_reason`` is ``"cancelled"``.
    """

    name: str = "llm"
    context_length: int = 4096

    @abstractmethod
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
        """Run the model on ``messages``."""

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (backends override with their tokenizer; this is a safe over-estimate)."""
        return max(1, len(text) // 3)
