"""The launch-analytics part of the MerchAssistant facade: demand and new-product forecasts, review
sentiment, audiences for a product, and launch-portfolio plans. Each method delegates to assistant.sentiment / recommend / plan through the
same tool context the assistant's tools use, so front-ends and the agent get the same numbers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError, DataValidationError

if TYPE_CHECKING:  # pragma: no cover
    from assistant.tools.context import ToolContext


class LaunchAnalytics:
    """Mixed into :class:`assistant.service.MerchAssistant` (which provides ``settings`` and
    ``tool_context``)."""

    settings: Settings

    def tool_context(self) -> ToolContext:  # pragma: no cover - provided by MerchAssistant
        raise NotImplementedError

    def forecast_demand(self, unique_ids: list[str] | None, h: int = 12, *, level: list[int] | None = None,
                        models: list[str] | None = None, plot: bool = False) -> dict[str, Any]:
        from assistant.forecast.demand import forecast_demand, forecast_each

        sales = self.tool_context().get_catalog().sales(unique_ids or None)
        have = set(sales["unique_id"].astype(str))
        missing = [u for u in dict.fromkeys(unique_ids or []) if u not in have]
        if missing:
            shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            raise AssistantError(f"No sales history for {len(missing)} of the requested series: {shown}. Check the "
                                 "ids (series ids are matched exactly) or ingest their sales first.")
        if not len(sales):
            raise AssistantError("No sales history in the store: ingest a sales file first.")
        # picked series are forecast each on their own (same numbers whatever else is picked); the whole store at once
        run = forecast_each if unique_ids else forecast_demand
        result = run(sales, h, level=tuple(level or (80, 95)), models=models)
        out = dict(result.to_dict(max_series=len(result.chosen)))  # every requested series, in the request's order
        if unique_ids:
            rank = {u: i for i, u in enumerate(dict.fromkeys(unique_ids))}
            out["series"] = sorted(out["series"], key=lambda e: rank.get(str(e["unique_id"]), len(rank)))
            twice = [u for u in rank if unique_ids.count(u) > 1]
            if twice:
                out["notes"] = [*out.get("notes", []), f"asked more than once, forecast once: {', '.join(twice[:10])}"]
        if plot:
            from assistant.forecast.plot import plot_forecast

            out["plot_png"] = plot_forecast(sales, result.frame)
        return out

    def forecast_new_product(self, product: dict[str, Any], horizon: int = 12, *,
                             plot: bool = False) -> dict[str, Any]:
        """Launch curve (weekly units after launch, with interval) of a product with no sales yet,
        learned from past launches in the catalog (fitted once per service, refreshed after ingest)."""
        from assistant.forecast import plot_curve
        from assistant.tools.forecast_tools import new_product_forecast

        price = product.get("price")
        if price is not None and (isinstance(price, bool) or not isinstance(price, int | float) or price < 0):
            raise DataValidationError(f"The price must be a number >= 0 (got {price!r}).")
        if not str(product.get("title") or "").strip():
            raise DataValidationError("Give the new product a title, e.g. 'Star fairy lights'.")
        out = dict(new_product_forecast(self.tool_context(), dict(product), horizon))
        if plot:
            out["plot_png"] = plot_curve(out["weeks"], out["yhat"], out["lo"], out["hi"],
                                         title=f"{product.get('title') or 'New product'}: first {horizon} weeks")
        return out

    def series_ids(self) -> list[str]:
        """Ids of the sales series in the catalog."""
        sales = self.tool_context().get_catalog().sales()
        return sorted({str(u) for u in sales["unique_id"]}) if len(sales) else []

    def classify_reviews(self, texts: list[str]) -> dict[str, Any]:
        """Sentiment label, 1-5 rating estimate and probabilities per text, from the trained model in the
        store (``assistant sentiment train``), or the lexicon fallback (labels only) when none is trained."""
        from assistant.sentiment.service import predict_texts

        return predict_texts(list(texts), self.settings)

    def audience(self, product: str, k: int = 20) -> dict[str, Any]:
        """Customers most likely to buy ``product`` (a catalog id, or a description of a new product) with
        scores and a segment summary; "customers also bought" for existing products."""
        from assistant.tools.analytics_tools import audience_for

        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
            raise DataValidationError(f"k must be a whole number from 1 to 1000 (got {k!r}).")
        with _for_people():
            return audience_for(self.tool_context(), product, k)

    def plannable_products(self) -> list[tuple[str, str]]:
        """(product_id, title) of the catalog products with a price, the ones a plan can weigh."""
        df = self.tool_context().products()
        if df.empty:
            return []
        df = df[df["price"].notna()]
        return [(str(p), str(t or "")) for p, t in zip(df["product_id"], df["title"], strict=True)]

    def plan_launch(self, budget: float, *, products: Sequence[str | dict[str, Any]] | None = None,
                    candidates: Sequence[dict[str, Any]] | str | Path | None = None, horizon: int = 12,
                    max_per_category: int | None = None, shelf_slots: int | None = None, risk: float = 0.5,
                    cost_share: float = 0.5, plot: bool = False) -> dict[str, Any]:
        """Choose which products to launch under ``budget`` (exact MILP), explaining every decision.

        Give exactly one of ``products`` (catalog ids and/or draft products as dicts with product_id, title,
        category, price[, unit_cost, attributes, launch_date]; each is forecast over ``horizon`` weeks from
        its sales history or from similar past launches) or ``candidates`` (rows, or a CSV path, that carry
        their own forecast_mean / forecast_low, unit_cost and price). ``plot`` adds a PNG margin chart."""
        from assistant.plan import plan_portfolio, plan_rows, read_candidates_csv
        from assistant.tools.analytics_tools import plan_products

        if (products is None) == (candidates is None):
            raise DataValidationError("Give exactly one of products (ids or drafts to forecast) or candidates "
                                      "(rows with their own forecasts).")
        if products is not None:
            ctx = self.tool_context()
            with _for_people():
                rows = [ctx.product(p) if isinstance(p, str) else dict(p) for p in products]
                out = plan_products(ctx, rows, budget, horizon=horizon, max_per_category=max_per_category,
                                    shelf_slots=shelf_slots, risk=risk, cost_share=cost_share)
        elif isinstance(candidates, str | Path):
            out = plan_portfolio(read_candidates_csv(candidates), budget, max_per_category=max_per_category,
                                 shelf_slots=shelf_slots, risk=risk)
        else:
            assert candidates is not None
            out = plan_rows(candidates, budget, max_per_category=max_per_category, shelf_slots=shelf_slots,
                            risk=risk)
        if plot:
            from assistant.plan.plot import plot_plan

            out["plot_png"] = plot_plan(out)
        return out


@contextmanager
def _for_people() -> Iterator[None]:
    """Tool errors reached from the CLI, API or UI: the hint written for the model (call find_similar_products)
    becomes one for people (search the catalog)."""
    from assistant.data.catalog import PEOPLE_ID_HINT
    from assistant.errors import ToolError
    from assistant.tools.context import ID_HINT

    try:
        yield
    except ToolError as exc:
        raise AssistantError(str(exc).replace(ID_HINT, PEOPLE_ID_HINT)) from exc
