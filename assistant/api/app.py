"""FastAPI application factory: ``create_app(service)``. Run alone with ``assistant serve`` or mounted
next to the Gradio workspace by ``app.py``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import __version__
from assistant.api.analytics_routes import build_analytics_router
from assistant.api.routes import build_router, error_response
from assistant.api.security import Guard, RequestGuardMiddleware
from assistant.config import Settings
from assistant.errors import AssistantError, DataValidationError
from assistant.service import MerchAssistant

log = logging.getLogger("assistant.api")

DESCRIPTION = """Offline-first merchandising assistant: grounded Q&A over reviews, review summaries,
new-product copy with a spec guard, demand and new-product forecasts, review sentiment,
audiences for new products and launch-portfolio plans.

Auth: `Authorization: Bearer <token>` (tokens from `ASSISTANT_API_TOKENS`). With no token configured
the server only listens on 127.0.0.1 and needs none."""


def create_app(service: MerchAssistant | None = None, settings: Settings | None = None) -> FastAPI:
    """The HTTP API over ``service`` (a MerchAssistant; one is created lazily from settings if None)."""
    holder: dict[str, MerchAssistant] = {}
    if service is not None:
        holder["svc"] = service
        settings = settings or service.settings

    def get_service() -> MerchAssistant:
        if "svc" not in holder:
            holder["svc"] = MerchAssistant(settings)
        return holder["svc"]

    if settings is None:
        from assistant.config import get_settings

        settings = get_settings()
    guard = Guard(settings)
    app = FastAPI(title="merch-assistant API", version=__version__, description=DESCRIPTION,
                  openapi_url="/v1/openapi.json", docs_url="/v1/docs", redoc_url=None)
    app.include_router(build_router(get_service), dependencies=[Depends(guard)])
    app.include_router(build_analytics_router(get_service), dependencies=[Depends(guard)])
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=settings.api_max_body_bytes, guard=guard,
                       open_paths=("/v1/openapi.json", "/v1/docs", "/v1/docs/oauth2-redirect"))
    app.state.get_service = get_service
    _install_handlers(app)
    return app


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    async def on_assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        problems = [p.as_dict() for p in exc.problems] if isinstance(exc, DataValidationError) else []
        log.info("400 %s: %s", type(exc).__name__, exc)
        return error_response(400, str(exc), request, type_=type(exc).__name__, problems=problems)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method in ("POST", "PUT", "PATCH") and kind and kind != "application/json" and \
                any(str(e.get("loc", ("",))[0]) == "body" for e in exc.errors()):
            return error_response(415, f"The body must be JSON: send it with 'Content-Type: application/json' "
                                  f"(got {kind!r}).", request, type_="UnsupportedMediaType")
        details = [_detail(e) for e in exc.errors()]
        msg = "Invalid request: " + "; ".join(f"{d['field']}: {d['msg']}" for d in details[:10])
        resp = error_response(422, msg, request, type_="ValidationError")
        body: dict[str, Any] = __import__("json").loads(bytes(resp.body))
        body["detail"] = details
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "RequestTooLarge" if exc.status_code == 413 else "HTTPError"  # same body as the middleware's 413
        resp = error_response(exc.status_code, str(exc.detail), request, type_=kind, headers=dict(exc.headers or {}))
        if exc.status_code == 422:  # same shape as a validation error
            body: dict[str, Any] = __import__("json").loads(bytes(resp.body))
            body["detail"] = [{"loc": ["body"], "field": "body", "msg": str(exc.detail), "type": "value_error"}]
            return JSONResponse(body, status_code=422, headers=dict(exc.headers or {}))
        return resp


def _detail(err: Any) -> dict[str, Any]:
    loc = [str(x) for x in err.get("loc", ())]
    if err.get("type") == "json_invalid":  # loc holds the character position, not a field
        reason = str((err.get("ctx") or {}).get("error") or "not valid JSON")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"loc": ["body"], "field": "body", "msg": f"Malformed JSON{at}: {reason}", "type": "json_invalid"}
    return {"loc": loc, "field": ".".join(loc[1:] if loc[:1] == ["body"] else loc) or "body",
            "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
