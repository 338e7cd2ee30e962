"""The kept order totals (migration 0017's `order_totals_moved`) lock the old and the new status's rows in
one order whichever way an order moves: a fulfilment's cancellation moves shipped -> processing, the reverse
of shipping, and two such moves locking one pair of rows in opposite orders would deadlock.

Shown without timing: while the (processing, slot) row is held, an order moving shipped -> processing waits
for it before it has locked (shipped, slot), which another transaction can still take at once."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from adapters.sql.engine import make_sync_engine
from tests.integration.helpers import admin, customer, product
from tests.integration.test_hot_path import place

SLOTS = 16


@pytest.fixture
def engine(clean_postgres: str) -> Iterator[Engine]:
    engine = make_sync_engine(clean_postgres)
    yield engine
    engine.dispose()


def _lock_totals(c: Connection, status: str, slot: int, *, nowait: bool = False) -> None:
    c.execute(
        text(
            "SELECT 1 FROM order_totals WHERE status = :status AND slot = :slot FOR UPDATE"
            + (" NOWAIT" if nowait else "")
        ),
        {"status": status, "slot": slot},
    )


def _waiting_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as c:
        waits = c.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar_one_or_none()
    return waits == "Lock"


@pytest.mark.postgres
def test_a_move_back_from_shipped_locks_the_totals_in_the_order_shipping_does(engine: Engine) -> None:
    boss, ann = admin(engine), customer(engine, "ann@shop.test")
    item = product(engine, boss, "P-1", stock=5).id
    order, _ = place(engine, ann.id, (item, 1))
    slot = order.id % SLOTS
    with engine.begin() as c:
        c.execute(text("UPDATE orders SET status = 'shipped' WHERE id = :id"), {"id": order.id})
    with engine.connect() as holder, engine.connect() as mover, engine.connect() as prober:
        _lock_totals(holder, "processing", slot)
        mover_pid = mover.execute(text("SELECT pg_backend_pid()")).scalar_one()
        moved = threading.Thread(
            target=mover.execute,
            args=(text("UPDATE orders SET status = 'processing' WHERE id = :id"), {"id": order.id}),
        )
        moved.start()
        try:
            for _ in range(100_000):
                if _waiting_for_a_lock(engine, mover_pid):
                    break
            else:
                pytest.fail("the move never waited for the held row")
            _lock_totals(prober, "shipped", slot, nowait=True)  # not taken by the waiting move
            prober.rollback()
        finally:
            holder.rollback()
            moved.join()
        mover.commit()
    with engine.connect() as c:
        kept = dict(
            c.execute(
                text("SELECT status, sum(orders) FROM order_totals GROUP BY status HAVING sum(orders) > 0")
            ).all()
        )
    assert kept == {"processing": 1}
