"""Concurrent load against a live service, and the invariants it must keep."""

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

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


def mixed_load(client: Client, engine: Engine, settle: Callable[[], None] = lambda: None) -> dict[str, str]:
    """Three rounds of 32 customers ordering random products in random order while an admin adjusts their
    stock and corrects one product's figure, then a third of the orders cancelled at once: nothing answers
    5xx, and every product's stock is its initial stock plus the adjustments minus what live orders hold
    (the corrected product aside), and `shop check-stock` finds the ledger in agreement with every stock.
    Returns the admin's headers. `settle` runs before the checks (with replicas: until they caught up)."""
    rng = random.Random(20261122)
    admin = client.admin()
    accounts = [client.customer(f"c{i}@shop.test") for i in range(32)]
    customers = [headers for headers, _ in accounts]
    owner_of = {user_id: headers for headers, user_id in accounts}
    initial = 40
    products = [client.product(admin, f"MIX-{i}", stock=initial)["id"] for i in range(6)]
    corrected = products[0]  # its figure is set outright, racing the orders: the ledger alone accounts for it
    adjustments: Counter[int] = Counter()
    for round_ in range(3):
        requests = []
        for headers in customers:
            lines = rng.sample(products, rng.randint(2, 4))  # random products in random order
            body = {"items": [{"product_id": p, "quantity": rng.randint(1, 3)} for p in lines]}
            requests.append(("POST", "/orders", {"json": body, "headers": headers}))
        correction = {"stock_quantity": rng.randint(30, 60), "stock_reason": f"count {round_}"}
        requests.append(("PATCH", f"/products/{corrected}", {"json": correction, "headers": admin}))
        for p in products[1:]:
            delta = rng.choice([-2, 3, 5])
            requests.append(
                (
                    "POST",
                    f"/products/{p}/stock",
                    {"json": {"delta": delta, "reason": "load"}, "headers": admin},
                )
            )
        responses = gather(client.server.url, requests)
        assert not [r for r in responses if r.status_code >= 500], [
            r.text for r in responses if r.status_code >= 500
        ]
        for (_, url, kw), response in zip(requests, responses, strict=True):
            if url.endswith("/stock") and response.status_code == 200:
                adjustments[int(url.split("/")[2])] += kw["json"]["delta"]
        placed = [r.json() for r in responses if r.request.url.path == "/orders" and r.status_code == 201]
        # Their owners cancel about a third of this round's orders while the admin confirms another third,
        # all at once.
        third = len(placed) // 3
        changes = [
            ("DELETE", f"/orders/{o['id']}", {"headers": owner_of[o["user_id"]]}) for o in placed[:third]
        ] + [
            ("PATCH", f"/orders/{o['id']}/status", {"json": {"status": "confirmed"}, "headers": admin})
            for o in placed[third : 2 * third]
        ]
        changed = gather(client.server.url, changes)
        assert all(r.status_code == 200 for r in changed), [r.text for r in changed if r.status_code != 200]
        print(f"round {round_}: {Counter(r.status_code for r in responses)}, cancelled and confirmed {third}")
    settle()
    for p in products[1:]:
        taken = count(
            engine,
            "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE l.product_id = :p AND o.status <> 'cancelled'",
            p=p,
        )
        assert client.stock(p) == initial + adjustments[p] - taken, p
    reconciled = client.server.cli("check-stock")  # exits 1 on any drift
    assert "agree for every product" in reconciled.stdout
    return admin


def assert_kept_totals_match_a_recount(client: Client, admin: dict[str, str], engine: Engine) -> None:
    """/orders/stats and the list totals (kept by triggers as orders change) equal a count of every row;
    revenue net of refunds (docs/api.md#net-revenue-issue-28), its gross and refunded parts beside it."""
    recount: dict[str, tuple[int, Decimal]] = {}
    gross = net = Decimal("0.00")
    with engine.connect() as c:
        rows = c.execute(text("SELECT status, total_amount, captured_cents, refunded_cents FROM orders"))
        for status, total, captured, refunded in rows:
            n, amount = recount.get(status, (0, Decimal(0)))
            recount[status] = (n + 1, amount + total)
            if status != "cancelled":  # net = T - max(0, R - max(0, C - T)): an overpayment was never revenue
                over = max(Decimal(0), Decimal(captured) / 100 - total)
                gross += total
                net += total - max(Decimal(0), Decimal(refunded) / 100 - over)
    stats = client.http.get("/orders/stats", headers=admin).json()
    assert stats["orders_by_status"] == {s: recount.get(s, (0, 0))[0] for s in stats["orders_by_status"]}
    assert stats["total_orders"] == sum(n for n, _ in recount.values()) > 0
    assert Decimal(stats["gross_revenue"]) == gross
    assert Decimal(stats["total_revenue"]) == net
    assert Decimal(stats["refunded_revenue"]) == gross - net
    for status, (n, _) in recount.items():
        assert (
            client.http.get("/orders", params={"status": status, "limit": 1}, headers=admin).json()["total"]
            == n
        )
