"""The assistant's built-in tools, in the order the model sees them."""

from __future__ import annotations

from assistant.tools.analytics_tools import plan_launch, recommend_audience
from assistant.tools.forecast_tools import forecast_demand, forecast_new_product
from assistant.tools.registry import Tool, ToolRegistry
from assistant.tools.retrieval_tools import find_similar_products, review_stats, search_reviews


def default_tools() -> list[Tool]:
    """Every built-in tool (read-only: none of them changes the store)."""
    return [forecast_demand, forecast_new_product, find_similar_products, review_stats, search_reviews,
            recommend_audience, plan_launch]


def default_registry() -> ToolRegistry:
    return ToolRegistry(default_tools())
