"""What tools work on: settings, the catalog, the hybrid index and the embedder, opened lazily (a tool
that only needs the catalog never loads the embedding model). Anything can be passed in ready-made,
e.g. a catalog in a temp folder or an index built with another embedder."""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.config import Settings, get_settings
from assistant.errors import ToolError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from assistant.data.catalog import Catalog
    from assistant.index.embedder import Embedder
    from assistant.index.hybrid import HybridIndex

ID_HINT = ("Find product ids with find_similar_products(product=\"<description>\") or "
           "search_reviews(query=...); ids look like 'C1078' (clothing) or 'R85123A' (gift shop).")


@dataclass
class ToolContext:
    """Lazy access to the store for tools. Thread-safe opening; objects are reused across calls."""

    settings: Settings | None = None
    catalog: Catalog | None = None
    index: HybridIndex | None = None
    embedder: Embedder | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)  # fitted models etc., per context
    _products: pd.DataFrame | None = field(default=None, repr=False)
    _products_n: int = field(default=-1, repr=False)

    def get_settings(self) -> Settings:
        if self.settings is None:
            self.settings = get_settings()
        return self.settings

    def get_catalog(self) -> Catalog:
        with self._lock:
            if self.catalog is None:
                from assistant.data.catalog import Catalog

                self.catalog = Catalog.open(self.get_settings())
            return self.catalog

    def get_embedder(self) -> Embedder:
        with self._lock:
            if self.embedder is None:
                from assistant.index.embedder import get_embedder

                self.embedder = get_embedder(self.get_settings())
            return self.embedder

    def get_index(self) -> HybridIndex:
        """The given index, or the configured one (reloaded when another process rebuilt it)."""
        if self.index is not None:
            return self.index
        if self.embedder is not None:  # an injected embedder: load with it, once
            with self._lock:
                if self.index is None:
                    from assistant.index.hybrid import HybridIndex

                    self.index = HybridIndex.load(self.get_settings().current_index(), self.embedder)
                return self.index
        from assistant.index import open_index

        return open_index(self.get_settings())

    # ------------------------------------------------------------------ product lookups

    def products(self) -> pd.DataFrame:
        """All products (cached until the number of products in the catalog changes)."""
        catalog = self.get_catalog()
        n = catalog.counts()["products"]
        if self._products is None or self._products_n != n:
            self._products, self._products_n = catalog.products(), n
        return self._products

    def product(self, product_id: str) -> dict[str, Any]:
        """One product as a dict, or a ToolError naming close ids and how to find ids."""
        from assistant.data.catalog import catalog_product_id

        catalog = self.get_catalog()  # case forgiven, a dropped source prefix too
        rows = catalog.products([catalog_product_id(catalog, product_id, error=ToolError, hint=ID_HINT)])
        return {str(k): v for k, v in rows.iloc[0].to_dict().items()}

    def resolve(self, product: str) -> tuple[str | None, str | None]:
        """``(product_id, None)`` when ``product`` is a catalog id (case forgiven), ``(None, text)`` when it
        is a description. A single id-like token (letters and digits, no spaces) that is not in the
        catalog is an error naming close ids, not a description to search for."""
        value = " ".join(str(product or "").split())
        if not value:
            raise ToolError("Give a product id (e.g. 'C1078') or a description of the product.")
        if " " in value or len(value) > 40:
            return None, value
        if any(ch.isdigit() for ch in value):
            return str(self.product(value)["product_id"]), None  # an unknown id is an error naming close ids
        known = self._ids_by_upper()
        return (known[value.upper()], None) if value.upper() in known else (None, value)

    def _ids_by_upper(self) -> dict[str, str]:
        """Every catalog product id, keyed by its upper-case form (ids are matched case-forgiven)."""
        return {i.upper(): i for i in (str(x) for x in self.get_catalog().product_ids())}

    def named_products(self, text: str) -> list[str]:
        """Catalog product ids written in ``text`` as whole tokens with a digit (case forgiven), in order of
        first mention; [] when there is no catalog."""
        try:
            known = self._ids_by_upper()
        except Exception:  # no store yet: nothing to check against
            return []
        tokens = (t for t in re.findall(r"[A-Za-z0-9][\w-]*", text or "") if any(ch.isdigit() for ch in t))
        return list(dict.fromkeys(known[t.upper()] for t in tokens if t.upper() in known))

    def category_products(self, category: str) -> pd.DataFrame:
        """Products whose category starts with (or contains, case-insensitively) ``category``."""
        df = self.products()
        cats = df["category"].fillna("").astype(str)
        want = category.strip().lower()
        mask = cats.str.lower().str.startswith(want)
        if not mask.any():
            mask = cats.str.lower().str.contains(want, regex=False)
        if not mask.any():
            known = sorted({c for c in cats if c})
            close = difflib.get_close_matches(category, known, n=3, cutoff=0.4)
            hint = f" Close categories: {'; '.join(close)}." if close else ""
            raise ToolError(f"No products in category {category!r}.{hint} Categories look like "
                            f"{'; '.join(known[:4]) or '(none: the store is empty)'}.")
        return df[mask]
