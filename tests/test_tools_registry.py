"""Tool registry: JSON schema derived from signatures and docstrings, and argument validation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest

from assistant.errors import ToolError
from assistant.tools.registry import (
    Range,
    Tool,
    ToolArgumentError,
    ToolRegistry,
    ToolResult,
    parse_docstring,
    tool,
    type_to_schema,
)


def sample(ctx: Any, product_id: str, horizon: Annotated[int, Range(1, 52)] = 12,
           level: Literal[80, 95] = 80, mode: Literal["fast", "full"] = "fast", scale: float = 1.0,
           plot: bool = False, ids: list[str] | None = None, attributes: dict[str, str] | None = None,
           note: str | None = None) -> dict[str, Any]:
    """Forecast demand for a product.

    More detail that stays in the summary paragraph.

    Args:
        product_id: The product to forecast, e.g. "R85123A".
        horizon: Weeks ahead. A long description
            that continues on the next line.
        level (int): Interval level in percent.
        mode: Speed/accuracy trade-off.
        scale: Multiplier.
        plot: Whether to plot.
        ids: Extra ids.
        attributes: Key/value attributes.
        note: Free text.

    Returns:
        A dict.
    """
    return {"ctx": ctx, "product_id": product_id, "horizon": horizon, "level": level, "ids": ids, "note": note}


def test_schema_types_enums_defaults_and_descriptions() -> None:
    t = Tool.from_function(sample)
    assert t.name == "sample" and t.takes_context
    assert t.description == "Forecast demand for a product. More detail that stays in the summary paragraph."
    p = t.parameters
    assert p["type"] == "object" and p["additionalProperties"] is False
    assert p["required"] == ["product_id"]  # ctx is not a parameter; defaults are not required
    props = p["properties"]
    assert "ctx" not in props
    assert props["product_id"] == {"type": "string", "description": 'The product to forecast, e.g. "R85123A".'}
    assert props["horizon"] == {"type": "integer", "minimum": 1, "maximum": 52, "default": 12,
                                "description": "Weeks ahead. A long description that continues on the next line."}
    assert props["level"]["type"] == "integer" and props["level"]["enum"] == [80, 95]
    assert props["level"]["description"] == "Interval level in percent."  # "name (type):" form
    assert props["mode"] == {"type": "string", "enum": ["fast", "full"], "default": "fast",
                             "description": "Speed/accuracy trade-off."}
    assert props["scale"]["type"] == "number" and props["scale"]["default"] == 1.0
    assert props["plot"]["type"] == "boolean" and props["plot"]["default"] is False
    assert props["ids"]["type"] == "array" and props["ids"]["items"] == {"type": "string"}
    assert "default" not in props["ids"]  # Optional with None default: just not required
    assert props["attributes"]["type"] == "object"
    assert props["attributes"]["additionalProperties"] == {"type": "string"}
    assert props["note"]["type"] == "string"
    assert t.spec() == {"name": "sample", "description": t.description, "parameters": p}


def test_decorator_forms_and_plain_function_without_context() -> None:
    @tool
    def add(a: int, b: int = 2) -> dict[str, int]:
        """Add two numbers."""
        return {"sum": a + b}

    @tool(name="renamed", description="Custom description.")
    def other(x: str) -> dict[str, str]:
        return {"x": x}

    assert isinstance(add, Tool) and not add.takes_context
    assert add.run(None, {"a": 1}).data == {"sum": 3}
    assert other.name == "renamed" and other.description == "Custom description."
    assert other.parameters["properties"]["x"] == {"type": "string"}


def test_type_errors_for_undescribable_signatures() -> None:
    def untyped(ctx: Any, x) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return {}

    def star(*args: int) -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match="needs a type annotation"):
        Tool.from_function(untyped)
    with pytest.raises(TypeError, match=r"\*args"):
        Tool.from_function(star)
    with pytest.raises(TypeError, match="cannot be described"):
        type_to_schema(complex)
    with pytest.raises(TypeError, match="dict keys must be str"):
        type_to_schema(dict[int, str])
    assert type_to_schema(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}
    assert type_to_schema(int | str) == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_parse_docstring_sections() -> None:
    summary, args = parse_docstring("Do a thing.\n\nArgs:\n    a: first\n    *b: second\n\nRaises:\n    ValueError: x\n")
    assert summary == "Do a thing."
    assert args == {"a": "first", "b": "second"}  # Raises entries are not parameters
    assert parse_docstring("") == ("", {})


def test_validation_coerces_what_small_models_send() -> None:
    t = Tool.from_function(sample)
    args = t.validate({"product_id": 85123, "horizon": "8", "level": 95.0, "ids": "R1", "scale": "1,500",
                       "note": None, "attributes": {"color": "red"}})
    assert args == {"product_id": "85123", "horizon": 8, "level": 95, "ids": ["R1"], "scale": 1500.0,
                    "attributes": {"color": "red"}}  # null for an optional parameter -> default
    noisy = t.validate({"product_id": "R1", "scale": 0.5000000000000001})["scale"]
    assert repr(noisy) == "0.5" and t.validate({"product_id": "R1", "scale": "0.30000000000000004"})["scale"] == 0.3


@pytest.mark.parametrize("bad, message", [
    ({}, "missing required argument 'product_id'"),
    ({"product_id": "R1", "horizon": 0}, "'horizon' must be >= 1"),
    ({"product_id": "R1", "horizon": 53}, "'horizon' must be <= 52"),
    ({"product_id": "R1", "horizon": 2.5}, "'horizon' must be an integer"),
    ({"product_id": "R1", "level": 90}, "'level' must be one of [80, 95]"),
    ({"product_id": "R1", "mode": "slow"}, "'mode' must be one of ['fast', 'full']"),
    ({"product_id": "R1", "scale": "1,5"}, "'scale' must be a number"),
    ({"product_id": "R1", "plot": "yes"}, "'plot' must be true or false"),
    ({"product_id": "R1", "ids": [1, {"a": 1}]}, "'ids[1]' must be a string"),
    ({"product_id": "R1", "attributes": ["x"]}, "'attributes' must be an object"),
    ({"product_id": "R1", "colour": "red"}, "unknown argument 'colour'"),
    ({"product_id": None}, "'product_id' is required and cannot be null"),
])
def test_validation_errors_tell_the_model_what_to_fix(bad: dict[str, Any], message: str) -> None:
    t = Tool.from_function(sample)
    with pytest.raises(ToolArgumentError) as exc:
        t.validate(bad)
    text = str(exc.value)
    assert message in text
    assert text.startswith("Invalid arguments for sample:")
    assert "Expected parameters: product_id: string (required), horizon: integer 1..52 (default 12)" in text
    assert isinstance(exc.value, ToolError)  # the agent turns it into an observation


def test_all_problems_are_listed_at_once() -> None:
    t = Tool.from_function(sample)
    with pytest.raises(ToolArgumentError) as exc:
        t.validate({"horizon": -1, "x": 1})
    text = str(exc.value)
    assert "unknown argument 'x'" in text and "'horizon' must be >= 1" in text and "missing required" in text


def test_non_object_arguments_and_bad_return_type() -> None:
    t = Tool.from_function(sample)
    with pytest.raises(ToolArgumentError, match="must be a JSON object"):
        t.validate(["R1"])  # type: ignore[arg-type]

    @tool
    def bad() -> dict[str, Any]:
        """Returns the wrong thing."""
        return [1, 2]  # type: ignore[return-value]

    with pytest.raises(TypeError, match="must return a dict or ToolResult"):
        bad.run(None, {})
    result = Tool.from_function(sample).run("CTX", {"product_id": "R1"})
    assert isinstance(result, ToolResult) and result.data["ctx"] == "CTX" and result.artifacts == []


def test_registry_names_specs_and_duplicates() -> None:
    reg = ToolRegistry([Tool.from_function(sample)])
    reg.register(lambda_tool := Tool.from_function(lambda_free))
    assert reg.names() == ["sample", "lambda_free"] and len(reg) == 2
    assert "sample" in reg and "delete_everything" not in reg
    assert reg.get("lambda_free") is lambda_tool and reg.get("nope") is None
    assert [s["name"] for s in reg.specs()] == ["sample", "lambda_free"]
    with pytest.raises(ValueError, match="already registered"):
        reg.register(sample)


def lambda_free(query: str) -> dict[str, Any]:
    """Echo."""
    return {"query": query}


def test_builtin_tools_have_complete_schemas() -> None:
    from assistant.tools import default_registry

    reg = default_registry()
    assert reg.names() == ["forecast_demand", "forecast_new_product", "find_similar_products", "review_stats",
                           "search_reviews", "recommend_audience", "plan_launch"]
    for spec in reg.specs():
        assert spec["description"], spec["name"]
        for pname, prop in spec["parameters"]["properties"].items():
            assert prop.get("description"), f"{spec['name']}.{pname} has no description"
            assert prop.get("type") or prop.get("enum"), f"{spec['name']}.{pname} has no type"
    fd = reg.get("forecast_demand")
    assert fd is not None
    assert fd.parameters["properties"]["level"]["enum"] == [80, 90, 95]
    assert fd.parameters["properties"]["horizon"]["maximum"] == 52
    assert reg.get("search_reviews").parameters["required"] == ["query"]  # type: ignore[union-attr]
    assert reg.get("forecast_new_product").parameters["required"] == ["title"]  # type: ignore[union-attr]
