"""Invariants under concurrent load against the live service (2 uvicorn workers on PostgreSQL):
no oversell, no deadlock surfaced, no lost stock, idempotent retries, no lost update."""

from collections import Counter

from sqlalchemy import Engine

from tests.e2e.conftest import Client
from tests.e2e.load import assert_kept_totals_match_a_recount, count, gather, mixed_load


def test_no_oversell(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    customers = [client.customer(f"c{i}@shop.test")[0] for i in range(20)]
    product = client.product(admin, "HOT-1", stock=50)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    responses = gather(
        client.server.url,
        [("POST", "/orders", {"json": body, "headers": customers[i % 20]}) for i in range(200)],
    )
    statuses = Counter(r.status_code for r in responses)
    print(f"no-oversell: {dict(statuses)}")
    assert statuses == {201: 50, 400: 150}
    assert all("insufficient stock" in r.json()["detail"] for r in responses if r.status_code == 400)
    assert client.stock(product["id"]) == 0
    assert count(e2e_engine, "SELECT count(*) FROM orders") == 50
    assert count(e2e_engine, "SELECT coalesce(sum(quantity), 0) FROM order_lines") == 50


def test_no_deadlock_and_no_lost_stock(client: Client, e2e_engine: Engine) -> None:
    admin = mixed_load(client, e2e_engine)
    assert_kept_totals_match_a_recount(client, admin, e2e_engine)


def test_parallel_idempotent_requests_place_one_order(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    product = client.product(admin, "IDEM-1", stock=10)
    body = {"items": [{"product_id": product["id"], "quantity": 2}]}
    headers = {**ann, "Idempotency-Key": "one-key"}
    responses = gather(client.server.url, [("POST", "/orders", {"json": body, "headers": headers})] * 20)
    statuses = Counter(r.status_code for r in responses)
    print(f"idempotency: {dict(statuses)}")
    assert set(statuses) <= {201, 409} and statuses[201] >= 1
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert count(e2e_engine, "SELECT count(*) FROM orders") == 1
    assert client.stock(product["id"]) == 8
    retry = client.http.post("/orders", json=body, headers=headers)
    assert retry.status_code == 201 and retry.json()["id"] == next(
        r.json()["id"] for r in responses if r.status_code == 201
    )
    other = client.http.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=headers
    )
    assert other.status_code == 422 and client.stock(product["id"]) == 8


def test_two_admins_editing_the_same_version(client: Client) -> None:
    admin = client.admin()
    product = client.product(admin, "EDIT-1")
    requests = [
        (
            "PATCH",
            f"/products/{product['id']}",
            {"json": {"name": name}, "headers": {**admin, "If-Match": '"1"'}},
        )
        for name in ("First admin", "Second admin")
    ]
    statuses = sorted(r.status_code for r in gather(client.server.url, requests))
    assert statuses == [200, 412]
    final = client.http.get(f"/products/{product['id']}").json()
    assert final["version"] == 2 and final["name"] in {"First admin", "Second admin"}
