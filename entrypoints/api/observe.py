"""Per request: one access log line (method, route template, status, duration, user) and the request
metrics. Pure ASGI, so it costs a few microseconds, not a task per request."""

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.metrics import IN_FLIGHT, LATENCY, REQUESTS

log = structlog.get_logger("shop.access")


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            REQUESTS.labels(method, route, status).inc()
            LATENCY.labels(method, route, status).observe(seconds)
            log.info(
                "request", method=method, route=route, status=status, duration_ms=round(seconds * 1000, 2)
            )


def _template(scope: Scope) -> str:
    """The matched route's template (`/orders/{order_id}`), never the ids: a bounded set of labels."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    if "endpoint" in scope and not scope.get("path_params"):  # a fixed path (/openapi.json, /docs)
        return str(scope["path"])
    return "other"  # no route matched (404s), or a mount's files
