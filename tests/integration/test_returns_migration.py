"""Migration 0016 on a database that already has an order, its line and a ledger movement: the movement
names no return, the new tables take a return, its line and a refund, their CHECKs and unique indexes and
the ledger's new foreign key refuse what they must; the downgrade keeps the ledger (its movements no longer
name their return) and drops the rest. No copy of stock_movements: its row ids survive."""

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config, migrate
from tests.integration.test_line_quantities_migration import _seed_lines
from tests.integration.test_migration_sql import empty_database
from tests.support.postgres import ThrowawayPostgres

BEFORE = "0015_fulfillments"
AT = datetime(2026, 11, 1, tzinfo=UTC)


def _seed(url: str) -> None:
    _seed_lines(url)  # users, a product, order 1 with line 1 of 3 units
    engine = make_sync_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE order_lines SET quantity_shipped = quantity"))
        c.execute(
            text(
                "INSERT INTO stock_movements (id, product_id, delta, quantity, kind, order_id, created_at)"
                " VALUES (41, 1, -3, 2, 'order', 1, :at)"
            ),
            {"at": AT},
        )
    engine.dispose()


def _refused(c: Connection, statement: str, constraint: str) -> None:
    with pytest.raises(Exception, match=constraint):
        c.execute(text(statement), {"at": AT})
    c.rollback()


RETURN = (
    "INSERT INTO returns (id, order_id, status, refund_extra_cents, refunded_cents, requested_by, version,"
    " created_at, updated_at) VALUES ({id}, 1, '{status}', 0, 0, 1, 1, :at, :at)"
)
REFUND = (
    "INSERT INTO order_refunds (order_id, return_id, amount_cents, reason, reference, actor_id, at)"
    " VALUES (1, {return_id}, {cents}, 'r', '{reference}', 1, :at)"
)


def _check(url: str) -> None:
    migrate(url, BEFORE)
    _seed(url)
    migrate(url)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT id, return_id FROM stock_movements")).all() == [(41, None)]
        _refused(c, RETURN.format(id=1, status="lost"), "ck_returns_status_known")
        c.execute(text(RETURN.format(id=1, status="accepted")), {"at": AT})
        line = (
            "INSERT INTO return_lines (return_id, order_line_id, product_id, quantity, unit_price, restock)"
            " VALUES (1, 1, 1, {quantity}, 10.00, true)"
        )
        c.commit()
        _refused(c, line.format(quantity=0), "ck_return_lines_quantity_positive")
        c.execute(text(line.format(quantity=2)))
        c.execute(
            text(
                "INSERT INTO stock_movements (product_id, delta, quantity, kind, order_id, return_id,"
                " created_at) VALUES (1, 2, 4, 'return', 1, 1, :at)"
            ),
            {"at": AT},
        )
        c.execute(text(REFUND.format(return_id=1, cents=2000, reference="re_1")), {"at": AT})
        c.commit()
        _refused(
            c,
            REFUND.format(return_id="NULL", cents=100, reference="re_1"),
            "uq_order_refunds_order_reference|order_refunds.order_id, order_refunds.reference",
        )
        _refused(
            c,
            REFUND.format(return_id=1, cents=100, reference="re_2"),
            "uq_order_refunds_return_id|order_refunds.return_id",
        )
        _refused(
            c, REFUND.format(return_id="NULL", cents=0, reference="re_3"), "ck_order_refunds_amount_positive"
        )
        _refused(
            c,
            "INSERT INTO stock_movements (product_id, delta, quantity, kind, return_id, created_at)"
            " VALUES (1, 1, 5, 'return', 99, :at)",
            "FOREIGN KEY|fk_stock_movements_return_id_returns",
        )
        assert c.execute(text("SELECT return_id FROM stock_movements WHERE id = 41")).one() == (None,)
    engine.dispose()
    command.downgrade(alembic_config(url), BEFORE)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT kind, delta FROM stock_movements ORDER BY kind")).all() == [
            ("order", -3),
            ("return", 2),
        ]
        assert "return_id" not in c.execute(text("SELECT * FROM stock_movements")).keys()  # noqa: SIM118
        tables = "SELECT count(*) FROM {}"
        for gone in ("returns", "return_lines", "order_refunds"):
            _refused(c, tables.format(gone), gone)
    engine.dispose()
    migrate(url)  # and up again


def test_sqlite_upgrade_of_an_existing_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    _check(url)
    engine = make_sync_engine(url)
    with engine.connect() as c:
        assert c.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert c.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_of_an_existing_database(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    _check(empty_database(postgres_server, postgres_url, "shop_returns_migration"))
