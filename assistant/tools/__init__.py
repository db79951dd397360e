"""Tools the agent can call: typed functions whose JSON schema is derived from their signature.

    from assistant.tools import default_registry, ToolContext
    registry = default_registry()
    registry.get("review_stats").run(ToolContext(), {"product_id": "C1078"}).data
"""

from assistant.tools.context import ToolContext
from assistant.tools.registry import (
    Artifact,
    Range,
    Tool,
    ToolArgumentError,
    ToolRegistry,
    ToolResult,
    tool,
    validate_arguments,
)

__all__ = ["Artifact", "Range", "Tool", "ToolArgumentError", "ToolContext", "ToolRegistry", "ToolResult",
           "default_registry", "default_tools", "tool", "validate_arguments"]


def default_tools() -> list[Tool]:
    """The built-in tools (imported on first use)."""
    from assistant.tools.builtin import default_tools as _default

    return _default()


def default_registry() -> ToolRegistry:
    from assistant.tools.builtin import default_registry as _default

    return _default()
