"""Migration 0013 on a database that already has orders, events and webhook deliveries: the orders start
unpaid, nothing of the outbox or the deliveries is lost (SQLite's CHECK is widened in place, not by copying
`events`), and payments work at once; the downgrade takes them away again."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config, migrate
from adapters.sql.unit_of_work import sync_unit_of_work
from application.payments import RecordPayment, record_payment
from domain.payments import USD, PaymentAction, PaymentStatus
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.test_migration_sql import empty_database, integrity_check
from tests.support.postgres import ThrowawayPostgres

BEFORE = "0012_user_events"  # the revision before 0013
AT = datetime(2026, 11, 1, tzinfo=UTC)


def _seed(url: str) -> None:
    engine = make_sync_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (email, name, password_hash, is_active, is_admin, credentials_version,"
                " created_at, updated_at) VALUES ('a@shop.test', 'A', 'h', true, true, 1, :at, :at)"
            ),
            {"at": AT},
        )
        c.execute(
            text(
                "INSERT INTO orders (order_number, user_id, status, total_amount, version, created_at,"
                " updated_at) VALUES ('OLD-1', 1, 'pending', 30.00, 1, :at, :at)"
            ),
            {"at": AT},
        )
        c.execute(
            text(
                "INSERT INTO events (type, resource_type, resource_id, sequence, created_at, payload)"
                " VALUES ('order.placed', 'order', 1, 1, :at, '{}')"
            ),
            {"at": AT},
        )
        c.execute(
            text(
                "INSERT INTO webhooks (url, event_types, secret, enabled, consecutive_failures, version,"
                " created_at, updated_at, after_event_id)"
                " VALUES ('https://x.test', '[]', 's', true, 0, 1, :at, :at, 0)"
            ),
            {"at": AT},
        )
        c.execute(
            text(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, state, attempts,"
                " next_attempt_at, created_at) VALUES (1, 1, 'order.placed', 'pending', 0, :at, :at)"
            ),
            {"at": AT},
        )
    engine.dispose()


def _check_upgrade(url: str) -> None:
    migrate(url, BEFORE)
    _seed(url)
    migrate(url)
    engine = make_sync_engine(url)
    uow = sync_unit_of_work(engine, present)
    with uow:
        order = uow.orders.get(1)
        admin = uow.users.get(1)
    assert order is not None and admin is not None
    assert (order.authorized, order.captured, order.refunded) == (0, 0, 0)
    assert order.payment_status is PaymentStatus.UNPAID
    cmd = RecordPayment("psp", "pi_1", Decimal("30.00"), PaymentAction.CHARGE)
    record_payment(
        1, cmd, uow=sync_unit_of_work(engine, present), actor=admin, clock=FixedClock(AT), currency=USD
    )
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one() == 1
        assert c.execute(text("SELECT type FROM events ORDER BY id")).scalars().all() == [
            "order.placed",
            "payment.captured",
        ]
        assert c.execute(text("SELECT captured_cents FROM orders")).scalar_one() == 3000
        with pytest.raises(Exception, match="ck_events_type_known"):
            c.execute(
                text(
                    "INSERT INTO events (type, resource_type, resource_id, sequence, created_at, payload)"
                    " VALUES ('payment.stolen', 'payment', 9, 1, :at, '{}')"
                ),
                {"at": AT},
            )
        c.rollback()
    engine.dispose()
    migrate_down(url)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT type FROM events")).scalars().all() == ["order.placed"]
        assert c.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one() == 1
        assert c.execute(text("SELECT count(*) FROM orders")).scalar_one() == 1
    engine.dispose()


def migrate_down(url: str) -> None:
    command.downgrade(alembic_config(url), BEFORE)


def test_sqlite_upgrade_of_an_existing_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    _check_upgrade(url)
    assert integrity_check(url) == "ok"


@pytest.mark.postgres
def test_postgres_upgrade_of_an_existing_database(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    _check_upgrade(empty_database(postgres_server, postgres_url, "shop_payment_migration"))
