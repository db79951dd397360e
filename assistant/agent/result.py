"""What the agent hands back: its tool steps, flags on the answer, the result, and streaming events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.agent.figures import KeyFigure, key_figures
from assistant.tools.registry import Artifact

EventType = Literal["tool_call", "tool_result", "token", "answer_reset", "final"]
Stopped = Literal["answer", "step_limit", "cancelled", "llm_error"]


@dataclass
class AgentStep:
    """One tool call: what the model asked for and what came back (result or error)."""

    tool: str
    arguments: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None
    duration_s: float = 0.0
    artifacts: list[Artifact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "arguments": self.arguments, "result": self.result, "error": self.error,
                "duration_s": round(self.duration_s, 3),
                "artifacts": [a.as_dict(include_data=False) for a in self.artifacts]}


@dataclass
class AgentFlag:
    """Something the user should know about an answer (shown next to it by the UI)."""

    kind: Literal["unsupported_number", "step_limit", "unknown_tool", "invalid_arguments", "tool_failure",
                  "llm_error", "cancelled", "context_trimmed", "misattributed_number",
                  "mislabelled_number", "unsupported_claim", "answer_revised", "planted_call"]
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "detail": self.detail}


@dataclass
class AgentResult:
    """The final answer, every tool step, images for the UI and flags (e.g. numbers not in any source)."""

    question: str
    answer: str
    steps: list[AgentStep] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    flags: list[AgentFlag] = field(default_factory=list)
    stopped: Stopped = "answer"
    model: str = ""
    duration_s: float = 0.0

    @property
    def figures(self) -> list[KeyFigure]:
        """The key numbers of the tool results (forecast totals, recent sales, ratings), to show beside the answer."""
        return key_figures(self.steps)

    def as_dict(self, *, include_artifact_data: bool = False) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "stopped": self.stopped, "model": self.model,
                "duration_s": round(self.duration_s, 3), "steps": [s.as_dict() for s in self.steps],
                "artifacts": [a.as_dict(include_data=include_artifact_data) for a in self.artifacts],
                "flags": [f.as_dict() for f in self.flags], "figures": [f.as_dict() for f in self.figures]}


@dataclass
class AgentEvent:
    """A streaming event. ``tool_call``: data = {step, tool, arguments}; ``tool_result``: data = step dict
    (+ ``artifacts`` objects in ``artifacts``); ``token``: data = {text}; ``answer_reset``: data = {reason}, the answer text streamed so far is taken back
    and the next ``token`` events write its replacement; ``final``: ``result`` is set (its answer is the one kept)."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    result: AgentResult | None = None


def result_entity(step: AgentStep) -> str | None:
    """The product (or series) a successful step's result is about, when it is about exactly one."""
    if not isinstance(step.result, dict) or step.error:
        return None
    for value in (step.result.get("series"), step.result.get("product_id"), step.arguments.get("product_id")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
