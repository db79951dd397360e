"""Launch analytics tools: who to target with a product, and how to split a launch budget."""

from __future__ import annotations

from typing import Annotated, Any

from assistant.errors import AssistantError, ToolError
from assistant.tools.context import ID_HINT, ToolContext
from assistant.tools.registry import Range, tool


@tool
def recommend_audience(ctx: ToolContext, product_id: str | None = None, text: str | None = None,
                       k: Annotated[int, Range(1, 20)] = 5) -> dict[str, Any]:
    """Recommend the customer segments / audiences most likely to buy a product (existing id or a new product's description).

    Args:
        product_id: Id of an existing product, e.g. "R85123A". Give this or text.
        text: Description of a new product, e.g. "ceramic tea light holder".
        k: How many audiences to return.
    """
    from assistant.recommend import recommend_audience as run

    if not product_id and not (text and text.strip()):
        raise ToolError("Give product_id (an existing product) or text (a description of a new product).")
    if product_id:
        product_id = str(ctx.product(product_id)["product_id"])
    try:
        return dict(run(ctx.get_catalog(), product_id=product_id, text=text, k=k))
    except AssistantError as exc:
        raise ToolError(f"{exc} {ID_HINT}") from exc


@tool
def plan_launch(ctx: ToolContext, candidates: list[str], budget: Annotated[float, Range(0)],
                horizon: Annotated[int, Range(1, 52)] = 12) -> dict[str, Any]:
    """Choose which candidate products to launch and how to split a marketing budget between them, from forecast demand and margins.

    Args:
        candidates: Ids of the candidate products, e.g. ["R85123A", "R22423"].
        budget: Total launch budget in currency units.
        horizon: Planning horizon in weeks.
    """
    from assistant.plan import plan_launch as run

    if not candidates:
        raise ToolError(f"candidates must list at least one product id. {ID_HINT}")
    ids = [str(ctx.product(pid)["product_id"]) for pid in dict.fromkeys(candidates)]
    try:
        return dict(run(ctx.get_catalog(), ids, budget, horizon=horizon))
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc
