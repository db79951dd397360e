"""The one core facade used by every front-end (HTTP API, Gradio workspace, batch CLI).

``MerchAssistant(settings)`` opens the catalog, index, LLM and agent lazily, on first use, and each
method is a thin delegation to the core modules. Parts can be handed in (``llm=``, ``catalog=``,
``index=``, ``embedder=``) — that is how tests use a scripted model and a tiny index, and how a
host application shares one loaded model."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.batch import CopyFn, Job, JobManager
from assistant.config import Settings, get_settings
from assistant.errors import AssistantError, IndexNotFoundError
from assistant.service_analytics import LaunchAnalytics

log = logging.getLogger(__name__)


class MerchAssistant(LaunchAnalytics):
    """Facade over catalog, index, LLM, generation, agent, forecasting and launch analytics."""

    def __init__(self, settings: Settings | None = None, *, llm: Any = None, catalog: Any = None,
                 index: Any = None, embedder: Any = None, agent: Any = None) -> None:
        self.settings = settings or get_settings()
        self._llm = llm
        self._catalog = catalog
        self._index = index
        self._embedder = embedder
        self._agent = agent
        self._tools: Any = None  # ToolContext shared by forecasts and analytics (memoised models)
        self._lock = threading.RLock()
        self.jobs = JobManager()

    # ------------------------------------------------------------------ lazily opened parts
    @property
    def catalog(self) -> Any:
        with self._lock:
            if self._catalog is None:
                from assistant.data.catalog import Catalog

                self._catalog = Catalog.open(self.settings)
            return self._catalog

    @property
    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                from assistant.index.embedder import get_embedder

                self._embedder = get_embedder(self.settings)
            return self._embedder

    @property
    def index(self) -> Any:
        with self._lock:
            if self._index is None or self._index.is_stale():
                from assistant.index.hybrid import HybridIndex

                if not self.settings.current_index().exists():  # fail before loading the embedder
                    raise IndexNotFoundError(f"No index at {self.settings.current_index()}: build one with "
                                             "`assistant index build` (or the Data tab's Rebuild index).")

                self._index = HybridIndex.load(self.settings.current_index(), self.embedder)
                self._agent = None
            return self._index

    @property
    def llm(self) -> Any:
        with self._lock:
            if self._llm is None:
                from assistant.llm import get_llm

                self._llm = get_llm(self.settings)
            return self._llm

    @property
    def agent(self) -> Any:
        with self._lock:
            if self._agent is None:
                from assistant.agent import build_default_agent

                self._agent = build_default_agent(self.settings, self.llm, **self._agent_parts())
            return self._agent

    def _agent_parts(self) -> dict[str, Any]:
        """Hand the already-open catalog and index to the agent builder (it accepts them by name)."""
        import inspect

        from assistant.agent import build_default_agent

        params = inspect.signature(build_default_agent).parameters
        parts: dict[str, Any] = {}
        if "catalog" in params:
            parts["catalog"] = self.catalog
        if "index" in params:
            parts["index"] = self._index_or_none()
        if "embedder" in params and self._embedder is not None:
            parts["embedder"] = self._embedder
        return parts

    # ------------------------------------------------------------------ store
    def ensure_store(self, load_demo_if_empty: bool = True) -> dict[str, Any]:
        """Open the store; when it is empty, load the bundled demo store and build its index."""
        counts = dict(self.catalog.counts())
        built: dict[str, Any] | None = None
        if load_demo_if_empty and not any(counts.values()):
            from assistant.data.demo import load_demo

            log.info("Store at %s is empty: loading the bundled demo store", self.settings.store_path)
            load_demo(self.catalog)
            counts = dict(self.catalog.counts())
        if not self.settings.current_index().exists() and self._index is None and counts.get("products"):
            built = self.rebuild_index()
        return {"counts": counts, "index_built": built}

    def ingest(self, path: str | Path, kind: str, *, column_map: list[str] | None = None,
               skip_bad_rows: bool = False) -> dict[str, Any]:
        """Validate and load a products/reviews/sales file into the catalog (and the index if open)."""
        from assistant.data.loaders import load_table
        from assistant.data.schema import ColumnMap

        if kind not in ("products", "reviews", "sales"):
            raise AssistantError(f"Unknown kind {kind!r}: use products, reviews or sales.")
        res = load_table(path, kind, column_map=ColumnMap.from_pairs(column_map),  # type: ignore[arg-type]
                         skip_bad_rows=skip_bad_rows)
        written = self.catalog.upsert(kind, res)
        self._tools = None  # refit launch curves and the recommender on the new data
        indexed: dict[str, Any] | None = None
        if kind in ("products", "reviews") and len(res.frame):
            try:
                idx = self.index
            except IndexNotFoundError:
                idx = None
            if idx is not None:
                indexed = idx.upsert(**{kind: res.frame})
        return {"kind": kind, "loaded": res.loaded, "written": written, "rejected": res.rejected,
                "problems": [p.as_dict() for p in res.problems], "encoding": res.encoding,
                "rejects_path": str(res.rejects_path) if res.rejects_path else None,
                "indexed": indexed, "counts": self.catalog.counts()}

    def read_products(self, path: str | Path, *, column_map: list[str] | None = None
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Products of a catalog file (validated; bad rows skipped and reported) -> (records, problems). Each
        problem dict also says where the skipped rows were written (``rejects_path``)."""
        from assistant.data.loaders import load_table
        from assistant.data.schema import ColumnMap

        res = load_table(path, "products", column_map=ColumnMap.from_pairs(column_map), skip_bad_rows=True)
        rejects = str(res.rejects_path) if res.rejects_path else None
        return _records(res.frame), [{**p.as_dict(), "rejects_path": rejects} for p in res.problems]

    def rebuild_index(self) -> dict[str, Any]:
        """Rebuild the hybrid index from the whole catalog (atomic: the old one serves until done)."""
        from assistant.index.hybrid import HybridIndex

        built = HybridIndex.build(self.settings.current_index(), self.catalog.products(), self.catalog.reviews(),
                                  self.embedder, self.settings.index_type)
        with self._lock:
            self._index = built
            self._agent = None
        return built.build_report()

    # ------------------------------------------------------------------ retrieval and lookups
    def search(self, query: str, k: int = 10, *, kind: str | None = None, category: str | None = None,
               product_ids: list[str] | None = None, min_rating: float | None = None,
               max_rating: float | None = None, mode: str = "hybrid") -> list[dict[str, Any]]:
        from assistant.index.types import Filters

        if not query.strip():
            raise AssistantError("The search query is empty: type a few words to search for.")
        filters = Filters(product_ids=tuple(product_ids) if product_ids else None, category=category,
                          min_rating=min_rating, max_rating=max_rating)
        hits = self.index.search(query, k=k, kind=kind, filters=filters, mode=mode)
        return [h.as_dict() | {"cite_id": h.cite_id} for h in hits]

    def products(self, product_ids: list[str] | None = None, category: str | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
        df = self.catalog.products(product_ids, category=category)
        if limit is not None:
            df = df.head(limit)
        return _records(df)

    def categories(self) -> dict[str, int]:
        """Category -> number of products."""
        return {str(k): int(v) for k, v in self.catalog.categories().items() if k}

    def lookup_sources(self, ids: list[str]) -> list[dict[str, Any]]:
        """Cited ids (review ids or product ids) -> the quoted source, for expandable citations."""
        ids = [str(i) for i in dict.fromkeys(ids) if i]
        if not ids:
            return []
        out: dict[str, dict[str, Any]] = {}
        reviews = self.catalog.reviews()
        if len(reviews):
            hit = reviews[reviews["review_id"].astype(str).isin(ids)]
            for rec in _records(hit):
                out[str(rec["review_id"])] = {"id": str(rec["review_id"]), "kind": "review",
                                              "product_id": rec.get("product_id"), "title": rec.get("title"),
                                              "text": rec.get("text"), "rating": rec.get("rating")}
        rest = [i for i in ids if i not in out]
        if rest:
            for rec in _records(self.catalog.products(rest)):
                out[str(rec["product_id"])] = {"id": str(rec["product_id"]), "kind": "product",
                                               "product_id": rec["product_id"], "title": rec.get("title"),
                                               "text": rec.get("description") or "", "rating": None}
        return [out[i] for i in ids if i in out]

    # ------------------------------------------------------------------ generation
    def review_summary(self, product_id: str | None = None, category: str | None = None,
                       **options: Any) -> dict[str, Any]:
        """Grounded pros/cons summary of a product's or category's reviews, with aspect stats."""
        from assistant.gen.summarize import summarize_category, summarize_product

        if product_id:
            return dict(summarize_product(product_id, llm=self.llm, catalog=self.catalog, **options))
        if category:
            return dict(summarize_category(category, llm=self.llm, catalog=self.catalog, **options))
        raise AssistantError("Give a product_id or a category to summarise reviews for.")

    def aspects(self, product_id: str | None = None, category: str | None = None) -> dict[str, Any]:
        """Aspect statistics (share of buyers mentioning each aspect, polarity, quotes)."""
        from assistant.sentiment.aspects import aspect_stats

        return dict(aspect_stats(self._reviews_for(product_id, category)))

    def _reviews_for(self, product_id: str | None, category: str | None) -> Any:
        if product_id:
            if not len(self.catalog.products([product_id])):
                raise AssistantError(f"Unknown product {product_id!r}: check the id with /v1/search.")
            return self.catalog.reviews([product_id])
        prods = self.catalog.products(category=category)
        if not len(prods):
            raise AssistantError(f"No products in category {category!r}.")
        return self.catalog.reviews(list(prods["product_id"].astype(str)))

    def draft_copy(self, product: dict[str, Any] | None = None, *, product_id: str | None = None,
                   tone: str = "friendly", length: int = 80, lang: str = "English", variants: int = 1,
                   **options: Any) -> dict[str, Any]:
        """Marketing copy variants for a product (given as attributes or as a catalog id), each
        checked by the spec guard against the product's attributes."""
        from assistant.gen.copywriter import draft_copy, draft_copy_for_product

        opts = {"tone": tone, "length": length, "lang": lang, "variants": variants, **options}
        if product is None:
            if not product_id:
                raise AssistantError("Give a product (attributes) or a product_id to write copy for.")
            return dict(draft_copy_for_product(product_id, llm=self.llm, catalog=self.catalog,
                                               index=self._index_or_none(), **opts))
        attrs = {str(k): str(v) for k, v in dict(product.get("attributes") or {}).items()}
        if product.get("category"):
            attrs.setdefault("category", str(product["category"]))
        if product.get("price") not in (None, ""):
            attrs.setdefault("price", str(product["price"]))
        if not attrs:
            attrs = {"product": str(product.get("title") or "")}
        pid = str(product.get("product_id") or "")
        return dict(draft_copy(attrs, llm=self.llm, title=str(product.get("title") or ""),
                               notes=str(product.get("description") or ""), catalog=self.catalog,
                               index=self._index_or_none(), exclude_ids=[pid] if pid else [], **opts))

    def _index_or_none(self) -> Any:
        try:
            return self.index
        except IndexNotFoundError:
            return None

    def copy_fn(self, **options: Any) -> CopyFn:
        """A one-argument copy function for the batch runner (same options for every product)."""
        return lambda product: self.draft_copy(product, **options)

    def draft_copy_batch(self, products: list[dict[str, Any]], *, concurrency: int = 1,
                         **options: Any) -> Job:
        """Start a background batch job; poll ``self.jobs.get(job.id)``."""
        if not products:
            raise AssistantError("The batch has no products.")
        return self.jobs.start(products, self.copy_fn(**options), concurrency=concurrency)

    # ------------------------------------------------------------------ agent
    def warm_up(self, *, background: bool = True) -> threading.Thread | None:
        """Load the model and read the agent's fixed prompt before the first question (about 45 s on one
        core with the default model, once per model and home thanks to the prompt cache). Front-ends that
        stay up (UI, API) call this at start; errors are logged, and the first question then retries.
        Does nothing (returns None) when ``settings.llm_warm_up`` is off."""
        if not self.settings.llm_warm_up:
            return None

        def run() -> None:
            started = time.perf_counter()
            try:
                self.agent.warm_up()
            except Exception as exc:  # noqa: BLE001 - a warm-up must never take the server down
                log.warning("assistant warm-up failed (%s); the first question will try again", exc)
                return
            log.info("assistant ready: model loaded and tool prompt read in %.1f s", time.perf_counter() - started)

        if not background:
            run()
            return None
        thread = threading.Thread(target=run, name="assistant-warm-up", daemon=True)
        thread.start()
        return thread

    def ask(self, question: str) -> dict[str, Any]:
        """Answer a question with the tool-using agent; returns answer, citations, tool calls, artifacts."""
        final: dict[str, Any] = {}
        for event in self.ask_stream(question):
            if event["type"] == "final":
                final = event
        return final

    def ask_stream(self, question: str, cancel: threading.Event | None = None,
                   history: list[dict[str, str]] | None = None) -> Iterator[dict[str, Any]]:
        """Agent events as JSON-able dicts: ``tool_call`` {step, tool, arguments}, ``tool_result`` {step,
        tool, arguments, result, error, artifacts}, ``token`` {text}, ``answer_reset`` {reason} (the answer text
        so far is taken back; the next tokens write its replacement), ``final`` {answer, citations, sources,
        tool_calls, artifacts, flags, stopped}. Setting ``cancel`` stops the model."""
        from assistant.streaming import in_own_thread

        if not question.strip():
            raise AssistantError("The question is empty: type a question about your products or reviews.")
        cancel = cancel if cancel is not None else threading.Event()
        # the model stream runs on one thread of its own: servers resume this generator on any pool thread
        events = (self._event_dict(event) for event in self.agent.stream(question, history=history, cancel=cancel))
        yield from in_own_thread(events, cancel, name="assistant-ask")

    def _event_dict(self, event: Any) -> dict[str, Any]:
        from assistant.agent import normalise_event
        from assistant.gen.citations import cited_ids

        out = normalise_event(event)
        if out["type"] == "final":
            ids = list(dict.fromkeys([*out.get("citations", []), *cited_ids(out.get("answer", ""))]))
            out["sources"] = self.lookup_sources(ids)
            out["citations"] = [s["id"] for s in out["sources"]]
        return out

    def tool_context(self) -> Any:
        """The tool context over this service's catalog/index/embedder; fitted models (launch curves,
        recommender) are memoised on it and refit when the store's contents change."""
        with self._lock:
            if self._tools is None:
                from assistant.tools.context import ToolContext

                self._tools = ToolContext(settings=self.settings, catalog=self.catalog, index=self._index,
                                          embedder=self._embedder)
            return self._tools

    # ------------------------------------------------------------------ status
    def models(self) -> list[dict[str, Any]]:
        from assistant.llm.registry import list_models

        return [dict(m) for m in list_models(self.settings)]

    def _index_status(self) -> dict[str, Any]:
        """Stats of the open index, or what the manifest on disk says (never loads the embedder)."""
        try:
            if self._index is not None:
                return {**dict(self.index.stats()), "loaded": True}
            return _index_status_from_disk(self.settings.current_index())
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return {"error": str(exc)}

    def health(self) -> dict[str, Any]:
        """Cheap status: store counts, index stats, configured model. Never loads the LLM or embedder."""
        out: dict[str, Any] = {"status": "ok", "home": str(self.settings.home),
                               "llm": {"backend": self.settings.llm_backend, "model": self.settings.llm_model,
                                       "loaded": self._llm is not None}}
        try:
            out["catalog"] = dict(self.catalog.counts())
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            out["status"], out["catalog"] = "degraded", {"error": str(exc)}
        out["index"] = self._index_status()
        if "error" in out["index"]:
            out["status"] = "degraded"
        return out


def _index_status_from_disk(path: Path) -> dict[str, Any]:
    from assistant.index import store

    version = store.current_version(path)
    if version is None:
        return {"error": f"No index at {path}: build one with `assistant index build`."}
    manifest = store.read_manifest(version)
    return {"path": str(path), "version": version.name, "loaded": False,
            **{k: manifest.get(k) for k in ("embedding_model", "dim", "index_type", "updated_at")}}


def _records(df: Any) -> list[dict[str, Any]]:
    """DataFrame -> JSON-able records (timestamps as ISO strings, NaN as None)."""
    import math

    import pandas as pd

    out: list[dict[str, Any]] = []
    for rec in df.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in rec.items():
            if isinstance(v, pd.Timestamp):
                v = None if pd.isna(v) else v.isoformat()
            elif isinstance(v, float) and math.isnan(v) or v is pd.NaT:
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out
