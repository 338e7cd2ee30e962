"""Returns and refunds under concurrency on real PostgreSQL: two returns (an admin's, accepted at once) for
the last returnable unit at once, one wins and the other is refused (409 `return-limit`), and nothing is
ever returned beyond what was shipped; a refund and a capture of the same order's payments at once (the
refund locks payments before the order, as a capture does) both land, the sums exact."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from adapters.sql.unit_of_work import sync_unit_of_work
from application.orders import OrderItem, PlaceOrder, place_order
from application.payments import RecordPayment, capture_payment, record_payment
from application.products import check_stock
from application.refunds import RefundOrder, refund_goodwill
from application.returns import CreateReturn, create_return
from domain.payments import USD, PaymentAction
from domain.return_errors import ReturnLimit
from domain.returns import ReturnItem
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, customer, product
from tests.integration.test_concurrency import wait_until_blocked
from tests.support.shipping import ship_all

pytestmark = pytest.mark.postgres
WINDOW = timedelta(days=30)


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def shipped_order(pg: Engine, units: int):  # type: ignore[no-untyped-def]
    boss, bob = admin(pg), customer(pg, "bob@shop.test")
    item = product(pg, boss, "P-1", stock=units)
    order = place_order(
        PlaceOrder((OrderItem(item.id, units),)), uow=sync_unit_of_work(pg, present), actor=bob, clock=clock
    )
    ship_all(lambda: sync_unit_of_work(pg, present), order.id)
    return boss, order


def take_back(pg: Engine, boss, order_id: int, line_id: int, uow=None) -> bool:  # type: ignore[no-untyped-def]
    cmd = CreateReturn((ReturnItem(line_id, 1, restock=True),))
    try:
        create_return(
            order_id, cmd, uow=uow or sync_unit_of_work(pg, present), actor=boss, clock=clock, window=WINDOW,
            currency=USD,
        )  # fmt: skip
        return True
    except ReturnLimit as refused:
        assert (refused.requested, refused.available) == (1, 0)
        return False


def returned(pg: Engine, order_id: int) -> tuple[int, int, int]:
    with pg.connect() as c:
        line = c.execute(
            text("SELECT quantity_shipped, quantity_returned FROM order_lines WHERE order_id = :i"),
            {"i": order_id},
        ).one()
        returns = c.execute(
            text("SELECT count(*) FROM returns WHERE order_id = :i"), {"i": order_id}
        ).scalar_one()
    return line.quantity_shipped, line.quantity_returned, returns


def test_the_second_return_of_the_last_unit_waits_then_is_refused(pg: Engine) -> None:
    boss, order = shipped_order(pg, 1)
    line_id = order.lines[0].id
    first = sync_unit_of_work(pg, present)
    with first:
        first.orders.get(order.id, for_update=True)  # the first return holds the order
        outcome: dict[str, bool] = {}
        worker = threading.Thread(target=lambda: outcome.update(won=take_back(pg, boss, order.id, line_id)))
        worker.start()
        wait_until_blocked(pg)
        assert take_back(pg, boss, order.id, line_id, uow=first) is True  # in the unit holding the lock
    worker.join(timeout=30)
    assert outcome == {"won": False}
    assert returned(pg, order.id) == (1, 1, 1)


def test_returns_racing_for_the_last_units_never_return_more_than_shipped(pg: Engine) -> None:
    boss, order = shipped_order(pg, 3)
    line_id = order.lines[0].id
    start = threading.Barrier(6)

    def attempt(_: int) -> bool:
        start.wait()
        return take_back(pg, boss, order.id, line_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert results.count(True) == 3 and results.count(False) == 3
    assert returned(pg, order.id) == (3, 3, 3)
    assert check_stock(uow=sync_unit_of_work(pg, present)) == []


def test_a_refund_and_a_capture_of_one_order_at_once_both_land(pg: Engine) -> None:
    boss, order = shipped_order(pg, 2)
    charged, held = (
        record_payment(
            order.id, RecordPayment("psp", f"pi_{i}", Decimal("10.00"), action),
            uow=sync_unit_of_work(pg, present), actor=boss, clock=clock, currency=USD,
        ).payment
        for i, action in enumerate((PaymentAction.CHARGE, PaymentAction.AUTHORIZE))
    )  # fmt: skip
    start = threading.Barrier(2)

    def refund() -> None:
        start.wait()
        refund_goodwill(
            order.id, RefundOrder(Decimal("4.00"), "late", "gw_1"), uow=sync_unit_of_work(pg, present),
            actor=boss, clock=clock, currency=USD,
        )  # fmt: skip

    def capture() -> None:
        start.wait()
        capture_payment(
            held.id, None, uow=sync_unit_of_work(pg, present), actor=boss, clock=clock, currency=USD
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(refund), pool.submit(capture)]:
            done.result(timeout=30)
    with pg.connect() as c:
        sums = c.execute(
            text("SELECT captured_cents, refunded_cents FROM orders WHERE id = :i"), {"i": order.id}
        ).one()
        paid = c.execute(
            text("SELECT sum(captured_cents), sum(refunded_cents) FROM payments WHERE order_id = :i"),
            {"i": order.id},
        ).one()
    assert tuple(sums) == tuple(paid) == (2000, 400)
    assert charged.id < held.id
