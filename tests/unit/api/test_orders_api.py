"""/orders over the fakes."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump


@dataclass(frozen=True)
class Shop:
    """Two customers (their auth headers and ids) and two products' ids."""

    ann: dict[str, str]
    ann_id: int
    bob: dict[str, str]
    bob_id: int
    a: int
    b: int


@pytest.fixture
def shop(api: Api, admin) -> Shop:
    ann, ann_id = api.customer("ann@shop.test")
    bob, bob_id = api.customer("bob@shop.test")
    a = api.product(admin, "A-1", price="49.99", stock_quantity=5)
    b = api.product(admin, "B-1", price="0.10", stock_quantity=5)
    return Shop(ann, ann_id, bob, bob_id, a["id"], b["id"])


def test_place_order(api: Api, shop) -> None:
    ann, ann_id, a, b = shop.ann, shop.ann_id, shop.a, shop.b
    response = api.client.post(
        "/orders",
        json={"items": [{"product_id": a, "quantity": 3}, {"product_id": b, "quantity": 1}]},
        headers=ann,
    )
    assert response.status_code == 201
    order = response.json()
    assert response.headers["Location"] == f"/orders/{order['id']}" and response.headers["ETag"] == '"1"'
    assert (order["status"], order["user_id"], order["total_amount"], order["version"]) == (
        "pending",
        ann_id,
        "150.07",
        1,
    )
    assert order["order_number"].startswith("ORD-20261122-")
    assert [(i["product_id"], i["quantity"], i["unit_price"], i["line_total"]) for i in order["items"]] == [
        (a, 3, "49.99", "149.97"),
        (b, 1, "0.10", "0.10"),
    ]
    assert (api.stock(a), api.stock(b)) == (2, 4)


def test_order_failures_change_nothing(api: Api, admin, shop) -> None:
    ann, bob_id, a = shop.ann, shop.bob_id, shop.a
    inactive = api.product(admin, "I-1")
    api.client.delete(f"/products/{inactive['id']}", headers=admin)
    before = dump(api.store)
    cases = [
        ({"items": [{"product_id": a, "quantity": 6}]}, ann, 400),
        ({"items": [{"product_id": a, "quantity": 1}, {"product_id": 999, "quantity": 1}]}, ann, 400),
        ({"items": [{"product_id": inactive["id"], "quantity": 1}]}, ann, 400),
        ({"items": [{"product_id": a, "quantity": 1}], "user_id": bob_id}, ann, 403),
        ({"items": [{"product_id": a, "quantity": 1}], "user_id": 999}, admin, 400),
        ({"items": [{"product_id": a, "quantity": 1}, {"product_id": a, "quantity": 1}]}, ann, 422),
        ({"items": []}, ann, 422),
        ({"items": [{"product_id": a, "quantity": 0}]}, ann, 422),
        ({"items": [{"product_id": a, "quantity": 1001}]}, ann, 422),
        ({"items": [{"product_id": i, "quantity": 1} for i in range(1, 52)]}, ann, 422),
        ({"items": [{"product_id": a, "quantity": 1}]}, {}, 401),
    ]
    for body, headers, expected in cases:
        response = api.client.post("/orders", json=body, headers=headers)
        assert response.status_code == expected, (body, response.text)
    assert dump(api.store) == before


def test_insufficient_stock_detail_names_the_product(api: Api, shop) -> None:
    ann, a, b = shop.ann, shop.a, shop.b
    response = api.client.post(
        "/orders",
        json={"items": [{"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 9}]},
        headers=ann,
    )
    assert response.status_code == 400
    assert "insufficient stock" in response.json()["detail"] and str(b) in response.json()["detail"]
    assert response.json()["type"] == "/problems/insufficient-stock"


def test_inactive_buyer_cannot_order(api: Api, admin, shop) -> None:
    ann_id, a = shop.ann_id, shop.a
    api.client.patch(f"/users/{ann_id}", json={"is_active": False}, headers=admin)
    before = dump(api.store)
    response = api.client.post(
        "/orders", json={"items": [{"product_id": a, "quantity": 1}], "user_id": ann_id}, headers=admin
    )
    assert response.status_code == 400 and dump(api.store) == before


def test_admin_orders_for_a_customer(api: Api, admin, shop) -> None:
    ann_id, a = shop.ann_id, shop.a
    order = api.order(admin, (a, 1), user_id=ann_id)
    assert order["user_id"] == ann_id


def test_reading_orders(api: Api, admin, shop, clock) -> None:
    ann, ann_id, bob, bob_id, a = shop.ann, shop.ann_id, shop.bob, shop.bob_id, shop.a
    first = api.order(ann, (a, 1))
    clock.advance(timedelta(minutes=20))  # tokens live 30 minutes
    second = api.order(bob, (a, 1))
    assert api.client.get(f"/orders/{first['id']}", headers=ann).json() == first
    assert api.client.get(f"/orders/{first['id']}", headers=bob).status_code == 404
    assert api.client.get(f"/orders/{first['id']}/events", headers=bob).status_code == 404
    assert api.client.get("/orders/999", headers=admin).status_code == 404
    assert api.client.get(f"/orders/{first['id']}").status_code == 401
    mine = api.client.get("/orders", params={"user_id": bob_id}, headers=ann).json()
    assert [o["id"] for o in mine["items"]] == [first["id"]] and mine["items"][0]["items"]
    everyone = api.client.get("/orders", headers=admin).json()
    assert [o["id"] for o in everyone["items"]] == [second["id"], first["id"]]
    assert [
        o["id"] for o in api.client.get("/orders", params={"user_id": ann_id}, headers=admin).json()["items"]
    ] == [first["id"]]
    since = api.client.get("/orders", params={"created_from": "2026-11-22T10:10:00Z"}, headers=admin).json()
    assert [o["id"] for o in since["items"]] == [second["id"]]
    until = api.client.get("/orders", params={"created_to": "2026-11-22T10:10:00"}, headers=admin).json()
    assert [o["id"] for o in until["items"]] == [first["id"]]
    assert api.client.get("/orders", params={"status": "shipped"}, headers=admin).json()["total"] == 0
    assert api.client.get("/orders", params={"status": "lost"}, headers=admin).status_code == 422


def test_status_changes_and_events(api: Api, admin, shop) -> None:
    ann, ann_id, a = shop.ann, shop.ann_id, shop.a
    order = api.order(ann, (a, 2))
    url = f"/orders/{order['id']}/status"
    confirmed = api.client.patch(url, json={"status": "confirmed"}, headers={**admin, "If-Match": '"1"'})
    assert (
        confirmed.status_code == 200
        and confirmed.json()["status"] == "confirmed"
        and confirmed.headers["ETag"] == '"2"'
    )
    before = dump(api.store)
    illegal = api.client.patch(url, json={"status": "delivered"}, headers=admin)
    assert (
        illegal.status_code == 400
        and "'confirmed'" in illegal.json()["detail"]
        and "'delivered'" in illegal.json()["detail"]
    )
    assert (
        api.client.patch(url, json={"status": "processing"}, headers={**admin, "If-Match": '"1"'}).status_code
        == 412
    )
    assert api.client.patch(url, json={"status": "lost"}, headers=admin).status_code == 422
    assert api.client.patch(url, json={"status": "processing"}, headers=ann).status_code == 403
    assert (
        api.client.patch("/orders/999/status", json={"status": "processing"}, headers=admin).status_code
        == 404
    )
    assert dump(api.store) == before
    cancelled = api.client.patch(url, json={"status": "cancelled"}, headers=admin)
    assert cancelled.json()["status"] == "cancelled" and api.stock(a) == 5
    events = api.client.get(f"/orders/{order['id']}/events", headers=ann).json()
    admin_id = api.client.get("/users/me", headers=admin).json()["id"]
    assert [(e["from_status"], e["to_status"], e["actor_id"]) for e in events] == [
        (None, "pending", ann_id),
        ("pending", "confirmed", admin_id),
        ("confirmed", "cancelled", admin_id),
    ]
    assert events[0]["at"] == "2026-11-22T10:00:00Z"


def test_cancel(api: Api, admin, shop) -> None:
    ann, bob, a = shop.ann, shop.bob, shop.a
    order = api.order(ann, (a, 2))
    assert api.client.delete(f"/orders/{order['id']}", headers=bob).status_code == 404
    cancelled = api.client.delete(f"/orders/{order['id']}", headers=ann)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled" and api.stock(a) == 5
    before = dump(api.store)
    again = api.client.delete(f"/orders/{order['id']}", headers=ann)
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert dump(api.store) == before


def test_cancel_depends_on_role_and_status(api: Api, admin, shop) -> None:
    ann, a = shop.ann, shop.a
    order = api.order(ann, (a, 2))
    for status in ("confirmed", "processing"):
        api.client.patch(f"/orders/{order['id']}/status", json={"status": status}, headers=admin)
    before = dump(api.store)
    assert api.client.delete(f"/orders/{order['id']}", headers=ann).status_code == 400
    assert dump(api.store) == before
    assert api.client.delete(f"/orders/{order['id']}", headers=admin).status_code == 200
    assert api.stock(a) == 5


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_a_refused_cancel_is_the_same_problem_whichever_route_asked(api: Api, admin, shop, status) -> None:
    """DELETE /orders/{id} and PATCH .../status to cancelled ask the order the same question."""
    order = api.order(shop.ann, (shop.a, 2))
    for step in ("confirmed", "processing", "shipped", "delivered")[: 3 if status == "shipped" else 4]:
        api.client.patch(f"/orders/{order['id']}/status", json={"status": step}, headers=admin)
    before = dump(api.store)
    deleted = api.client.delete(f"/orders/{order['id']}", headers=admin)
    patched = api.client.patch(f"/orders/{order['id']}/status", json={"status": "cancelled"}, headers=admin)
    for refused in (deleted, patched):
        assert (refused.status_code, refused.headers["content-type"]) == (400, "application/problem+json")
        assert refused.json()["type"] == "/problems/illegal-status-change"
        assert refused.json()["detail"] == f"cannot change order status from '{status}' to 'cancelled'."
    assert dump(api.store) == before
    assert api.stock(shop.a) == 3


def test_an_owner_is_refused_a_late_cancel_with_the_same_problem_and_told_why(api: Api, admin, shop) -> None:
    order = api.order(shop.ann, (shop.a, 2))
    for step in ("confirmed", "processing"):
        api.client.patch(f"/orders/{order['id']}/status", json={"status": step}, headers=admin)
    before = dump(api.store)
    refused = api.client.delete(f"/orders/{order['id']}", headers=shop.ann)
    assert (refused.status_code, refused.json()["type"]) == (400, "/problems/illegal-status-change")
    assert refused.json()["detail"] == (
        "cannot change order status from 'processing' to 'cancelled': its owner may cancel it only while it "
        "is pending or confirmed."
    )
    assert dump(api.store) == before


def test_stats(api: Api, admin, shop) -> None:
    ann, a, b = shop.ann, shop.a, shop.b
    api.order(ann, (a, 1))
    cancelled = api.order(ann, (b, 1))
    api.client.delete(f"/orders/{cancelled['id']}", headers=ann)
    assert api.client.get("/orders/stats", headers=ann).status_code == 403
    stats = api.client.get("/orders/stats", headers=admin).json()
    assert stats == {
        "total_orders": 2,
        "total_revenue": "49.99",
        "orders_by_status": {
            "pending": 1,
            "confirmed": 0,
            "processing": 0,
            "shipped": 0,
            "delivered": 0,
            "cancelled": 1,
        },
        "gross_revenue": "49.99",
        "refunded_revenue": "0.00",
    }


def test_idempotent_retry(api: Api, shop) -> None:
    ann, bob, a = shop.ann, shop.bob, shop.a
    body = {"items": [{"product_id": a, "quantity": 2}]}
    first = api.client.post("/orders", json=body, headers={**ann, "Idempotency-Key": "k-1"})
    again = api.client.post("/orders", json=body, headers={**ann, "Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    assert api.stock(a) == 3 and len(api.store.tables.orders) == 1
    before = dump(api.store)
    other_body = api.client.post(
        "/orders",
        json={"items": [{"product_id": a, "quantity": 1}]},
        headers={**ann, "Idempotency-Key": "k-1"},
    )
    assert other_body.status_code == 422 and other_body.headers["content-type"] == "application/problem+json"
    assert dump(api.store) == before
    assert api.client.post("/orders", json=body, headers={**bob, "Idempotency-Key": "k-1"}).status_code == 201
    assert (
        api.client.post("/orders", json=body, headers={**ann, "Idempotency-Key": "x" * 256}).status_code
        == 422
    )
