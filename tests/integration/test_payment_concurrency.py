"""Payments under concurrency on real PostgreSQL: two captures racing for the last authorised amount (one
wins, the other is refused after waiting for it), and two payments of one order acting at once (the order's
sums lose neither)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from adapters.sql.unit_of_work import sync_unit_of_work
from application.orders import OrderItem, PlaceOrder, place_order
from application.payments import RecordPayment, capture_payment, record_payment
from domain.payment_errors import PaymentLimit
from domain.payments import USD, PaymentAction
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, customer, product
from tests.integration.test_concurrency import wait_until_blocked

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def order_and_payment(pg: Engine, *amounts: str):  # type: ignore[no-untyped-def]
    boss, bob = admin(pg), customer(pg, "bob@shop.test")
    item = product(pg, boss, "P-1", stock=5, price="30.00")
    order = place_order(
        PlaceOrder((OrderItem(item.id, 1),)), uow=sync_unit_of_work(pg, present), actor=bob, clock=clock
    )
    payments = [
        record_payment(
            order.id, RecordPayment("psp", f"pi_{i}", Decimal(a), PaymentAction.AUTHORIZE),
            uow=sync_unit_of_work(pg, present), actor=boss, clock=clock, currency=USD,
        ).payment
        for i, a in enumerate(amounts)
    ]  # fmt: skip
    return boss, order, payments


def sums(pg: Engine, order_id: int) -> tuple:
    with pg.connect() as c:
        order = c.execute(
            text("SELECT authorized_cents, captured_cents, version FROM orders WHERE id = :i"),
            {"i": order_id},
        ).one()
        payments = c.execute(
            text("SELECT coalesce(sum(captured_cents), 0) FROM payments WHERE order_id = :i"), {"i": order_id}
        ).scalar_one()
    return tuple(order) + (payments,)


def test_the_second_capture_of_the_last_amount_waits_then_is_refused(pg: Engine) -> None:
    boss, order, [payment] = order_and_payment(pg, "30.00")
    first = sync_unit_of_work(pg, present)
    with first:
        held = first.payments.get(payment.id, for_update=True)
        outcome: dict[str, object] = {}

        def second() -> None:
            try:
                outcome["payment"] = capture_payment(
                    payment.id, Decimal("30.00"), uow=sync_unit_of_work(pg, present), actor=boss, clock=clock,
                    currency=USD,
                )  # fmt: skip
            except PaymentLimit as error:
                outcome["error"] = error

        worker = threading.Thread(target=second)
        worker.start()
        wait_until_blocked(pg)
        locked_order = first.orders.get(order.id, for_update=True)
        held.capture(Decimal("30.00"), USD, actor_id=boss.id, at=clock.now())
        moved = held.moved()
        first.payments.save(held)
        locked_order.take_payment(moved, at=clock.now())
        first.orders.save(locked_order)
        first.commit()
    worker.join(timeout=30)
    error = outcome.get("error")
    assert isinstance(error, PaymentLimit) and "payment" not in outcome
    assert (error.limit, error.requested, error.available) == ("capture", Decimal("30.00"), Decimal("0.00"))
    assert sums(pg, order.id)[:2] == (3000, 3000) and sums(pg, order.id)[3] == 3000


def test_many_captures_racing_never_capture_more_than_authorised(pg: Engine) -> None:
    boss, order, [payment] = order_and_payment(pg, "30.00")
    start = threading.Barrier(8)

    def attempt(_: int) -> bool:
        start.wait()
        try:
            capture_payment(
                payment.id, Decimal("10.00"), uow=sync_unit_of_work(pg, present), actor=boss, clock=clock,
                currency=USD,
            )  # fmt: skip
            return True
        except PaymentLimit:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count(True) == 3 and results.count(False) == 5
    assert sums(pg, order.id) == (3000, 3000, 1 + 1 + 3, 3000)  # version: placed, authorised, 3 captures


def test_two_payments_of_one_order_capturing_at_once_lose_no_update(pg: Engine) -> None:
    boss, order, payments = order_and_payment(pg, "10.00", "20.00")
    start = threading.Barrier(2)

    def attempt(i: int) -> None:
        start.wait()
        capture_payment(
            payments[i].id, None, uow=sync_unit_of_work(pg, present), actor=boss, clock=clock, currency=USD
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(attempt, range(2)))
    assert sums(pg, order.id) == (3000, 3000, 1 + 2 + 2, 3000)
