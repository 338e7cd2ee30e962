"""Per request: one access log line (method, route template, status, duration, user) and the request
metrics. Pure ASGI, so it costs a few microseconds, not a task per request."""

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.metrics import IN_FLIGHT, LATENCY, REQUESTS


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Made when the app's middleware is built, after logging is configured (the logger is cached).
        self._log = structlog.get_logger()
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # labelled children, looked up once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()  # the user id of an earlier request must not carry over
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            route = _template(scope)
            method = scope["method"]
            count, latency = self._labelled(method, route, status)
            count.inc()
            latency.observe(seconds)
            self._log.info(
                "request",
                logger="shop.access",
                method=method,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )

    def _labelled(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        key = (method, route, status)
        if key not in self._series:
            self._series[key] = (
                REQUESTS.labels(method, route, status),
                LATENCY.labels(method, route, status),
            )
        return self._series[key]


def _template(scope: Scope) -> str:
    """The matched route's template (`/orders/{order_id}`), never the ids: a bounded set of labels."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    if "endpoint" in scope and not scope.get("path_params"):  # a fixed path (/openapi.json, /docs)
        return str(scope["path"])
    return "other"  # no route matched (404s), or a mount's files
