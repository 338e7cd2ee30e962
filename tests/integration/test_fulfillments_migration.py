"""Migration 0015 on a database that already has orders: one shipped (its lines counted shipped by 0014)
gets one fulfilment of all its units, dated by its history's move to shipped; a pending one gets none; the
CHECKs refuse an unknown status and a quantity below 1; the downgrade drops both tables and keeps the
lines' shipped quantities."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from adapters.sql.engine import make_sync_engine
from adapters.sql.mapping import utc
from adapters.sql.migrate import alembic_config, migrate
from tests.integration.test_line_quantities_migration import _refused
from tests.integration.test_migration_sql import empty_database, integrity_check
from tests.support.postgres import ThrowawayPostgres

BEFORE = "0014_line_quantities"
AT = datetime(2026, 11, 1, tzinfo=UTC)
SHIPPED_AT = AT + timedelta(days=2)


def _seed(url: str) -> None:
    engine = make_sync_engine(url)
    with engine.begin() as c:
        run = lambda statement, **kw: c.execute(text(statement), {"at": AT, **kw})  # noqa: E731
        run(
            "INSERT INTO users (email, name, password_hash, is_active, is_admin, credentials_version,"
            " created_at, updated_at) VALUES ('a@shop.test', 'A', 'h', true, true, 1, :at, :at)"
        )
        run(
            "INSERT INTO products (sku, slug, name, price, stock_quantity, is_active, version,"
            " created_at, updated_at) VALUES ('P-1', 'p-1', 'P', 10.00, 5, true, 1, :at, :at)"
        )
        for number, status in (("OLD-1", "shipped"), ("OLD-2", "pending"), ("OLD-3", "delivered")):
            run(
                "INSERT INTO orders (order_number, user_id, status, total_amount, version, created_at,"
                " updated_at) VALUES (:number, 1, :status, 30.00, 1, :at, :at)",
                number=number,
                status=status,
            )
        shipped = "quantity_shipped = quantity"
        for order_id, quantity in ((1, 3), (1, 1), (2, 2), (3, 4)):
            run(
                "INSERT INTO order_lines (order_id, product_id, product_name, quantity, unit_price,"
                " line_total, quantity_shipped) VALUES (:order_id, 1, 'P', :q, 10.00, 10.00, 0)",
                order_id=order_id,
                q=quantity,
            )
        run(f"UPDATE order_lines SET {shipped} WHERE order_id IN (1, 3)")
        run(
            "INSERT INTO order_status_events (order_id, from_status, to_status, at) "
            "VALUES (1, 'processing', 'shipped', :shipped_at)",
            shipped_at=SHIPPED_AT,
        )
    engine.dispose()


def _time(value: datetime | str) -> datetime:
    """SQLite hands raw text back: the time as the seed wrote it."""
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _check(url: str) -> None:
    migrate(url, BEFORE)
    _seed(url)
    migrate(url)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            text("SELECT id, order_id, status, created_at, version, carrier FROM fulfillments ORDER BY id")
        ).all()
        assert [(r.order_id, r.status, _time(r.created_at), r.version, r.carrier) for r in rows] == [
            (1, "fulfilled", SHIPPED_AT, 1, None),
            (3, "fulfilled", AT, 1, None),  # no move to shipped in its history: its last change
        ]
        lines = c.execute(
            text("SELECT fulfillment_id, order_line_id, quantity FROM fulfillment_lines ORDER BY id")
        ).all()
        assert [tuple(r) for r in lines] == [(rows[0].id, 1, 3), (rows[0].id, 2, 1), (rows[1].id, 4, 4)]
        _refused(
            c,
            "INSERT INTO fulfillments (order_id, status, created_at, updated_at, version)"
            " VALUES (2, 'lost', :at, :at, 1)",
            "ck_fulfillments_status_known",
        )
        _refused(
            c,
            "INSERT INTO fulfillment_lines (fulfillment_id, order_line_id, quantity)"
            f" VALUES ({rows[0].id}, 3, 0)",
            "ck_fulfillment_lines_quantity_positive",
        )
    engine.dispose()
    command.downgrade(alembic_config(url), BEFORE)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        shipped = c.execute(text("SELECT quantity_shipped FROM order_lines ORDER BY id")).scalars().all()
        assert shipped == [3, 1, 0, 4]
        for table in ("fulfillments", "fulfillment_lines"):
            with pytest.raises(Exception, match=table):
                c.execute(text(f"SELECT * FROM {table}"))
            c.rollback()
    engine.dispose()


def test_sqlite_upgrade_of_an_existing_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    _check(url)
    assert integrity_check(url) == "ok"


@pytest.mark.postgres
def test_postgres_upgrade_of_an_existing_database(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    _check(empty_database(postgres_server, postgres_url, "shop_fulfillments_migration"))
