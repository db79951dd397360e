"""Endpoints of the HTTP API. Each one validates its body (pydantic) and calls one MerchAssistant method."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.api import models as m
from assistant.batch import Job
from assistant.errors import AssistantError
from assistant.service import MerchAssistant

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.ErrorBody, "description": "The core refused the request (message says why)."},
    401: {"model": m.ErrorBody, "description": "Missing bearer token."},
    403: {"model": m.ErrorBody, "description": "Invalid bearer token."},
    413: {"model": m.ErrorBody, "description": "Request body too large."},
    429: {"model": m.ErrorBody, "description": "Rate limit exceeded (see Retry-After)."},
}


SSE_EVENT: dict[str, Any] = {
    "type": "object", "description": "One server-sent event; data is a JSON object with a 'type' key.",
    "properties": {"event": {"type": "string",
                             "enum": ["tool_call", "tool_result", "token", "answer_reset", "final", "error"]},
                   "data": {"type": "string", "contentMediaType": "application/json"}},
    "required": ["event", "data"],
}


def build_router(get_service: Any) -> APIRouter:  # noqa: C901 - one small closure per endpoint
    """Routes bound to the service returned by ``get_service()``."""
    r = APIRouter(prefix="/v1", responses=ERRORS)

    def svc() -> MerchAssistant:
        return get_service()  # type: ignore[no-any-return]

    @r.post("/ask", response_model=m.AskResponse, tags=["assistant"],
            responses={200: {"content": {"text/event-stream": {"schema": SSE_EVENT}},
                             "description": "JSON answer, or server-sent events with ?stream=true "
                                            "(events: tool_call, tool_result, token, "
                                            "answer_reset, final, error; answer_reset takes back the answer "
                                            "text streamed so far; final carries the JSON answer's fields: "
                                            "answer, citations, sources, tool_calls, figures, flags)."}})
    def ask(body: m.AskRequest, request: Request,
            stream: bool = Query(default=False, description=(
                "Stream events as SSE (also chosen by an 'Accept: text/event-stream' header)."))) -> Any:
        if not body.question.strip():  # the same 400 with or without streaming
            raise AssistantError("The question is empty: type a question about your products or reviews.")
        wants_sse = stream or "text/event-stream" in request.headers.get("accept", "")
        if not wants_sse:
            return _ask_json(svc().ask(body.question))
        cancel = threading.Event()
        events = svc().ask_stream(body.question, cancel=cancel)
        return StreamingResponse(_sse(events, cancel, request.is_disconnected), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @r.post("/search", response_model=m.SearchResponse, tags=["catalog"])
    def search(body: m.SearchRequest) -> Any:
        return {"hits": svc().search(body.query, k=body.k, kind=body.kind, category=body.category,
                                     product_ids=body.product_ids, min_rating=body.min_rating,
                                     max_rating=body.max_rating, mode=body.mode)}

    @r.post("/reviews/summary", response_model=m.ReviewSummaryResponse, tags=["reviews"])
    def review_summary(body: m.ReviewSummaryRequest) -> Any:
        if not body.product_id and not body.category:
            raise HTTPException(422, detail="Give product_id or category.")
        return jsonable(svc().review_summary(product_id=body.product_id, category=body.category,
                                              words=body.words))

    @r.post("/copy", response_model=m.CopyResponse, tags=["copy"])
    def copy(body: m.CopyRequest) -> Any:
        if (body.product is None) == (body.product_id is None):
            raise HTTPException(422, detail="Give exactly one of product (attributes) or product_id.")
        return jsonable(svc().draft_copy(body.product.model_dump() if body.product else None,
                                          product_id=body.product_id, **_copy_opts(body)))

    @r.post("/copy/batch", response_model=m.JobOut, status_code=202, tags=["copy"])
    def copy_batch(body: m.BatchRequest) -> Any:
        products = [{**p.model_dump(), "product_id": p.product_id if "product_id" in p.model_fields_set
                     else f"item-{i}"} for i, p in enumerate(body.products, 1)]
        ids = [p["product_id"] for p in products]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise HTTPException(422, detail=f"Product ids in a batch must be unique; sent more than once: "
                                f"{', '.join(twice[:10])}.")
        job = svc().draft_copy_batch(products, concurrency=body.concurrency, **_copy_opts(body))
        return job.summary()

    @r.get("/copy/batch/{job_id}", response_model=m.JobOut, tags=["copy"],
           responses={404: {"model": m.ErrorBody, "description": "Unknown job id."}})
    def batch_status(job_id: str) -> Any:
        return _job(job_id).summary()

    @r.get("/copy/batch/{job_id}/results", response_model=m.JobResults, tags=["copy"],
           responses={404: {"model": m.ErrorBody, "description": "Unknown job id."}})
    def batch_results(job_id: str) -> Any:
        job = _job(job_id)
        return {"job": job.summary(), "items": jsonable(list(job.results))}

    @r.delete("/copy/batch/{job_id}", response_model=m.JobOut, tags=["copy"],
              responses={404: {"model": m.ErrorBody, "description": "Unknown job id."}})
    def batch_cancel(job_id: str) -> Any:
        _job(job_id)
        return svc().jobs.cancel(job_id).summary()

    def _job(job_id: str) -> Job:
        try:
            return svc().jobs.get(job_id)
        except KeyError:
            raise HTTPException(404, detail=f"No batch job {job_id!r} (jobs are kept in memory).") from None

    @r.post("/forecast/demand", response_model=m.DemandResponse, tags=["forecast"])
    def forecast_demand(body: m.DemandRequest) -> Any:
        return jsonable(svc().forecast_demand(body.unique_ids, body.h, level=body.level, models=body.models))

    @r.post("/forecast/new-product", response_model=m.NewProductResponse, tags=["forecast"])
    def forecast_new_product(body: m.NewProductRequest) -> Any:
        return jsonable(svc().forecast_new_product(body.product.model_dump(), horizon=body.horizon))

    @r.get("/health", response_model=m.HealthResponse, tags=["status"])
    def health() -> Any:
        return jsonable(svc().health())

    @r.get("/models", response_model=m.ModelsResponse, tags=["status"])
    def models() -> Any:
        s = svc().settings
        return {"models": jsonable(svc().models()),
                "configured": {"backend": s.llm_backend, "model": s.llm_model, "fast_model": s.llm_fast_model}}

    return r


def _copy_opts(body: m.CopyOptions) -> dict[str, Any]:
    return {"tone": body.tone, "length": body.length, "lang": body.lang, "variants": body.variants}


def _ask_json(result: dict[str, Any]) -> dict[str, Any]:
    out = jsonable(result)
    out.pop("type", None)
    out.setdefault("answer", "")
    return out  # type: ignore[no-any-return]


def jsonable(obj: Any) -> Any:
    """Core results -> JSON (bytes such as PNG plots become base64 strings, numpy/pandas via str)."""
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if obj is None or isinstance(obj, str | int | float | bool):
        if isinstance(obj, float) and obj != obj:  # NaN
            return None
        return obj
    if hasattr(obj, "item"):  # numpy scalar
        return jsonable(obj.item())
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "as_dict"):
        return jsonable(obj.as_dict())
    return str(obj)


async def _sse(events: Iterator[dict[str, Any]], cancel: threading.Event,
               disconnected: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[str]:
    """Agent events -> SSE frames. A client that leaves sets ``cancel``, which stops the agent at its next
    check (before another tool call or model step, or at the next token): noticed by polling
    ``disconnected`` (``request.is_disconnected``) while no event comes, since the model may read a long
    prompt for tens of seconds without one, and by the stream being closed."""
    loop = asyncio.get_running_loop()
    guarded = _guarded(events)
    watcher = asyncio.ensure_future(_watch(disconnected, cancel)) if disconnected else None
    try:
        while True:
            event = await loop.run_in_executor(None, next, guarded, None)
            if event is None:
                return
            kind = str(event.get("type", "message"))
            yield f"event: {kind}\ndata: {json.dumps(jsonable(event), ensure_ascii=False)}\n\n"
    finally:
        cancel.set()
        if watcher is not None:
            watcher.cancel()


async def _watch(disconnected: Callable[[], Awaitable[bool]], cancel: threading.Event, every_s: float = 0.5) -> None:
    while not cancel.is_set():
        if await disconnected():
            cancel.set()
            return
        await asyncio.sleep(every_s)


def _guarded(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    import logging

    try:
        yield from events
    except AssistantError as exc:
        yield {"type": "error", "error": str(exc), "error_type": type(exc).__name__}
    except Exception:
        logging.getLogger("assistant.api").exception("Error while streaming an answer")
        yield {"type": "error", "error": "Internal server error while streaming.", "error_type": "InternalError"}


def error_response(status: int, message: str, request: Request, *, type_: str = "error",
                   problems: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    rid = request.scope.get("state", {}).get("request_id")
    body = m.ErrorBody(error=message, type=type_, request_id=rid, problems=problems or []).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)
