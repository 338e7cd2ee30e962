"""Life after the order under a concurrent mixed load against the live service (2 uvicorn workers on
PostgreSQL, over HTTP): orders placed, paid and captured, partial fulfilments racing on the same orders,
fulfilment cancellations, returns with restock racing for the same units, refunds of returns and goodwill
refunds racing for what is held, cancellations, all at once in rounds. Only the documented answers come
back (docs/api.md: counted, never a 5xx); afterwards every kept total matches a recount, `shop check-stock`
finds nothing, and in SQL over every order: returned <= shipped <= ordered, shipped = the units of the
fulfilments not cancelled, returned = the units of the accepted returns, shipped or delivered means every unit
shipped, a cancelled order ships nothing; refunded <= captured <= authorised on every payment and each
order's sums are its payments'; every `return` movement is an accepted return's restocked line; the outbox
holds one fulfillment.created per fulfilment and one order.refunded per refund."""

import random
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.e2e.conftest import Client
from tests.e2e.load import assert_kept_totals_match_a_recount, count, gather

HOME = {"recipient_name": "Ann Smith", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115"}
HOME = {**HOME, "country": "DE"}
PRICES = ("7.25", "12.50", "3.99", "20.00")
# Every answer each kind of request may give under this load (docs/api.md): (status, problem slug or None).
ALLOWED: dict[str, set[tuple[int, str | None]]] = {
    "place": {(201, None)},
    "pay": {(201, None)},
    "confirm": {(200, None)},
    "capture": {(200, None), (409, "payment-limit")},  # two captures of the rest race: one finds nothing
    "fulfil": {(201, None), (409, "fulfillment-limit"), (409, "order-not-fulfillable")},
    "unfulfil": {(200, None), (409, "fulfillment-not-cancellable")},  # after a return of its units
    "return": {(201, None), (409, "return-limit")},
    "refund_return": {(201, None), (409, "return-already-refunded"), (409, "refund-limit")},
    "goodwill": {(201, None), (409, "refund-limit")},
    # 400: a shipped order is past cancelling (CONTRACT.md); 409: it holds money, or has units shipped
    "cancel": {
        (200, None),
        (400, "illegal-status-change"),
        (409, "order-fulfilled"),
        (409, "payment-outstanding"),
    },
}
Request = tuple[str, str, str, dict[str, Any]]  # kind, method, url, httpx keywords


class Load:
    """Fires rounds of requests at once, and counts every (kind, status, problem) that came back."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: Counter[tuple[str, int, str | None]] = Counter()

    def fire(self, requests: list[Request]) -> list[httpx.Response]:
        random.Random(len(self.seen)).shuffle(requests)
        responses = gather(self.client.server.url, [(m, u, kw) for _, m, u, kw in requests])
        for (kind, _, url, _), response in zip(requests, responses, strict=True):
            slug = response.json()["type"].removeprefix("/problems/") if response.status_code >= 400 else None
            self.seen[(kind, response.status_code, slug)] += 1
            assert (response.status_code, slug) in ALLOWED[kind], (kind, url, response.text)
        return responses


def test_a_mixed_load_after_the_order_keeps_every_total_and_limit(client: Client, e2e_engine: Engine) -> None:
    rng = random.Random(28)
    admin = client.admin()
    accounts = [client.customer(f"m{i}@shop.test") for i in range(12)]
    owners = [headers for headers, _ in accounts]
    owner_of = {user_id: headers for headers, user_id in accounts}
    products = [client.product(admin, f"AFTER-{i}", stock=500, price=p)["id"] for i, p in enumerate(PRICES)]
    load = Load(client)

    def place(n: int) -> list[Request]:
        requests = []
        for i in range(n):
            lines = rng.sample(products, rng.randint(2, 3))
            items = [{"product_id": p, "quantity": rng.randint(1, 3)} for p in lines]
            body = {"items": items, "shipping_address": HOME}
            requests.append(("place", "POST", "/orders", {"json": body, "headers": owners[i % len(owners)]}))
        return requests

    def by(kind: str, requests: list[Request], responses: list[httpx.Response]) -> list[dict]:
        return [
            r.json() for (k, *_), r in zip(requests, responses, strict=True) if k == kind and r.is_success
        ]

    # 1. Orders placed at once.
    requests = place(36)
    orders = by("place", requests, load.fire(requests))
    charged, authorised, unpaid = orders[:24], orders[24:30], orders[30:]
    # 2. Charged in full, or authorised, while more orders are placed.
    requests = [
        ("pay", "POST", f"/orders/{o['id']}/payments", {"json": pay, "headers": admin})
        for group, action in ((charged, "charge"), (authorised, "authorize"))
        for o in group
        for pay in [
            {"provider": "psp", "reference": f"pi_{o['id']}", "amount": o["total_amount"], "action": action}
        ]
    ] + place(6)
    responses = load.fire(requests)
    payments = {p["order_id"]: p for p in by("pay", requests, responses)}
    # 3. Confirmed, the authorisations captured twice at once, the unpaid ones cancelled by their owners and
    #    charged ones by an admin (refused: they hold money), more orders placed.
    paid = charged + authorised
    requests = (
        [
            (
                "confirm",
                "PATCH",
                f"/orders/{o['id']}/status",
                {"json": {"status": "confirmed"}, "headers": admin},
            )
            for o in paid
        ]
        + [
            ("capture", "POST", f"/payments/{payments[o['id']]['id']}/capture", {"headers": admin})
            for o in authorised * 2
        ]
        + [("cancel", "DELETE", f"/orders/{o['id']}", {"headers": owner_of[o["user_id"]]}) for o in unpaid]
        + [("cancel", "DELETE", f"/orders/{o['id']}", {"headers": admin}) for o in charged[:4]]
        + place(6)
    )
    load.fire(requests)

    def fulfil(order: dict, lines: list[tuple[dict, int]]) -> Request:
        body = {
            "lines": [{"order_line_id": line["id"], "quantity": q} for line, q in lines],
            "carrier": "DHL",
        }
        return "fulfil", "POST", f"/orders/{order['id']}/fulfillments", {"json": body, "headers": admin}

    # 4. Partial fulfilments racing on the same orders: two for all of the first line, one of a unit of each
    #    other line; admins trying to cancel some of them meanwhile.
    requests = (
        [
            request
            for o in paid
            for request in (
                fulfil(o, [(o["items"][0], o["items"][0]["quantity"])]),
                fulfil(o, [(o["items"][0], o["items"][0]["quantity"])]),
                fulfil(o, [(line, 1) for line in o["items"][1:]]),
            )
        ]
        + [("cancel", "DELETE", f"/orders/{o['id']}", {"headers": admin}) for o in paid[4:10]]
        + place(6)
    )
    responses = load.fire(requests)
    fulfilments = by("fulfil", requests, responses)
    assert len(fulfilments) == 2 * len(paid)  # of the two racing for the first line, one won on each order
    first_lines = {o["items"][0]["id"] for o in paid}
    first_line = {f["order_id"]: f for f in fulfilments if f["lines"][0]["order_line_id"] in first_lines}
    partial = {f["order_id"]: f for f in fulfilments if f["lines"][0]["order_line_id"] not in first_lines}

    def send_back(order: dict) -> Request:
        line = order["items"][0]
        body = {"lines": [{"order_line_id": line["id"], "quantity": line["quantity"], "restock": True}]}
        return "return", "POST", f"/orders/{order['id']}/returns", {"json": body, "headers": admin}

    def unfulfil(fulfilment: dict) -> Request:
        return "unfulfil", "POST", f"/fulfillments/{fulfilment['id']}/cancel", {"headers": admin}

    # 5. The partial fulfilments of some orders cancelled while the rest of others ships; two returns with
    #    restock racing for the same shipped units of each order, while the fulfilment that shipped them is
    #    cancelled on some (one of the two wins: the cancellation, or a return); goodwill refunds meanwhile.
    rest = {
        o["id"]: [(line, line["quantity"] - 1) for line in o["items"][1:] if line["quantity"] > 1]
        for o in paid
    }
    requests = (
        [unfulfil(partial[o["id"]]) for o in paid[:8]]
        + [fulfil(o, rest[o["id"]]) for o in paid[8:] if rest[o["id"]]]
        + [send_back(o) for o in paid[4:] for _ in range(2)]
        + [unfulfil(first_line[o["id"]]) for o in paid[4:12]]
        + [_goodwill(o, "2.00", f"gw_a_{o['id']}", admin) for o in paid[::3]]
        + place(6)
    )
    returns = by("return", requests, load.fire(requests))
    # 6. Each return refunded twice at once under two references (with and without an extra), three goodwill
    #    refunds of a third of the total per order racing with them, cancellations refused, orders placed.
    requests = (
        [
            ("refund_return", "POST", f"/returns/{r['id']}/refund", {"json": body, "headers": admin})
            for r in returns
            for body in ({"reference": f"re_{r['id']}"}, {"reference": f"rx_{r['id']}", "extra": "1.50"})
        ]
        + [_goodwill(o, _third(o), f"gw_{n}_{o['id']}", admin) for o in paid[2:] for n in range(3)]
        + [("cancel", "DELETE", f"/orders/{o['id']}", {"headers": admin}) for o in paid[10:16]]
        + place(6)
    )
    load.fire(requests)
    print("after the order:", dict(sorted(load.seen.items(), key=str)))
    for kind in ALLOWED:
        assert any(k == kind and s < 300 for k, s, _ in load.seen), kind  # each kind of request did act
    assert any(k == "fulfil" and slug == "fulfillment-limit" for k, _, slug in load.seen)
    assert any(k == "return" and slug == "return-limit" for k, _, slug in load.seen)
    assert any(k == "refund_return" and slug == "return-already-refunded" for k, _, slug in load.seen)

    assert_kept_totals_match_a_recount(client, admin, e2e_engine)
    reconciled = client.server.cli("check-stock")  # exits 1 on any drift
    assert "agree for every product" in reconciled.stdout
    _assert_lines_money_ledger_and_outbox_agree(e2e_engine)


def _third(order: dict) -> str:
    return str((Decimal(order["total_amount"]) / 3).quantize(Decimal("0.01")))


def _goodwill(order: dict, amount: str, reference: str, admin: dict[str, str]) -> Request:
    body = {"amount": amount, "reason": "late delivery", "reference": reference}
    return "goodwill", "POST", f"/orders/{order['id']}/refunds", {"json": body, "headers": admin}


def _assert_lines_money_ledger_and_outbox_agree(engine: Engine) -> None:
    live = "SELECT coalesce(sum(fl.quantity), 0) FROM fulfillment_lines fl JOIN fulfillments f"
    live += " ON f.id = fl.fulfillment_id WHERE fl.order_line_id = l.id AND f.status = 'fulfilled'"
    accepted = "SELECT coalesce(sum(rl.quantity), 0) FROM return_lines rl JOIN returns r"
    accepted += " ON r.id = rl.return_id WHERE rl.order_line_id = l.id AND r.status = 'accepted'"
    sums = "SELECT coalesce(sum(p.authorized_cents), 0), coalesce(sum(p.captured_cents), 0),"
    sums += " coalesce(sum(p.refunded_cents), 0) FROM payments p WHERE p.order_id = o.id"
    lines = "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE "
    none = {
        "a line ships or returns out of bounds": "SELECT count(*) FROM order_lines WHERE NOT (0 <="
        " quantity_returned AND quantity_returned <= quantity_shipped AND quantity_shipped <= quantity)",
        "a line's shipped units are not its live fulfilments'": (
            f"SELECT count(*) FROM order_lines l WHERE l.quantity_shipped <> ({live})"
        ),
        "a line's returned units are not its accepted returns'": (
            f"SELECT count(*) FROM order_lines l WHERE l.quantity_returned <> ({accepted})"
        ),
        "a shipped or delivered order has units unshipped": (
            f"{lines} o.status IN ('shipped', 'delivered') AND l.quantity_shipped < l.quantity"
        ),
        "a cancelled or pending order has units shipped": (
            f"{lines} o.status IN ('cancelled', 'pending') AND l.quantity_shipped > 0"
        ),
        "a payment refunds more than captured, or captures more than authorised": "SELECT count(*) FROM"
        " payments WHERE NOT (0 <= refunded_cents AND refunded_cents <= captured_cents"
        " AND captured_cents <= authorized_cents)",
        "an order's sums are not its payments'": (
            f"SELECT count(*) FROM orders o WHERE (o.authorized_cents, o.captured_cents, o.refunded_cents)"
            f" <> ({sums})"
        ),
        "an order's refunded sum is not its refunds'": "SELECT count(*) FROM orders o WHERE o.refunded_cents"
        " <> (SELECT coalesce(sum(r.amount_cents), 0) FROM order_refunds r WHERE r.order_id = o.id)",
        "a return refunded twice": "SELECT count(*) FROM (SELECT return_id FROM order_refunds"
        " WHERE return_id IS NOT NULL GROUP BY return_id HAVING count(*) > 1) twice",
    }
    for what, sql in none.items():
        assert count(engine, sql) == 0, what
    with engine.connect() as c:
        moved = Counter(
            tuple(row)
            for row in c.execute(
                text("SELECT return_id, product_id, delta FROM stock_movements WHERE kind = 'return'")
            )
        )
        restocked = Counter(
            tuple(row)
            for row in c.execute(
                text(
                    "SELECT r.id, rl.product_id, rl.quantity FROM return_lines rl JOIN returns r"
                    " ON r.id = rl.return_id WHERE r.status = 'accepted' AND rl.restock"
                )
            )
        )
    assert moved == restocked and moved
    fulfilments, refunds = (
        count(engine, "SELECT count(*) FROM fulfillments"),
        count(engine, "SELECT count(*) FROM order_refunds"),
    )
    assert count(engine, "SELECT count(*) FROM events WHERE type = 'fulfillment.created'") == fulfilments > 0
    assert count(engine, "SELECT count(*) FROM events WHERE type = 'order.refunded'") == refunds > 0
