"""POST /orders answers the representation built for its `order.placed` event (entrypoints.api.presented):
built once, the same document as the event's data and GET /orders/{id}, the same bytes FastAPI would send."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from domain.orders import Order, OrderStatus
from entrypoints.api import presented
from entrypoints.api.event_schemas import present
from entrypoints.api.schemas import OrderRead
from tests.unit.api.conftest import Api


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the orders whose OrderRead was built, in order."""
    orders: list[int] = []
    of = OrderRead.of.__func__  # type: ignore[attr-defined]

    def counted(cls: type[OrderRead], order: Order) -> OrderRead:
        orders.append(order.id)
        return of(cls, order)

    monkeypatch.setattr(OrderRead, "of", classmethod(counted))
    return orders


def test_a_placed_order_is_presented_once_for_its_event_and_its_answer(api: Api, admin, built) -> None:
    ann, _ = api.customer()
    product = api.product(admin, "P-1", price="2.50", stock_quantity=3)
    response = api.client.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 2}]}, headers=ann
    )
    assert response.status_code == 201 and response.headers["content-type"] == "application/json"
    order = response.json()
    assert built == [order["id"]]
    assert response.headers["Location"] == f"/orders/{order['id']}" and response.headers["ETag"] == '"1"'
    assert (order["total_amount"], order["version"], order["status"]) == ("5.00", 1, "pending")
    placed = api.client.get("/events", params={"type": "order.placed"}, headers=admin).json()["items"]
    assert [e["data"] for e in placed] == [order]
    assert api.client.get(f"/orders/{order['id']}", headers=ann).json() == order
    stored = api.store.tables.orders[order["id"]]
    assert response.content == TypeAdapter(OrderRead).dump_json(OrderRead.of(stored))  # FastAPI's bytes


def test_an_idempotent_repeat_raises_no_event_and_builds_its_answer(api: Api, admin, built) -> None:
    ann, _ = api.customer()
    product = api.product(admin, "P-1", stock_quantity=3)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    first = api.client.post("/orders", json=body, headers={**ann, "Idempotency-Key": "k-1"})
    again = api.client.post("/orders", json=body, headers={**ann, "Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert built == [first.json()["id"]] * 2  # for the event (and the first answer), then for the repeat


def order(version: int = 1) -> Order:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    return Order("ORD-1", 7, OrderStatus.PENDING, Decimal("1.00"), at, at, version=version, id=3)


def test_a_route_reuses_only_the_same_order_at_the_version_it_was_presented_at(built) -> None:
    placed, twin = order(), order()
    with presented.keeping() as kept:
        present(placed)
    assert built == [3]
    assert kept.json(placed) == TypeAdapter(OrderRead).dump_json(OrderRead.of(placed))
    assert built == [3, 3]  # that one for the comparison only
    kept.json(twin)  # equal, not the same object: built again
    assert len(built) == 3
    placed.version = 2
    assert b'"version":2' in kept.json(placed) and len(built) == 4


def test_nothing_is_kept_outside_a_route_that_keeps(built) -> None:
    present(order())  # the CLI, the jobs: no route keeping
    with presented.keeping() as kept:
        pass
    again = order()
    kept.json(again)
    assert len(built) == 2
