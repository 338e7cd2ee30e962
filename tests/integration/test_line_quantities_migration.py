"""Migration 0014 on a database that already has orders, an event and a webhook delivery: the lines of a
delivered order count as shipped, others start with nothing shipped, nothing returned; the CHECKs refuse
more shipped than ordered and more returned than shipped; the new ledger kind and event types are accepted;
the downgrade keeps the ledger's sum (a return's movement stays, as an adjustment) and drops the
new events."""

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config, migrate
from tests.integration.test_migration_sql import empty_database, integrity_check
from tests.integration.test_payment_migration import _seed
from tests.support.postgres import ThrowawayPostgres

BEFORE = "0013_payments"
AT = datetime(2026, 11, 1, tzinfo=UTC)


def _seed_lines(url: str) -> None:
    _seed(url)  # a user, an order (id 1), an event, a webhook and its delivery
    engine = make_sync_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO products (sku, slug, name, price, stock_quantity, is_active, version,"
                " created_at, updated_at) VALUES ('P-1', 'p-1', 'P', 10.00, 5, true, 1, :at, :at)"
            ),
            {"at": AT},
        )
        c.execute(
            text(
                "INSERT INTO orders (order_number, user_id, status, total_amount, version, created_at,"
                " updated_at) VALUES ('OLD-2', 1, 'delivered', 20.00, 1, :at, :at)"
            ),
            {"at": AT},
        )
        c.execute(
            text(
                "INSERT INTO order_lines (order_id, product_id, product_name, quantity, unit_price,"
                " line_total) VALUES (1, 1, 'P', 3, 10.00, 30.00), (2, 1, 'P', 2, 10.00, 20.00)"
            )
        )
    engine.dispose()


def _refused(c: Connection, statement: str, constraint: str) -> None:
    with pytest.raises(Exception, match=constraint):
        c.execute(text(statement), {"at": AT})
    c.rollback()


def _check(url: str) -> None:
    migrate(url, BEFORE)
    _seed_lines(url)
    migrate(url)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        lines = "SELECT quantity_shipped, quantity_returned FROM order_lines ORDER BY id"
        assert c.execute(text(lines)).all() == [(0, 0), (2, 0)]  # the delivered order's line: all shipped
        line = "SELECT quantity_shipped, quantity_returned FROM order_lines WHERE order_id = 1"
        for shipped, returned, constraint in (
            (4, 0, "ck_order_lines_shipped_within_quantity"),
            (-1, 0, "ck_order_lines_"),  # below 0 breaks both
            (2, 3, "ck_order_lines_returned_within_shipped"),
            (2, -1, "ck_order_lines_returned_within_shipped"),
        ):
            _refused(
                c,
                f"UPDATE order_lines SET quantity_shipped = {shipped}, quantity_returned = {returned}"
                " WHERE order_id = 1",
                constraint,
            )
        _refused(
            c,
            "INSERT INTO events (type, resource_type, resource_id, sequence, created_at, payload)"
            " VALUES ('return.stolen', 'return', 1, 1, :at, '{}')",
            "ck_events_type_known",
        )
        c.execute(
            text("UPDATE order_lines SET quantity_shipped = 3, quantity_returned = 1 WHERE order_id = 1")
        )
        c.execute(
            text(
                "INSERT INTO stock_movements (product_id, delta, quantity, kind, order_id, created_at)"
                " VALUES (1, 1, 6, 'return', 1, :at)"
            ),
            {"at": AT},
        )
        for type_, resource, sequence in (
            ("fulfillment.created", "fulfillment", 1),
            ("return.accepted", "return", 1),
            ("order.refunded", "order", 2),
        ):
            c.execute(
                text(
                    "INSERT INTO events (type, resource_type, resource_id, sequence, created_at, payload)"
                    " VALUES (:type, :resource, 1, :sequence, :at, '{}')"
                ),
                {"type": type_, "resource": resource, "sequence": sequence, "at": AT},
            )
        c.commit()
        assert c.execute(text(line)).one() == (3, 1)
    engine.dispose()
    command.downgrade(alembic_config(url), BEFORE)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT type FROM events ORDER BY id")).scalars().all() == ["order.placed"]
        assert c.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar_one() == 1
        assert c.execute(text("SELECT kind, delta, reason FROM stock_movements")).all() == [
            ("adjustment", 1, "return")
        ]
        columns = c.execute(text("SELECT * FROM order_lines")).keys()
        assert "quantity_shipped" not in columns and "quantity_returned" not in columns
    engine.dispose()


def test_sqlite_upgrade_of_an_existing_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    _check(url)
    assert integrity_check(url) == "ok"


@pytest.mark.postgres
def test_postgres_upgrade_of_an_existing_database(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    _check(empty_database(postgres_server, postgres_url, "shop_line_quantities_migration"))
