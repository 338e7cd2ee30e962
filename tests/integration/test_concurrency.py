"""Stock is taken atomically: concurrent orders for the last units never oversell; the kept recent
spend moves on without losing a concurrent change (real PostgreSQL)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as midnight

import pytest
from sqlalchemy import Engine, select, text, update

from adapters.sql.tables import sales_window
from adapters.sql.unit_of_work import sync_unit_of_work
from application.orders import OrderItem, PlaceOrder, place_order
from application.sales import roll_recent_window
from application.users import deactivate_user
from domain.errors import InsufficientStock
from domain.periods import last_days
from domain.stock import MovementKind, StockMovement
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.helpers import admin, clock, customer, product
from tests.integration.test_sales_totals import assert_kept_totals_are_a_recount

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def stock(engine: Engine, product_id: int) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT stock_quantity FROM products WHERE id = :i"), {"i": product_id}
        ).scalar_one()


def wait_until_blocked(engine: Engine, timeout: float = 10.0) -> None:
    """Poll pg_locks until some backend waits for a row lock (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    with engine.connect() as c:
        while time.monotonic() < deadline:
            if c.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                return
            c.rollback()
            time.sleep(0.01)
    raise AssertionError("the second transaction never waited for the first")


def test_second_order_for_the_last_unit_waits_then_fails(pg: Engine) -> None:
    boss = admin(pg)
    bob = customer(pg, "bob@shop.test")
    last = product(pg, boss, "LAST-1", stock=1)
    cmd = PlaceOrder((OrderItem(last.id, 1),))

    first = sync_unit_of_work(pg, present)
    with first:
        # Place the first order but hold its transaction open.
        first.products.get_many([last.id], for_update=True)
        first.products.move_stock(
            [StockMovement(last.id, -1, 0, MovementKind.ADJUSTMENT, clock.now(), boss.id, "held")]
        )
        outcome: dict[str, object] = {}

        def second_order() -> None:
            try:
                outcome["order"] = place_order(
                    cmd, uow=sync_unit_of_work(pg, present), actor=bob, clock=clock
                )
            except InsufficientStock as error:
                outcome["error"] = error

        worker = threading.Thread(target=second_order)
        worker.start()
        wait_until_blocked(pg)
        first.commit()
    worker.join(timeout=30)
    assert isinstance(outcome.get("error"), InsufficientStock) and "order" not in outcome
    assert stock(pg, last.id) == 0


def test_many_concurrent_orders_for_few_units_never_oversell(pg: Engine) -> None:
    boss = admin(pg)
    buyers = [customer(pg, f"c{i}@shop.test") for i in range(8)]
    scarce = product(pg, boss, "SCARCE-1", stock=5)
    cmd = PlaceOrder((OrderItem(scarce.id, 1),))
    start = threading.Barrier(len(buyers) * 3)

    def attempt(buyer_index: int) -> bool:
        start.wait()
        try:
            place_order(
                cmd, uow=sync_unit_of_work(pg, present), actor=buyers[buyer_index % len(buyers)], clock=clock
            )
            return True
        except InsufficientStock:
            return False

    with ThreadPoolExecutor(max_workers=len(buyers) * 3) as pool:
        results = list(pool.map(attempt, range(len(buyers) * 3)))
    assert results.count(True) == 5 and results.count(False) == 19
    assert stock(pg, scarce.id) == 0
    with pg.connect() as c:
        assert c.execute(text("SELECT count(*) FROM orders")).scalar_one() == 5
        assert c.execute(text("SELECT coalesce(sum(quantity), 0) FROM order_lines")).scalar_one() == 5


def test_the_recent_window_moves_on_after_a_change_to_a_day_it_lets_go(pg: Engine) -> None:
    """A cancellation of an order from the window's first day, held open, makes the daily move wait: the
    move then subtracts that day as the cancellation left it, and the kept recent totals stay a recount."""
    boss = admin(pg)
    ann = customer(pg, "ann@shop.test")
    item = product(pg, boss, "OLD-1", stock=10)
    today = datetime.combine(datetime.now(UTC).date(), midnight(0), tzinfo=UTC)
    first_day = today - timedelta(days=31)  # moving on to today lets 2 days go
    with pg.begin() as c:
        c.execute(update(sales_window).values(first_day=int(first_day.timestamp())))
    cmd = PlaceOrder((OrderItem(item.id, 2),))
    old = place_order(cmd, uow=sync_unit_of_work(pg, present), actor=ann, clock=FixedClock(first_day))
    place_order(
        cmd, uow=sync_unit_of_work(pg, present), actor=ann, clock=FixedClock(today - timedelta(days=3))
    )

    holder = sync_unit_of_work(pg, present)
    with holder:
        order = holder.orders.get(old.id)
        order.cancel(holder.products.get_many([item.id], for_update=True), by=boss, at=clock.now())
        holder.orders.save(order)
        mover = threading.Thread(
            target=roll_recent_window, kwargs={"uow": sync_unit_of_work(pg, present), "clock": clock}
        )
        mover.start()
        wait_until_blocked(pg)
        holder.commit()
    mover.join(timeout=30)
    assert not mover.is_alive()
    with pg.connect() as c:
        assert c.execute(select(sales_window.c.first_day)).scalar_one() == int(
            last_days(30, clock.now()).timestamp()
        )
    assert_kept_totals_are_a_recount(pg, orders_count=2)


def test_a_deactivation_racing_a_bulk_one_waits_and_raises_no_second_event(pg: Engine) -> None:
    """The bulk call holds the account locked; the single one waits, then finds it inactive: one event."""
    boss = admin(pg)
    ann = customer(pg, "ann@shop.test")
    first = sync_unit_of_work(pg, present)
    with first:
        [held] = first.users.get_many([ann.id], for_update=True)
        assert held.deactivate(clock.now(), boss.id)
        first.users.save(held)
        worker = threading.Thread(
            target=deactivate_user,
            args=(ann.id,),
            kwargs={"uow": sync_unit_of_work(pg, present), "actor": boss, "clock": clock},
        )
        worker.start()
        wait_until_blocked(pg)
        first.commit()
    worker.join(timeout=30)
    with pg.connect() as c:
        events = c.execute(text("SELECT type, sequence FROM events WHERE resource_type = 'user'")).all()
    assert [tuple(e) for e in events] == [("user.deactivated", 1)]
