"""Migration 0017 (revenue net of refunds) on a database whose orders already have refunds, on SQLite and
PostgreSQL: the upgrade backfills every kept total net; the downgrade gives them back gross, with 0004's and
0010's triggers again (deaf to refunds); the upgrade after it is net again."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, update

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config
from adapters.sql.tables import orders, users
from tests.integration.test_sales_totals import assert_kept_totals_are_a_recount, fresh_postgres_database

# The revision 0017 follows (re-chained as revisions merge).
BEFORE = (
    ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision("0017_net_revenue").down_revision
)
NOW = datetime.now(UTC)
STATUSES = ["pending", "confirmed", "shipped", "delivered", "cancelled"]
# (total, captured cents, refunded cents): none, part refunded, all refunded, an overpayment's refund only,
# a refund beyond the overpayment.
MONEY = [
    ("30.00", 0, 0),
    ("30.00", 3000, 1250),
    ("12.35", 1235, 1235),
    ("20.00", 2500, 500),
    ("20.00", 2500, 501),
]


def seed(engine: Engine) -> None:
    with engine.begin() as connection:
        stamps = {"password_hash": "h", "created_at": NOW, "updated_at": NOW}
        connection.execute(users.insert(), [{"email": f"{n}@x.test", "name": n, **stamps} for n in "ab"])
        rows = []
        for i in range(20):
            total, captured, refunded = MONEY[i % len(MONEY)]
            status = "cancelled" if i in (2, 10) else STATUSES[i % 4]  # 2: refunded in full, 10: unpaid
            rows.append(
                {"order_number": f"OLD-{i}", "user_id": 1 + i % 2, "status": status, "version": 1,
                 "total_amount": Decimal(total), "authorized_cents": captured, "captured_cents": captured,
                 "refunded_cents": refunded, "updated_at": NOW,
                 "created_at": NOW - timedelta(days=i * 3, minutes=41 * i)}
            )  # fmt: skip
        connection.execute(orders.insert(), rows)


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_kept_totals_go_net_and_back(dialect: str, tmp_path, request) -> None:
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'net.db'}"
    else:
        url = fresh_postgres_database(request, "shop_net_revenue")
    config = alembic_config(url)
    command.upgrade(config, BEFORE)
    engine = make_sync_engine(url)
    seed(engine)
    assert_kept_totals_are_a_recount(engine, orders_count=20, net=False)
    command.upgrade(config, "head")
    assert_kept_totals_are_a_recount(engine, orders_count=20)

    command.downgrade(config, BEFORE)
    assert_kept_totals_are_a_recount(engine, orders_count=20, net=False)
    with engine.begin() as connection:  # 0004's and 0010's triggers again: a refund moves no total
        connection.execute(
            update(orders).where(orders.c.id == 1).values(captured_cents=3000, refunded_cents=900)
        )
        connection.execute(update(orders).where(orders.c.id == 2).values(status="delivered"))
        assert connection.execute(select(orders.c.status).where(orders.c.id == 2)).scalar_one() == "delivered"
    assert_kept_totals_are_a_recount(engine, orders_count=20, net=False)

    command.upgrade(config, "head")
    assert_kept_totals_are_a_recount(engine, orders_count=20)
    with engine.begin() as connection:  # and 0017's: a refund moves them, a capture within the total none
        connection.execute(
            update(orders).where(orders.c.id == 6).values(captured_cents=3000, refunded_cents=1)
        )
        connection.execute(
            update(orders).where(orders.c.id == 1).values(captured_cents=3000, refunded_cents=0)
        )
    assert_kept_totals_are_a_recount(engine, orders_count=20)
    engine.dispose()
