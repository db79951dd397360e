"""Tools are plain typed Python functions with Google-style docstrings. ``Tool.from_function`` (or the
``@tool`` decorator) derives the JSON schema the model sees from the signature:

- ``str``/``int``/``float``/``bool`` -> ``string``/``integer``/``number``/``boolean``
- ``list[X]`` / ``tuple[X, ...]`` -> ``array`` of X; ``dict[str, X]`` -> ``object`` of X
- ``Literal["a", "b"]`` -> ``enum``; ``X | None`` -> X (the model may also send ``null``)
- a parameter with a default is not required; ``Annotated[int, Range(1, 52)]`` adds min/max
- the docstring's summary is the tool description, its ``Args:`` section the parameter descriptions.

A first parameter named ``ctx`` receives the :class:`~assistant.tools.context.ToolContext` and is not
part of the schema. Arguments chosen by the model are validated again here (``validate``) before the
function runs: a bad argument raises :class:`ToolArgumentError` whose message tells the model what to fix.
"""

from __future__ import annotations

import base64
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from assistant.tools.validate import ToolArgumentError, validate_arguments

_SCALARS: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_CONTEXT_PARAM = "ctx"


@dataclass(frozen=True)
class Range:
    """``Annotated`` metadata: inclusive bounds of a numeric parameter."""

    minimum: float | None = None
    maximum: float | None = None


@dataclass
class Artifact:
    """Something a tool produced for the user, not the model (e.g. a forecast plot)."""

    kind: Literal["image"]
    mime: str
    data: bytes
    title: str = ""

    def as_dict(self, *, include_data: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "mime": self.mime, "title": self.title, "bytes": len(self.data)}
        if include_data:
            out["data_base64"] = base64.b64encode(self.data).decode("ascii")
        return out


@dataclass
class ToolResult:
    """What a tool returns: ``data`` (small JSON-able dict, sent to the model) and ``artifacts``
    (images for the UI, never sent to the model)."""

    data: dict[str, Any]
    artifacts: list[Artifact] = field(default_factory=list)


@dataclass
class Tool:
    """A callable tool with a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    takes_context: bool = False

    @classmethod
    def from_function(cls, func: Callable[..., Any], *, name: str | None = None,
                      description: str | None = None) -> Tool:
        summary, arg_docs = parse_docstring(inspect.getdoc(func) or "")
        sig = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
        properties: dict[str, Any] = {}
        required: list[str] = []
        takes_context = False
        for i, (pname, param) in enumerate(sig.parameters.items()):
            if i == 0 and pname == _CONTEXT_PARAM:
                takes_context = True
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"Tool {func.__name__}: *args/**kwargs cannot be described by a schema.")
            if pname not in hints:
                raise TypeError(f"Tool {func.__name__}: parameter {pname!r} needs a type annotation.")
            schema = type_to_schema(hints[pname], where=f"{func.__name__}.{pname}")
            if pname in arg_docs:
                schema["description"] = arg_docs[pname]
            if param.default is inspect.Parameter.empty:
                required.append(pname)
            elif param.default is not None and _json_able(param.default):
                schema["default"] = list(param.default) if isinstance(param.default, tuple) else param.default
            properties[pname] = schema
        parameters: dict[str, Any] = {"type": "object", "properties": properties, "required": required,
                                      "additionalProperties": False}
        return cls(name=name or func.__name__, description=description or summary, parameters=parameters,
                   func=func, takes_context=takes_context)

    def spec(self) -> dict[str, Any]:
        """The tool as the model sees it: ``{"name", "description", "parameters"}``."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def validate(self, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """Check ``arguments`` against the schema; returns them (lightly coerced, ``null`` dropped)."""
        return validate_arguments(self.parameters, arguments, tool=self.name)

    def run(self, ctx: Any, arguments: Mapping[str, Any] | None) -> ToolResult:
        """Validate and call. Returns a ToolResult; raises ToolError (bad arguments or tool failure)."""
        args = self.validate(arguments)
        out = self.func(ctx, **args) if self.takes_context else self.func(**args)
        if isinstance(out, ToolResult):
            return out
        if isinstance(out, dict):
            return ToolResult(data=out)
        raise TypeError(f"Tool {self.name} returned {type(out).__name__}; tools must return a dict or ToolResult.")


def tool(func: Callable[..., Any] | None = None, *, name: str | None = None,
         description: str | None = None) -> Any:
    """Decorator: ``@tool`` or ``@tool(name=...)`` turns a typed function into a :class:`Tool`."""
    if func is None:
        return lambda f: Tool.from_function(f, name=name, description=description)
    return Tool.from_function(func, name=name, description=description)


class ToolRegistry:
    """The set of tools an agent may call. Only registered tools can ever run."""

    def __init__(self, tools: Sequence[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.register(t)

    def register(self, t: Tool | Callable[..., Any]) -> Tool:
        t = t if isinstance(t, Tool) else Tool.from_function(t)
        if t.name in self._tools:
            raise ValueError(f"A tool named {t.name!r} is already registered.")
        self._tools[t.name] = t
        return t

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        return [t.spec() for t in self._tools.values()]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)


# --------------------------------------------------------------------------- schema derivation


def type_to_schema(tp: Any, *, where: str = "") -> dict[str, Any]:
    """JSON schema of a Python type annotation (the subset tools use)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        schema = type_to_schema(args[0], where=where)
        for meta in args[1:]:
            if isinstance(meta, Range):
                if meta.minimum is not None:
                    schema["minimum"] = meta.minimum
                if meta.maximum is not None:
                    schema["maximum"] = meta.maximum
            elif isinstance(meta, str):
                schema["description"] = meta
        return schema
    if origin in (Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        if len(non_null) == 1:
            return type_to_schema(non_null[0], where=where)  # Optional[X]: null accepted by validate()
        return {"anyOf": [type_to_schema(a, where=where) for a in non_null]}
    if origin is Literal:
        values = list(args)
        kinds = {type(v) for v in values}
        schema = {"enum": values}
        if len(kinds) == 1 and next(iter(kinds)) in _SCALARS:
            schema = {"type": _SCALARS[next(iter(kinds))], "enum": values}
        return schema
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if origin in (list, Sequence, tuple, set, frozenset) or tp in (list, tuple):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise TypeError(f"{where}: only tuple[X, ...] is supported in tool signatures.")
        item = args[0] if args else Any
        return {"type": "array", "items": type_to_schema(item, where=where)} if item is not Any else {"type": "array"}
    if origin in (dict, Mapping) or tp is dict:
        if args and args[0] is not str:
            raise TypeError(f"{where}: dict keys must be str in tool signatures.")
        value = args[1] if args else Any
        schema = {"type": "object"}
        if value is not Any:
            schema["additionalProperties"] = type_to_schema(value, where=where)
        return schema
    if tp is Any:
        return {}
    raise TypeError(f"{where}: type {tp!r} cannot be described as JSON schema; use str/int/float/bool/"
                    f"list/dict/Literal.")


_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_SECTIONS = {"args", "arguments", "parameters", "params", "returns", "return", "raises", "yields",
             "examples", "example", "note", "notes"}


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(summary, {param: description}) from a Google-style docstring. The summary is the text before
    the first section header, joined into one paragraph."""
    lines = doc.expandtabs().splitlines()
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    arg_indent: int | None = None
    for raw in lines:
        stripped = raw.strip()
        header = stripped[:-1].strip().lower() if stripped.endswith(":") else None
        indent = len(raw) - len(raw.lstrip())
        if header in _SECTIONS and indent == 0:
            section, current, arg_indent = header, None, None
            continue
        if section is None:
            summary.append(stripped)
            continue
        if section not in {"args", "arguments", "parameters", "params"} or not stripped:
            continue
        m = _ARG_LINE.match(stripped)
        if m and (arg_indent is None or indent <= arg_indent):
            arg_indent = indent
            current = m.group(1).lstrip("*")
            args[current] = m.group(3).strip()
        elif current is not None:
            args[current] = (args[current] + " " + stripped).strip()
    text = " ".join(s for s in summary if s)
    return text.strip(), args


def _json_able(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_json_able(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_able(v) for k, v in value.items())
    return False


__all__ = ["Artifact", "Range", "Tool", "ToolArgumentError", "ToolRegistry", "ToolResult", "parse_docstring",
           "tool", "type_to_schema", "validate_arguments"]
