"""What an operator sees: request ids in answers and log lines, metrics by route and business event."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from entrypoints.logs import configure_logging
from tests.unit.api.conftest import Api


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """JSON logs into a buffer for the test (ask for it before `api`: the app's logger is made with the
    configuration of its time); the process's logging as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], root.level = handlers, level
        structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict]:
    """The service's log lines (the test client's own httpx lines left out)."""
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in logged if line["logger"] != "httpx"]


def test_a_request_id_is_kept_and_answered_in_the_header_the_problem_and_every_log_line(
    log_lines: io.StringIO, api: Api
) -> None:
    response = api.client.get("/products/999", headers={"X-Request-ID": "checkout-42.a"})
    assert response.headers["X-Request-ID"] == "checkout-42.a"
    assert response.json()["request_id"] == "checkout-42.a"
    logged = lines(log_lines)
    assert logged and all(line["request_id"] == "checkout-42.a" for line in logged)
    access = next(line for line in logged if line["logger"] == "shop.access")
    assert (access["method"], access["route"], access["status"]) == ("GET", "/products/{product_id}", 404)
    assert {"time", "level", "message", "pid", "duration_ms"} <= set(access)


@pytest.mark.parametrize("sent", ["has spaces", "x" * 129, "semi;colon", ""])
def test_an_insane_request_id_is_replaced(api: Api, sent: str) -> None:
    answered = api.client.get("/health/live", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert answered != sent and len(answered) == 32


def test_an_unexpected_error_is_logged_with_the_request_and_user_but_no_secret(
    log_lines: io.StringIO, api: Api, admin
) -> None:
    class Broken:
        async def run(self, *args: object, **kwargs: object) -> object:
            raise RuntimeError("the disk is on fire")

    api.app.state.container.unit_of_work_runner.override(Broken())
    client = TestClient(api.app, raise_server_exceptions=False)
    failing = client.get("/users/me", headers={**admin, "X-Request-ID": "r-500"})
    api.app.state.container.unit_of_work_runner.reset_last_overriding()
    assert failing.status_code == 500 and failing.json()["request_id"] == "r-500"
    errors = [line for line in lines(log_lines) if line["level"] == "error"]
    assert errors and errors[0]["request_id"] == "r-500" and errors[0]["user_id"] == 1
    assert "the disk is on fire" in errors[0]["exception"]
    token = admin["Authorization"].removeprefix("Bearer ")
    assert token not in log_lines.getvalue() and "quartz-lantern-7" not in log_lines.getvalue()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_requests_by_route_and_business_events(api: Api, admin) -> None:
    product = api.product(admin, "M-1", stock_quantity=5)
    headers, _ = api.customer()
    placed = sample("shop_business_events_total", event="order_placed")
    answered = sample("shop_http_requests_total", method="POST", route="/orders", status="201")
    refused = sample("shop_refusals_total", reason="insufficient_stock")
    for _ in range(3):
        api.order(headers, (product["id"], 1))
    too_many = api.client.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 5}]}, headers=headers
    )
    assert too_many.status_code == 400
    assert sample("shop_business_events_total", event="order_placed") - placed == 3
    assert sample("shop_http_requests_total", method="POST", route="/orders", status="201") - answered == 3
    assert sample("shop_refusals_total", reason="insufficient_stock") - refused == 1
    page = api.client.get("/metrics")
    assert page.status_code == 200 and "shop_http_request_duration_seconds_bucket" in page.text


def test_an_idempotent_order_counts_once_and_its_replay_as_a_replay(api: Api, admin) -> None:
    product = api.product(admin, "M-2", stock_quantity=5)
    headers, _ = api.customer()
    placed = sample("shop_business_events_total", event="order_placed")
    replays = sample("shop_business_events_total", event="idempotent_replay")
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    for _ in range(2):
        response = api.client.post("/orders", json=body, headers={**headers, "Idempotency-Key": "k-1"})
        assert response.status_code == 201
    assert sample("shop_business_events_total", event="order_placed") - placed == 1
    assert sample("shop_business_events_total", event="idempotent_replay") - replays == 1
