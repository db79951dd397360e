"""Validation of tool-call arguments against the JSON schema derived from a tool's signature (the subset
``assistant.tools.registry`` produces). Errors list every problem and the expected parameters, so the
model can fix its call from the observation alone."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from assistant.errors import ToolError


class ToolArgumentError(ToolError):
    """The arguments of a tool call do not match the tool's schema."""


def validate_arguments(schema: dict[str, Any], arguments: Mapping[str, Any] | None, *,
                       tool: str = "tool") -> dict[str, Any]:
    """Validate tool-call arguments against a derived object schema.

    Light coercions that small models need are applied (``"12"`` -> 12 for integers, ``12.0`` -> 12,
    a lone string where a list of strings is expected -> a one-item list); ``null`` for an optional
    parameter means "use the default". Everything else that does not fit raises ToolArgumentError
    listing every problem and the expected parameters.
    """
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise ToolArgumentError(f"Arguments of {tool} must be a JSON object, got {type(arguments).__name__}.")
    props: dict[str, Any] = schema.get("properties", {})
    required: list[str] = schema.get("required", [])
    problems: list[str] = []
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key not in props:
            problems.append(f"unknown argument {key!r}")
            continue
        if value is None:
            if key in required:
                problems.append(f"{key!r} is required and cannot be null")
            continue
        try:
            out[key] = _check(props[key], value, key)
        except ToolArgumentError as exc:
            problems.append(str(exc))
    for key in required:
        if key not in arguments:
            problems.append(f"missing required argument {key!r}")
    if problems:
        raise ToolArgumentError(f"Invalid arguments for {tool}: " + "; ".join(problems)
                                + f". Expected parameters: {describe_parameters(schema)}.")
    return out


def describe_parameters(schema: dict[str, Any]) -> str:
    """One line such as ``product_id: string (optional), horizon: integer 1..52 (default 12)``."""
    parts = []
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        desc = _type_name(prop)
        if "minimum" in prop or "maximum" in prop:
            desc += f" {prop.get('minimum', '')}..{prop.get('maximum', '')}"
        if key in required:
            desc += " (required)"
        elif "default" in prop:
            desc += f" (default {prop['default']!r})"
        else:
            desc += " (optional)"
        parts.append(f"{key}: {desc}")
    return ", ".join(parts) or "none"


def _type_name(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "one of " + "/".join(repr(v) for v in prop["enum"])
    if prop.get("type") == "array":
        return f"list of {_type_name(prop.get('items', {}))}"
    return str(prop.get("type", "any"))


def _check(prop: dict[str, Any], value: Any, path: str) -> Any:
    kind = prop.get("type")
    if "anyOf" in prop:
        for option in prop["anyOf"]:
            try:
                return _check(option, value, path)
            except ToolArgumentError:
                continue
        raise ToolArgumentError(f"{path!r} has an unsupported value {value!r}")
    if kind == "integer":
        value = _to_int(value, path)
    elif kind == "number":
        value = _to_float(value, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ToolArgumentError(f"{path!r} must be true or false, got {value!r}")
    elif kind == "string":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # an id the model wrote as a number
        if not isinstance(value, str):
            raise ToolArgumentError(f"{path!r} must be a string, got {type(value).__name__}")
        value = value.strip()
    elif kind == "array":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            raise ToolArgumentError(f"{path!r} must be a list, got {type(value).__name__}")
        items = prop.get("items")
        value = [_check(items, v, f"{path}[{i}]") for i, v in enumerate(value)] if items else list(value)
    elif kind == "object":
        if not isinstance(value, Mapping):
            raise ToolArgumentError(f"{path!r} must be an object, got {type(value).__name__}")
        inner = prop.get("additionalProperties")
        value = {str(k): (_check(inner, v, f"{path}.{k}") if isinstance(inner, dict) else v)
                 for k, v in value.items()}
    if "enum" in prop and value not in prop["enum"]:
        raise ToolArgumentError(f"{path!r} must be one of {prop['enum']}, got {value!r}")
    if "minimum" in prop and value < prop["minimum"]:
        raise ToolArgumentError(f"{path!r} must be >= {prop['minimum']}, got {value!r}")
    if "maximum" in prop and value > prop["maximum"]:
        raise ToolArgumentError(f"{path!r} must be <= {prop['maximum']}, got {value!r}")
    return value


def _to_int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise ToolArgumentError(f"{path!r} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise ToolArgumentError(f"{path!r} must be an integer, got {value!r}")


def _to_float(value: Any, path: str) -> float:
    """A number from what a model wrote, its binary noise rounded away (0.5000000000000001 -> 0.5: 12
    significant digits, more than any budget, share or price needs)."""
    if isinstance(value, bool):
        raise ToolArgumentError(f"{path!r} must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return _denoise(float(value))
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text):
            text = text.replace(",", "")  # thousands separators; "1,5" stays an error
        try:
            return _denoise(float(text))
        except ValueError:
            pass
    raise ToolArgumentError(f"{path!r} must be a number, got {value!r}")


def _denoise(x: float) -> float:
    return float(f"{x:.12g}") if math.isfinite(x) else x
