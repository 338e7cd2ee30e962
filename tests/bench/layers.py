"""`python -m tests.bench.layers`: what each per-request layer of the API costs, in-process, no network.

- each middleware `create_app` installs, alone around an endpoint that answers a fixed JSON body (its cost
  is the time over that bare endpoint), with logging and metrics as `shop serve` has them: JSON log lines
  written to a file (here /dev/null), prometheus-client in multiprocess mode (values in mmap'ed files);
- the whole middleware stack around the same bare endpoint;
- the access log line and the request metrics alone;
- the route layer: a FastAPI route without dependencies, with the signed-in caller (`SignedIn`), and with it
  and a JSON body;
- POST /orders' answer once its order is placed: built again (before) or kept from its event (now).

Microseconds of CPU per request, the best of 5 rounds; compare runs on the same machine only (the in-memory
fakes grow with every order, so the order path as a whole is measured by `make bench`, not here)."""

import os
import tempfile

# Before prometheus_client is imported (adapters.metrics decides its mode at import), as `shop serve` does.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="shop-layers-"))

import argparse
import asyncio
import json
import time
import timeit
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import structlog
from dependency_injector import providers
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter
from starlette.types import Message, Receive, Scope, Send

from adapters.metrics import IN_FLIGHT, LATENCY, REQUESTS
from adapters.settings import Settings
from application.users import ensure_admin
from domain.orders import Order, OrderLine, OrderStatus
from entrypoints.api.app import create_app
from entrypoints.api.dependencies import SignedIn
from entrypoints.api.schemas import OrderRead
from entrypoints.container import Container
from entrypoints.logs import configure_logging
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWorkRunner
from tests.doubles.security import FastPasswordHasher

ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    body = b'{"status":"ok"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def scope_of(method: str, path: str, headers: dict[str, str], body: bytes) -> Scope:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if body:
        raw.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": raw, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip


async def call(app: ASGI, scope: Scope, body: bytes, answer: list[bytes] | None = None) -> int:
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif status >= 400 and message.get("body"):
            raise SystemExit(f"{scope['method']} {scope['path']}: {status} {message['body'][:300]!r}")
        elif answer is not None:
            answer.append(message.get("body", b""))

    await app(dict(scope, headers=list(scope["headers"])), receive, send)
    return status


def per_request_us(app: ASGI, scope: Scope, body: bytes, n: int, expect: int = 200) -> float:
    async def rounds() -> float:
        assert await call(app, scope, body) == expect, "the request must succeed"
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(n):
                await call(app, scope, body)
            best = min(best, time.process_time() - started)
        return best * 1e6 / n

    return asyncio.run(rounds())


def container_over_fakes() -> tuple[Container, InMemoryStore]:
    container = Container()
    container.settings.override(providers.Object(Settings(env="test", secret_key="k" * 40, _env_file=None)))
    store, clock = InMemoryStore(), FixedClock()
    container.unit_of_work_runner.override(providers.Object(InMemoryUnitOfWorkRunner(store)))
    container.password_hasher.override(providers.Object(FastPasswordHasher()))
    container.clock.override(providers.Object(clock))
    return container, store


class Line(BaseModel):
    product_id: int
    quantity: int


class Body(BaseModel):
    items: list[Line]


def route_layer(container: Container, token: dict[str, str], n: int) -> dict[str, float]:
    app = FastAPI()
    app.state.container = container

    @app.get("/none")
    async def none() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/caller")
    async def signed_in(caller: SignedIn) -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/body")
    async def with_body(body: Body, caller: SignedIn) -> dict[str, str]:
        return {"status": "ok"}

    payload = json.dumps({"items": [{"product_id": 1, "quantity": 1}, {"product_id": 2, "quantity": 1}]})
    json_headers = {**token, "content-type": "application/json"}
    return {
        "route, no dependency": per_request_us(app, scope_of("GET", "/none", {}, b""), b"", n),
        "route + SignedIn caller": per_request_us(app, scope_of("GET", "/caller", token, b""), b"", n),
        "route + SignedIn + JSON body": per_request_us(
            app, scope_of("POST", "/body", json_headers, payload.encode()), payload.encode(), n
        ),
    }


def edge_parts(n: int) -> dict[str, float]:
    """The two costliest things the edge does, alone: the access log line and the request metrics."""
    log = structlog.get_logger()
    count, latency = REQUESTS.labels("GET", "/x", 200), LATENCY.labels("GET", "/x", 200)

    def line() -> None:
        log.info("request", logger="shop.access", method="GET", route="/x", status=200, duration_ms=1.5)

    def metrics() -> None:
        IN_FLIGHT.inc()
        IN_FLIGHT.dec()
        count.inc()
        latency.observe(0.0015)

    return {
        "  of which the access log line": best(line, n),
        "  of which the request metrics": best(metrics, n),
    }


def placed_order() -> Order:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    price = Decimal("2.50")
    lines = [OrderLine(i, f"Product {i}", 1, price, price, id=i) for i in (1, 2)]
    return Order("ORD-1", 7, OrderStatus.PENDING, Decimal("5.00"), at, at, lines=lines, id=3)


def answer_layer(n: int) -> dict[str, float]:
    """POST /orders' answer once its order was presented for its event: before, `OrderRead` built again
    and validated and serialised by FastAPI (`serialize_response`, its JSON fast path); now the kept
    representation's bytes."""
    order = placed_order()
    read = OrderRead.of(order)
    field = TypeAdapter(OrderRead)

    def before() -> None:
        field.dump_json(field.validate_python(OrderRead.of(order)), by_alias=True)

    def now() -> None:
        field.dump_json(read, by_alias=True)

    return {
        "POST /orders' answer, OrderRead built again (before)": best(before, n),
        "POST /orders' answer, kept from its event (now)": best(now, n),
    }


def best(work: Callable[[], None], n: int) -> float:
    """µs per call, the best of 5 rounds of n."""
    return min(timeit.repeat(work, number=n, repeat=5, timer=time.process_time)) * 1e6 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per round")
    args = parser.parse_args()
    log = open(os.devnull, "w")  # noqa: SIM115 -- for the whole run
    configure_logging(json=True, stream=log)
    container, store = container_over_fakes()
    app = create_app(container)
    n = args.n
    results: dict[str, float] = {}
    scope = scope_of("GET", "/health/live", {}, b"")
    base = per_request_us(bare, scope, b"", n)
    results["bare endpoint (the baseline)"] = base
    for middleware in app.user_middleware:
        wrapped = middleware.cls(bare, *middleware.args, **middleware.kwargs)  # type: ignore[call-arg]
        results[f"+ {middleware.cls.__name__}"] = per_request_us(wrapped, scope, b"", n) - base
    stack: ASGI = bare
    for middleware in reversed(app.user_middleware):
        stack = middleware.cls(stack, *middleware.args, **middleware.kwargs)  # type: ignore[call-arg]
    results["+ the whole middleware stack"] = per_request_us(stack, scope, b"", n) - base
    results.update(edge_parts(n))

    runner = InMemoryUnitOfWorkRunner(store)
    clock, hasher = FixedClock(), FastPasswordHasher()
    asyncio.run(
        ensure_admin("admin@shop.test", "quartz-lantern-7", "A", runner=runner, hasher=hasher, clock=clock)
    )
    form = b"username=admin%40shop.test&password=quartz-lantern-7"
    login = scope_of("POST", "/auth/token", {"content-type": "application/x-www-form-urlencoded"}, form)
    token: list[bytes] = []
    assert asyncio.run(call(app, login, form, token)) == 200
    auth = {"Authorization": f"Bearer {json.loads(b''.join(token))['access_token']}"}
    results.update(route_layer(container, auth, n))

    results.update(answer_layer(n))
    width = max(map(len, results))
    for name, us in results.items():
        print(f"{name:<{width}}  {us:8.1f} µs")


if __name__ == "__main__":
    main()
