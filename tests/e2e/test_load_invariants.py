"""Invariants under concurrent load against the live service (2 uvicorn workers on PostgreSQL):
no oversell, no deadlock surfaced, no lost stock, idempotent retries, no lost update."""

import asyncio
import random
from collections import Counter

import httpx
from sqlalchemy import Engine, text

from tests.e2e.conftest import Client


def gather(server_url: str, requests: list) -> list[httpx.Response]:
    """Fire every (method, url, kwargs) at once and collect the responses."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
        async with httpx.AsyncClient(base_url=server_url, timeout=60, limits=limits) as http:
            return await asyncio.gather(*(http.request(m, u, **kw) for m, u, kw in requests))

    return asyncio.run(run())


def count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as c:
        return int(c.execute(text(sql), params).scalar_one())


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
    rng = random.Random(20261122)
    admin = client.admin()
    accounts = [client.customer(f"c{i}@shop.test") for i in range(32)]
    customers = [headers for headers, _ in accounts]
    owner_of = {user_id: headers for headers, user_id in accounts}
    initial = 40
    products = [client.product(admin, f"MIX-{i}", stock=initial)["id"] for i in range(6)]
    adjustments: Counter[int] = Counter()
    for round_ in range(3):
        requests = []
        for headers in customers:
            lines = rng.sample(products, rng.randint(2, 4))  # random products in random order
            body = {"items": [{"product_id": p, "quantity": rng.randint(1, 3)} for p in lines]}
            requests.append(("POST", "/orders", {"json": body, "headers": headers}))
        for p in products:
            delta = rng.choice([-2, 3, 5])
            requests.append(("POST", f"/products/{p}/stock", {"json": {"delta": delta}, "headers": admin}))
        responses = gather(client.server.url, requests)
        assert not [r for r in responses if r.status_code >= 500], [
            r.text for r in responses if r.status_code >= 500
        ]
        for (_, url, kw), response in zip(requests, responses, strict=True):
            if url.endswith("/stock") and response.status_code == 200:
                adjustments[int(url.split("/")[2])] += kw["json"]["delta"]
        placed = [r.json() for r in responses if r.request.url.path == "/orders" and r.status_code == 201]
        # Their owners cancel about a third of this round's orders, all at once.
        cancels = [
            ("DELETE", f"/orders/{o['id']}", {"headers": owner_of[o["user_id"]]})
            for o in placed[: len(placed) // 3]
        ]
        cancelled = gather(client.server.url, cancels)
        assert all(r.status_code == 200 for r in cancelled), [
            r.text for r in cancelled if r.status_code != 200
        ]
        print(f"round {round_}: {Counter(r.status_code for r in responses)}, cancelled {len(cancelled)}")
    for p in products:
        taken = count(
            e2e_engine,
            "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE l.product_id = :p AND o.status <> 'cancelled'",
            p=p,
        )
        assert client.stock(p) == initial + adjustments[p] - taken, p


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
