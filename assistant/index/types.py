"""Types shared by the index and its users (retrieval for the LLM, tools, front-ends)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["product", "review"]


@dataclass(frozen=True)
class Filters:
    """Search filters. ``None`` means "no constraint"."""

    product_ids: tuple[str, ...] | None = None
    category: str | None = None  # prefix match on the category path ("Dresses" matches "Dresses > Maxi")
    min_rating: float | None = None
    max_rating: float | None = None
    date_from: str | None = None  # ISO date, inclusive
    date_to: str | None = None  # ISO date, inclusive


@dataclass
class Hit:
    """One search result. Reviews are indexed as chunks (sentences/short passages); ``chunk_id`` is
    unique, ``review_id``/``product_id`` let answers cite their source."""

    chunk_id: str
    kind: Kind
    text: str
    score: float
    product_id: str
    review_id: str | None = None
    rating: float | None = None
    date: str | None = None
    category: str | None = None
    title: str | None = None  # product title
    ranks: dict[str, int] = field(default_factory=dict)  # rank per arm: {"bm25": 3, "dense": 1}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def cite_id(self) -> str:
        """The id an answer cites: the review id for review chunks, the product id for products."""
        return self.review_id or self.product_id
