"""Bearer-token auth, per-token rate limit, request-size limit, request ids and the catch-all error
handler (clients never see a stack trace; the server log has it under the request id)."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import math
import re
import threading
import time
import uuid
from typing import Any

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.config import Settings

log = logging.getLogger("assistant.api")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: Settings) -> str:
    """Refuse a non-loopback bind address when no API token is configured; returns a start-up note."""
    if settings.api_tokens:
        return f"API auth: bearer token required ({len(settings.api_tokens)} token(s) configured)."
    if not is_loopback(host):
        from assistant.errors import ConfigError

        raise ConfigError(
            f"Refusing to listen on {host!r}: no API token is configured, so the server may only bind to "
            "127.0.0.1. Set ASSISTANT_API_TOKENS='[\"<a long random token>\"]' to serve other hosts.")
    return "API auth: no token configured, so the server listens on 127.0.0.1 only (set ASSISTANT_API_TOKENS)."


class RateLimiter:
    """Token bucket per client key: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(max(1, per_minute))
        self.rate = self.capacity / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request; returns 0 if allowed, else seconds until the next one is allowed."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


_BEARER = HTTPBearer(auto_error=False, description="API token from ASSISTANT_API_TOKENS (not needed when "
                     "none is configured and the server listens on 127.0.0.1).")


class Guard:
    """FastAPI dependency: authenticate the bearer token, then apply the rate limit."""

    def __init__(self, settings: Settings) -> None:
        self.tokens = [t for t in settings.api_tokens if t]
        self.limiter = RateLimiter(settings.api_rate_limit_per_minute)

    def __call__(self, request: Request,
                 _creds: HTTPAuthorizationCredentials | None = Security(_BEARER)) -> str:
        key = self._authenticate(request)
        wait = self.limiter.take(key)
        if wait > 0:
            raise HTTPException(429, detail=f"Rate limit of {int(self.limiter.capacity)} requests per minute "
                                f"exceeded; retry in {math.ceil(wait)} s.",
                                headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return key

    def _authenticate(self, request: Request) -> str:
        if not self.tokens:
            return f"ip:{request.client.host if request.client else '?'}"
        key, refused = self.check(request.headers.get("authorization", ""))
        if refused is not None:
            raise HTTPException(refused[0], detail=refused[1],
                                headers={"WWW-Authenticate": "Bearer"} if refused[0] == 401 else None)
        return key

    def check(self, header: str) -> tuple[str, tuple[int, str] | None]:
        """(rate-limit key, None) for a good ``Authorization`` header, else ("", (401 or 403, reason))."""
        scheme, _, token = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not token.strip():
            return "", (401, "Missing bearer token: send 'Authorization: Bearer <token>'.")
        token = token.strip()
        for known in self.tokens:
            if hmac.compare_digest(token.encode(), known.encode()):
                return "tok:" + known[-8:] + str(hash(known)), None
        return "", (403, "Invalid API token.")


def _json(status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    data = json.dumps(body).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    return [{"type": "http.response.start", "status": status, "headers": hdrs + list(headers or [])},
            {"type": "http.response.body", "body": data}]


class _TooLarge(HTTPException):
    """Raised from ``receive`` when a body without Content-Length grows past the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"Request body larger than {limit} bytes (api_max_body_bytes).")


class RequestGuardMiddleware:
    """Pure ASGI middleware: request id header, the bearer token (checked before the body is read, so an
    unauthenticated client gets 401/403, never a parse error, and cannot make the server read a large body),
    body-size limit (413) and the catch-all 500 handler. ``open_paths`` (the docs) need no token."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, prefix: str = "/v1", guard: Guard | None = None,
                 open_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max = max_body_bytes
        self.prefix = prefix
        self.guard = guard
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        rid = rid if _SAFE_ID.match(rid) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        rid_header = (b"x-request-id", rid.encode())
        started = False

        async def send_wrapped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = dict(message)
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        path = str(scope.get("path", ""))
        if self.guard is not None and self.guard.tokens and path not in self.open_paths:
            _, refused = self.guard.check(headers.get("authorization", ""))
            if refused is not None:
                extra = [(b"www-authenticate", b"Bearer")] if refused[0] == 401 else []
                body: dict[str, Any] = {"error": refused[1], "type": "HTTPError", "request_id": rid, "problems": []}
                for m in _json(refused[0], body, [rid_header, *extra]):
                    await send(m)
                return
        too_large: dict[str, Any] = {"error": f"Request body larger than {self.max} bytes (api_max_body_bytes).",
                     "type": "RequestTooLarge", "request_id": rid, "problems": []}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max:
            for m in _json(413, too_large, [rid_header]):
                await send(m)
            return
        seen = 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max:
                    raise _TooLarge(self.max)
            return message

        try:
            await self.app(scope, receive_limited, send_wrapped)
        except _TooLarge:
            if not started:
                for m in _json(413, too_large, [rid_header]):
                    await send(m)
        except Exception:
            log.exception("Unhandled error in %s %s (request id %s)", scope.get("method"), scope.get("path"), rid)
            if not started:
                body = {"error": "Internal server error. The server log has the details under this request id.",
                        "type": "InternalError", "request_id": rid}
                for m in _json(500, body, [rid_header]):
                    await send(m)
