"""The stock ledger and the low-stock list over HTTP: what an admin reads, and every refusal (which
changes nothing)."""

from datetime import timedelta

from application.orders import expire_pending_orders
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryUnitOfWork
from tests.unit.api.conftest import Api
from tests.unit.conftest import dump


def test_an_admin_reads_a_products_movements_newest_first(api: Api, admin, clock: FixedClock) -> None:
    product = api.product(admin, "L-1", stock_quantity=10)
    buyer, buyer_id = api.customer()
    clock.advance(timedelta(minutes=1))
    order = api.order(buyer, (product["id"], 4))
    clock.advance(timedelta(minutes=1))
    adjusted = api.client.post(
        f"/products/{product['id']}/stock", json={"delta": 2, "reason": "delivery"}, headers=admin
    )
    corrected = api.client.patch(
        f"/products/{product['id']}", json={"stock_quantity": 7, "stock_reason": "count"}, headers=admin
    )
    assert (adjusted.status_code, corrected.status_code, corrected.json()["stock_quantity"]) == (200, 200, 7)

    response = api.client.get(f"/products/{product['id']}/stock-movements", headers=admin)
    assert response.status_code == 200
    body = response.json()
    rows = [(m["kind"], m["delta"], m["quantity"], m["reason"], m["order_id"]) for m in body["items"]]
    assert rows == [
        ("correction", -1, 7, "count", None),
        ("adjustment", 2, 8, "delivery", None),
        ("order", -4, 6, None, order["id"]),
        ("initial", 10, 10, None, None),
    ]
    assert body["items"][2]["actor_id"] == buyer_id and body["total"] == 4
    orders = api.client.get(
        f"/products/{product['id']}/stock-movements?kind=order&created_from=2026-11-22T10:01:00Z",
        headers=admin,
    )
    assert [m["delta"] for m in orders.json()["items"]] == [-4]
    first = api.client.get(f"/products/{product['id']}/stock-movements?limit=3", headers=admin).json()
    rest = api.client.get(
        f"/products/{product['id']}/stock-movements?limit=3&cursor={first['next_cursor']}", headers=admin
    ).json()
    assert [m["kind"] for m in rest["items"]] == ["initial"] and rest["next_cursor"] is None


def test_the_ledger_is_refused_clearly(api: Api, admin) -> None:
    product = api.product(admin, "L-1")
    customer, _ = api.customer()
    url = f"/products/{product['id']}/stock-movements"
    cases = [
        (url, {}, 401),
        (url, customer, 403),
        ("/products/999/stock-movements", admin, 404),
        (f"{url}?kind=theft", admin, 422),
        (f"{url}?created_from=yesterday", admin, 422),
        (f"{url}?cursor=forged", admin, 400),
        ("/products?low_stock=true", {}, 401),
        ("/products?low_stock=true", customer, 403),
    ]
    before = dump(api.store)
    for target, headers, expected in cases:
        response = api.client.get(target, headers=headers)
        assert response.status_code == expected, (target, response.text)
        if expected != 422:  # schema errors keep FastAPI's shape, as everywhere in the API
            assert response.headers["content-type"] == "application/problem+json"
    assert dump(api.store) == before


def test_low_stock_thresholds_are_set_shown_and_listed(api: Api, admin) -> None:
    low = api.product(admin, "LOW-1", stock_quantity=2, low_stock_threshold=5)
    api.product(admin, "PLENTY-1", stock_quantity=50, low_stock_threshold=5)
    never = api.product(admin, "NEVER-1", stock_quantity=0)
    assert (low["low_stock_threshold"], never["low_stock_threshold"]) == (5, None)
    listed = api.client.get("/products?low_stock=true", headers=admin).json()
    assert [p["sku"] for p in listed["items"]] == ["LOW-1"]
    cleared = api.client.patch(f"/products/{low['id']}", json={"low_stock_threshold": None}, headers=admin)
    set_ = api.client.patch(f"/products/{never['id']}", json={"low_stock_threshold": 0}, headers=admin)
    assert (cleared.json()["low_stock_threshold"], set_.json()["low_stock_threshold"]) == (None, 0)
    listed = api.client.get("/products?low_stock=true", headers=admin).json()
    assert [p["sku"] for p in listed["items"]] == ["NEVER-1"]


def test_an_expired_orders_event_says_why(api: Api, admin, clock: FixedClock) -> None:
    product = api.product(admin, "L-1", stock_quantity=3)
    buyer, _ = api.customer()
    order = api.order(buyer, (product["id"], 3))
    clock.advance(timedelta(hours=1))
    expire_pending_orders(timedelta(minutes=30), uow=InMemoryUnitOfWork(api.store), clock=clock)
    buyer = api.login("ann@shop.test", "plum-kettle-42")  # the first token has expired meanwhile
    events = api.client.get(f"/orders/{order['id']}/events", headers=buyer).json()
    assert [(e["to_status"], e["actor_id"], e["reason"]) for e in events] == [
        ("pending", events[0]["actor_id"], None),
        ("cancelled", None, "expired"),
    ]
    assert api.stock(product["id"]) == 3
