"""Per request (entrypoints.api.edge): one access log line (method, route template, status, duration,
user) and the request metrics, their labelled children looked up once per label set."""

from typing import Any

from starlette.types import Scope

from adapters.metrics import LATENCY, REQUESTS


class Series:
    """The request count and latency of each (method, route, status), resolved from `.labels(...)` once."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                REQUESTS.labels(method, route, status),
                LATENCY.labels(method, route, status),
            )
        children[0].inc()
        children[1].observe(seconds)


def template(scope: Scope) -> str:
    """The matched route's template (`/orders/{order_id}`), never the ids: a bounded set of labels."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    if "endpoint" in scope and not scope.get("path_params"):  # a fixed path (/openapi.json, /docs)
        return str(scope["path"])
    return "other"  # no route matched (404s), or a mount's files
