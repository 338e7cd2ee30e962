"""The service's edge: one pure-ASGI layer that does, per request, what four middlewares did each on its own
(request id, access log and metrics, security headers, body limit), reading the request's headers once and
wrapping `send` once. `python -m tests.bench.layers` prices it (docs/benchmarks.md).

- request id: the client's `X-Request-ID` when it is sane (request_id.py), else a new one; in the
  `asgi_correlation_id` context variable (every log line and problem of the request reads it there) and in
  the answer's `X-Request-ID`;
- one access log line (method, route template, status, duration, user) and the request metrics (observe.py);
- security headers on every answer (headers.py), `Cache-Control: no-store` where credentials travel;
- bodies over the limit refused with 413 (limits.py), when nothing sits between the edge and the app (CORS
  does: its answers to a 413 must carry its headers, so there `BodySizeLimit` runs inside it)."""

import logging
import time

import structlog
from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.metrics import IN_FLIGHT
from entrypoints.api.headers import CACHE_CONTROL, NO_STORE, SECURITY_HEADERS, is_private, policy_for
from entrypoints.api.limits import limited, refusal, too_large
from entrypoints.api.observe import Series, template
from entrypoints.api.request_id import HEADER, new_request_id, sane_request_id

_REPLACED = "Generated new request ID (%s), since request header value failed validation"
_id_log = logging.getLogger("asgi_correlation_id")  # where the library this replaces said so


class Edge:
    def __init__(self, app: ASGIApp, max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes  # None: BodySizeLimit runs further in
        # Made when the app's middleware is built, after logging is configured (the logger is cached).
        self._log = structlog.get_logger()
        self._series = Series()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = authorization = declared = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                sent_id = sent_id if sent_id is not None else value
            elif name == b"authorization":
                authorization = value
            elif name == b"content-length":
                declared = declared if declared is not None else value
        request_id = _request_id(sent_id)
        correlation_id.set(request_id)
        structlog.contextvars.clear_contextvars()  # the user id of an earlier request must not carry over
        path: str = scope["path"]
        added = [*SECURITY_HEADERS, policy_for(path)]
        if is_private(path, authorization is not None):
            added.append(NO_STORE)
        added.append((HEADER, request_id.encode("latin-1")))
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _with_headers(message.get("headers", []), added)
            await send(message)

        IN_FLIGHT.inc()
        try:
            if self.max_bytes is None:
                await self.app(scope, receive, send_with_edge)
            elif too_large(declared, self.max_bytes):
                await refusal(self.max_bytes)(scope, receive, send_with_edge)
            else:
                await self.app(scope, limited(receive, self.max_bytes), send_with_edge)
        finally:
            IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            route = template(scope)
            method = scope["method"]
            self._series.observe(method, route, status, seconds)
            self._log.info(
                "request",
                logger="shop.access",
                method=method,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )


def _request_id(sent: bytes | None) -> str:
    if not sent:
        return new_request_id()
    value = sent.decode("latin-1")
    if sane_request_id(value):
        return value
    replaced = new_request_id()
    _id_log.warning(_REPLACED, replaced)
    return replaced


def _with_headers(
    headers: list[tuple[bytes, bytes]], added: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """The answer's headers and the edge's: a security header the app set itself is kept (set-default),
    `Cache-Control: no-store` replaces the app's, the request id is appended."""
    present = {name.lower() for name, _ in headers}
    kept = [(n, v) for n, v in headers if n.lower() != CACHE_CONTROL] if NO_STORE in added else list(headers)
    for name, value in added:
        if name in (HEADER, CACHE_CONTROL) or name not in present:
            kept.append((name, value))
    return kept
