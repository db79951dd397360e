"""Find products similar to a product (by id) or to a free-text description."""

from __future__ import annotations

from assistant.errors import DataValidationError
from assistant.index.hybrid import HybridIndex
from assistant.index.types import Filters, Hit


def similar_products(index: HybridIndex, *, product_id: str | None = None, text: str | None = None,
                     k: int = 5, category: str | None = None) -> list[Hit]:
    """Up to ``k`` product hits most similar to ``product_id`` (its indexed text) or to ``text``
    (hybrid search over products), optionally within a category; the product itself is excluded."""
    if not product_id and not (text and text.strip()):
        raise DataValidationError("similar_products needs a product_id or a text describing the product.")
    query = text or ""
    if product_id:
        rows = index.meta[(index.meta["kind"] == "product") & (index.meta["product_id"] == product_id)]
        if rows.empty:
            raise DataValidationError(
                f"Product {product_id!r} is not in the index; check the id (`assistant search --kind product`) "
                "or add it with `assistant index add FILE --kind products`.")
        query = str(rows.iloc[0]["text"]) if not text else f"{rows.iloc[0]['text']}. {text}"
    others: tuple[str, ...] | None = None
    if product_id:  # exclude the product before fusion so it does not skew score normalisation
        pids = index.meta.loc[index.meta["kind"] == "product", "product_id"]
        others = tuple(pids[pids != product_id])
        if not others:
            return []
    hits = index.search(query, k, kind="product", filters=Filters(product_ids=others, category=category or None))
    return hits[:k]
