"""Expiring pending orders against a customer's cancel and an admin's confirm at the same moment, on real
PostgreSQL: whoever holds the order first wins, the other sees the outcome, and the stock comes back once."""

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from adapters.sql.unit_of_work import SqlUnitOfWork, sync_unit_of_work
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    expire_pending_orders,
    place_order,
)
from application.products import check_stock
from domain.errors import IllegalStatusChange
from domain.orders import OrderStatus
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.helpers import admin, customer, product
from tests.integration.test_concurrency import wait_until_blocked

pytestmark = pytest.mark.postgres
TTL = timedelta(minutes=30)


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def returns(engine: Engine, order_id: int) -> list[str]:
    """The kinds of the movements that gave this order's units back."""
    with engine.connect() as c:
        rows = c.execute(
            text("SELECT kind FROM stock_movements WHERE order_id = :o AND delta > 0 ORDER BY id"),
            {"o": order_id},
        )
        return list(rows.scalars())


def paused_after_locking_orders(
    engine: Engine, reached: threading.Event, go: threading.Event
) -> SqlUnitOfWork:
    """A Unit of Work that stops once the expiry has locked its orders, until `go`."""
    uow = sync_unit_of_work(engine, present)
    get_many = uow.products.get_many

    def held(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        go.wait(30)
        return get_many(*args, **kwargs)

    uow.products.get_many = held  # type: ignore[method-assign]
    return uow


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except Exception as error:  # the test reads it
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def pending(pg: Engine):  # type: ignore[no-untyped-def]
    boss, ann = admin(pg), customer(pg, "ann@shop.test")
    item = product(pg, boss, "EXP-1", stock=10)
    clock = FixedClock()
    order = place_order(
        PlaceOrder((OrderItem(item.id, 3),)), uow=sync_unit_of_work(pg, present), actor=ann, clock=clock
    )
    clock.advance(TTL + timedelta(minutes=1))
    return boss, ann, item, order, clock


def stock(engine: Engine, product_id: int) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT stock_quantity FROM products WHERE id = :i"), {"i": product_id}
        ).scalar_one()


def race_behind_the_expiry(engine: Engine, clock: FixedClock, rival: Callable[[], Any]) -> tuple[dict, dict]:
    """The expiry locks the order and stops; `rival` starts and waits for the lock; then the expiry goes
    on. Returns both outcomes."""
    reached, go = threading.Event(), threading.Event()
    expiry, expired = in_thread(
        lambda: expire_pending_orders(TTL, uow=paused_after_locking_orders(engine, reached, go), clock=clock)
    )
    assert reached.wait(30)
    second, outcome = in_thread(rival)
    wait_until_blocked(engine)
    go.set()
    expiry.join(30)
    second.join(30)
    return expired, outcome


def test_a_cancel_waiting_on_the_expiry_finds_the_order_already_cancelled(pg: Engine, pending) -> None:  # type: ignore[no-untyped-def]
    _, ann, item, order, clock = pending
    expired, cancelled = race_behind_the_expiry(
        pg, clock, lambda: cancel_order(order.id, uow=sync_unit_of_work(pg, present), actor=ann, clock=clock)
    )
    assert expired == {"value": 1}
    assert cancelled["value"].status is OrderStatus.CANCELLED  # the customer's cancel answers as a no-op
    assert (stock(pg, item.id), returns(pg, order.id)) == (10, ["expiry"])
    assert check_stock(uow=sync_unit_of_work(pg, present)) == []


def test_a_confirm_waiting_on_the_expiry_is_refused(pg: Engine, pending) -> None:  # type: ignore[no-untyped-def]
    boss, _, item, order, clock = pending

    def confirm() -> object:
        return change_order_status(
            order.id, OrderStatus.CONFIRMED, uow=sync_unit_of_work(pg, present), actor=boss, clock=clock
        )

    expired, confirmed = race_behind_the_expiry(pg, clock, confirm)
    assert expired == {"value": 1} and isinstance(confirmed.get("error"), IllegalStatusChange)
    assert (stock(pg, item.id), returns(pg, order.id)) == (10, ["expiry"])


def test_the_expiry_skips_an_order_a_cancel_holds(pg: Engine, pending) -> None:  # type: ignore[no-untyped-def]
    _, ann, item, order, clock = pending
    holder = sync_unit_of_work(pg, present)
    with holder:
        held = holder.orders.get(order.id, for_update=True)  # a cancel in the middle of its transaction
        assert (
            expire_pending_orders(TTL, uow=sync_unit_of_work(pg, present), clock=clock) == 0
        )  # skipped, not waited
        products = holder.products.get_many(held.product_ids(), for_update=True)
        held.cancel(products, by=ann, at=clock.now())
        holder.products.move_stock(held.movements())
        holder.orders.save(held)
        holder.commit()
    assert expire_pending_orders(TTL, uow=sync_unit_of_work(pg, present), clock=clock) == 0
    assert (stock(pg, item.id), returns(pg, order.id)) == (10, ["cancellation"])


def test_two_runners_share_the_work_and_expire_each_order_once(pg: Engine) -> None:
    boss, ann = admin(pg), customer(pg, "ann@shop.test")
    item = product(pg, boss, "EXP-2", stock=100)
    clock = FixedClock()
    orders = [
        place_order(
            PlaceOrder((OrderItem(item.id, 1),)), uow=sync_unit_of_work(pg, present), actor=ann, clock=clock
        )
        for _ in range(30)
    ]
    clock.advance(TTL * 2)
    start = threading.Barrier(2)

    def runner() -> int:
        start.wait()
        done = 0
        while batch := expire_pending_orders(TTL, uow=sync_unit_of_work(pg, present), clock=clock, batch=4):
            done += batch
        return done

    threads = [in_thread(runner) for _ in range(2)]
    for thread, _ in threads:
        thread.join(60)
    assert sum(outcome["value"] for _, outcome in threads) == 30
    assert stock(pg, item.id) == 100
    assert all(returns(pg, o.id) == ["expiry"] for o in orders)
    assert check_stock(uow=sync_unit_of_work(pg, present)) == []
