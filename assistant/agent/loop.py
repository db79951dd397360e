"""The tool-calling loop. The model picks a tool and its arguments (constrained to the tools' schemas by
the backend), code validates the arguments again, runs the tool and hands the result back as a tool
message wrapped as untrusted data; repeated until the model answers or the step limit is hit.

Safety properties (tested with the scripted fake model):
- only tools in the registry can run; an unknown name becomes an observation, never a call;
- tool results (which may contain review text) are data: they are JSON-escaped so they cannot open or
  close message/tool tags, and nothing in them is ever parsed as a tool call by this loop;
- a tool error or bad arguments go back to the model as an observation, never a crash;
- every number in the final answer is checked against the tool results and the question
  (:mod:`assistant.numbers`); numbers found nowhere are flagged.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.agent.context import escape_json, fit_conversation
from assistant.errors import AssistantError, ToolError
from assistant.llm.base import LLM, Generation, Message, ToolCall
from assistant.llm.toolcall import AnswerStream, parse_tool_reply, tools_instructions
from assistant.numbers import check_attribution, check_numbers
from assistant.prompts import render
from assistant.tools.registry import Artifact, Tool, ToolArgumentError, ToolRegistry

log = logging.getLogger(__name__)
# a reply that starts a tool call but did not parse as one (a final answer cut short is kept by parse_tool_reply)
_UNFINISHED_CALL = re.compile(r'\s*\{\s*"(?:tool|name)"\s*:\s*"(?!final_answer")')

EventType = Literal["tool_call", "tool_result", "token", "final"]
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
                  "llm_error", "cancelled", "context_trimmed", "misattributed_number"]
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

    def as_dict(self, *, include_artifact_data: bool = False) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "stopped": self.stopped, "model": self.model,
                "duration_s": round(self.duration_s, 3), "steps": [s.as_dict() for s in self.steps],
                "artifacts": [a.as_dict(include_data=include_artifact_data) for a in self.artifacts],
                "flags": [f.as_dict() for f in self.flags]}


@dataclass
class AgentEvent:
    """A streaming event. ``tool_call``: data = {step, tool, arguments}; ``tool_result``: data = step dict
    (+ ``artifacts`` objects in ``artifacts``); ``token``: data = {text}; ``final``: ``result`` is set."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    result: AgentResult | None = None


class Agent:
    """``Agent(llm, tools, max_steps=5).run(question) -> AgentResult``; ``stream(question)`` yields events."""

    def __init__(self, llm: LLM, tools: ToolRegistry | list[Tool], *, context: Any = None, max_steps: int = 5,
                 max_tokens: int | None = None, system_prompt: str = "agent_system") -> None:
        self.llm = llm
        self.tools = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        self.context = context
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self._instruction_tokens: int | None = None

    # ------------------------------------------------------------------ public API

    def run(self, question: str, *, history: list[Message] | None = None,
            cancel: threading.Event | None = None) -> AgentResult:
        """Answer ``question`` (optionally after earlier chat ``history``), calling tools as needed."""
        final: AgentResult | None = None
        for event in self.stream(question, history=history, cancel=cancel):
            if event.type == "final":
                final = event.result
        assert final is not None
        return final

    def warm_up(self) -> None:
        """Read the fixed start of every question's prompt (instructions + tool schemas, ~2,300 tokens with
        the default tools) into the model now, generating one token, so the first real question reuses it.
        With the llama.cpp prompt cache the state is also kept on disk for later processes."""
        self.llm.generate(self._opening("Hello."), tools=self.tools.specs(), max_tokens=1)

    def _opening(self, question: str, history: list[Message] | None = None) -> list[Message]:
        return [
            {"role": "system", "content": render(self.system_prompt, tools=self.tools.specs(),
                                                 max_steps=self.max_steps)},
            *(history or []),
            {"role": "user", "content": question},
        ]

    def stream(self, question: str, *, history: list[Message] | None = None,
               cancel: threading.Event | None = None) -> Iterator[AgentEvent]:
        """Like :meth:`run` but yields ``tool_call``, ``tool_result``, ``token`` and ``final`` events."""
        started = time.perf_counter()
        messages = self._opening(question, history)
        result = AgentResult(question=question, answer="", model=getattr(self.llm, "name", ""))
        seen: dict[str, AgentStep] = {}
        answer: str | None = None
        streamed = False
        rounds = 0
        while answer is None:
            if cancel is not None and cancel.is_set():
                result.stopped = "cancelled"
                result.flags.append(AgentFlag("cancelled", "Stopped on request before a final answer."))
                answer = self._partial_answer(result, "I was stopped before finishing.")
                break
            if rounds >= self.max_steps:
                result.stopped = "step_limit"
                result.flags.append(AgentFlag("step_limit", f"Stopped after {self.max_steps} tool rounds "
                                              "without a final answer."))
                answer = self._partial_answer(
                    result, f"I stopped after {len(result.steps)} tool calls (step limit) without a final answer.")
                break
            rounds += 1
            reader = AnswerStream()
            fit = fit_conversation(self.llm, messages, max_tokens=self._answer_tokens(),
                                   fixed_tokens=self._tool_instruction_tokens(), question=len(history or []) + 1)
            if fit.changed and not any(f.kind == "context_trimmed" for f in result.flags):
                result.flags.append(AgentFlag("context_trimmed", (
                    f"Earlier chat turns or older tool results were shortened so the conversation fits the model's "
                    f"{self.llm.context_length}-token context; the answer's numbers are still checked against the "
                    "full results."), {"changed_messages": fit.changed}))
            try:  # streamed, so a final answer reaches the user token by token
                out = self.llm.generate(fit.messages, tools=self.tools.specs(), max_tokens=self.max_tokens,
                                        cancel=cancel, stream=True)
                for piece in [] if isinstance(out, Generation) else out:  # a backend may ignore stream=True
                    text = reader.feed(piece)
                    if text:
                        yield AgentEvent("token", {"text": text})
            except AssistantError as exc:
                result.stopped = "llm_error"
                result.flags.append(AgentFlag("llm_error", str(exc)))
                answer = self._partial_answer(result, f"The language model failed: {exc}")
                break
            if cancel is not None and cancel.is_set():
                continue  # handled at the top of the loop
            gen = out if isinstance(out, Generation) else parse_tool_reply(reader.text, self.tools.specs(),
                                                                           model=result.model)
            if not gen.tool_calls and _UNFINISHED_CALL.match(gen.text):  # cut off: full context or max_tokens
                result.stopped = "llm_error"
                result.flags.append(AgentFlag("llm_error", "The model's reply was cut off in the middle of a tool "
                                              "call (its context or token budget ran out)."))
                answer = self._partial_answer(result, "The model ran out of room before answering.")
                break
            if not gen.tool_calls:
                answer = gen.text.strip() or self._partial_answer(result, "The model returned an empty answer.")
                streamed = reader.streamed
                break
            for call in gen.tool_calls:
                if len(result.steps) >= self.max_steps * 2:  # many calls in one round: hard cap
                    break
                yield AgentEvent("tool_call", {"step": len(result.steps) + 1, "tool": call.name,
                                               "arguments": call.arguments})
                step = self._execute(call, seen, result)
                result.steps.append(step)
                result.artifacts.extend(step.artifacts)
                messages.append({"role": "assistant", "content": json.dumps(
                    {"tool": call.name, "arguments": call.arguments}, ensure_ascii=False, default=str)})
                messages.append({"role": "tool", "name": call.name, "content": self._observation(step)})
                yield AgentEvent("tool_result", {"step": len(result.steps), **step.as_dict()},
                                 artifacts=list(step.artifacts))
        result.answer = answer
        if not streamed:  # code-built answers (step limit, errors) and replies that were not streamed JSON
            for piece in re.findall(r"\s*\S+|\s+", answer):
                yield AgentEvent("token", {"text": piece})
        self._check_numbers(result)
        result.duration_s = time.perf_counter() - started
        yield AgentEvent("final", result.as_dict(), artifacts=list(result.artifacts), result=result)

    def _answer_tokens(self) -> int:
        """Tokens kept free for the model's reply when fitting the conversation."""
        return self.max_tokens or int(getattr(self.llm, "max_tokens", 512))

    def _tool_instruction_tokens(self) -> int:
        """Tokens of the tool instructions the backends append to the system message (counted once)."""
        if self._instruction_tokens is None:
            self._instruction_tokens = self.llm.count_tokens(tools_instructions(self.tools.specs())) + 2
        return self._instruction_tokens

    # ------------------------------------------------------------------ steps

    def _execute(self, call: ToolCall, seen: dict[str, AgentStep], result: AgentResult) -> AgentStep:
        t0 = time.perf_counter()
        args = dict(call.arguments) if isinstance(call.arguments, dict) else {}
        step = AgentStep(tool=call.name, arguments=args)
        tool = self.tools.get(call.name)
        if tool is None:
            step.error = (f"There is no tool named {call.name!r}; nothing was run. "
                          f"Available tools: {', '.join(self.tools.names())}.")
            result.flags.append(AgentFlag("unknown_tool", f"The model asked for an unknown tool {call.name!r}; "
                                          "it was not run.", {"tool": call.name}))
        else:
            key = json.dumps([call.name, args], sort_keys=True, default=str)
            try:
                if key in seen:  # a repeated call: no re-run, no second copy of the result, a nudge to answer
                    step.result = {"note": f"Same call as step {result.steps.index(seen[key]) + 1}; its result "
                                           "is above. Answer now from it."}
                else:
                    out = tool.run(self.context, args)
                    step.result, step.artifacts = out.data, out.artifacts
                    seen[key] = step
            except ToolArgumentError as exc:
                step.error = str(exc)
                result.flags.append(AgentFlag("invalid_arguments", str(exc), {"tool": call.name}))
            except (ToolError, AssistantError) as exc:
                step.error = str(exc)
            except Exception as exc:  # a bug in a tool must not kill the conversation
                log.exception("tool %s failed", call.name)
                step.error = f"The tool failed with an internal error ({type(exc).__name__}: {exc})."
                result.flags.append(AgentFlag("tool_failure", step.error, {"tool": call.name}))
        step.duration_s = time.perf_counter() - t0
        return step

    @staticmethod
    def _observation(step: AgentStep) -> str:
        payload = {"error": step.error} if step.error else step.result
        return render("agent_tool_result", tool_name=step.tool, ok=step.ok, payload=escape_json(payload))

    @staticmethod
    def _partial_answer(result: AgentResult, reason: str) -> str:
        """An answer built by code from what the tools returned (no numbers that are not in a result)."""
        if not result.steps:
            return f"{reason} No tool results are available."
        lines = [f"{reason} What the tools returned so far:"]
        for step in result.steps:
            args = ", ".join(f"{k}={v!r}" for k, v in step.arguments.items())
            body = f"error: {step.error}" if step.error else escape_json(step.result)
            lines.append(f"- {step.tool}({args}): {_clip(body, 600)}")
        return "\n".join(lines)

    @staticmethod
    def _check_numbers(result: AgentResult) -> None:
        if result.stopped != "answer":
            return  # the answer was built by code from the results themselves
        sources: list[Any] = [result.question]
        for step in result.steps:
            sources += [step.arguments, step.result, step.error]
        check = check_numbers(result.answer, sources)
        for mention in check.unsupported:
            result.flags.append(AgentFlag("unsupported_number", f"The number {mention.text!r} in the answer does "
                                          "not appear in any tool result or the question.",
                                          {"text": mention.text, "start": mention.start, "end": mention.end}))
        for date in check.unsupported_dates:
            result.flags.append(AgentFlag("unsupported_number", f"The date {date!r} in the answer does not "
                                          "appear in any tool result or the question.", {"text": date}))
        by_entity: dict[str, list[Any]] = {}
        shared: list[Any] = [result.question]
        for step in result.steps:
            shared.append(step.arguments)
            entity = _entity(step)
            if entity is None:
                shared.append(step.result)
            else:
                by_entity.setdefault(entity, []).append(step.result)
        for wrong in check_attribution(result.answer, by_entity, shared):
            m = wrong.mention
            result.flags.append(AgentFlag("misattributed_number", f"The number {m.text!r} is written beside "
                                          f"{wrong.entity} but comes from the result for {wrong.source}.",
                                          {"text": m.text, "start": m.start, "end": m.end, "entity": wrong.entity,
                                           "source": wrong.source}))


def _entity(step: AgentStep) -> str | None:
    """The product (or series) a successful step's result is about, when it is about exactly one."""
    if not isinstance(step.result, dict) or step.error:
        return None
    for value in (step.result.get("series"), step.result.get("product_id"), step.arguments.get("product_id")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
