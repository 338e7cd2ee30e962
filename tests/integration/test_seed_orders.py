"""`shop seed-demo --orders`: order history made inside PostgreSQL is consistent with what the service
itself would have written, chunk after chunk, and leaves the service placing orders after it."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from adapters.sql import seed_orders
from adapters.sql.engine import make_sync_engine
from adapters.sql.seed import seed_demo
from adapters.sql.unit_of_work import sync_unit_of_work
from application.products import check_stock
from entrypoints.api.event_schemas import present
from entrypoints.cli import app


@pytest.fixture
def engine(clean_postgres: str) -> Iterator[Engine]:
    engine = make_sync_engine(clean_postgres)
    yield engine
    engine.dispose()


def _one(engine: Engine, sql: str) -> object:
    with engine.connect() as c:
        return c.execute(text(sql)).one()


@pytest.mark.postgres
def test_order_history_is_consistent_across_chunks(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed_orders, "CHUNK", 4)  # several chunks, the last one partial
    seed_demo(engine, users_count=3, products_count=5, password_hash="x")
    seeded: list[int] = []
    seed_orders.seed_demo_orders(engine, orders_count=10, progress=lambda table, n: seeded.append(n))
    seed_orders.seed_demo_orders(engine, orders_count=3)  # numbered on after the first history

    assert seeded == [4, 4, 2]
    assert _one(engine, "SELECT count(*), min(id), max(id), count(DISTINCT order_number) FROM orders") == (
        13, 1, 13, 13,
    )  # fmt: skip
    # Two lines of two different demo products, and the order's total is their sum.
    assert _one(
        engine,
        "SELECT count(*) FROM orders o WHERE o.total_amount <> (SELECT sum(line_total) FROM order_lines"
        " WHERE order_id = o.id) OR (SELECT count(DISTINCT product_id) FROM order_lines"
        " WHERE order_id = o.id) <> 2",
    ) == (0,)
    assert _one(
        engine,
        "SELECT count(*) FROM order_lines l LEFT JOIN products p ON p.id = l.product_id WHERE p.id IS NULL",
    ) == (0,)
    # One creation event per order, by its buyer, at its creation.
    assert _one(
        engine,
        "SELECT count(*), count(*) FILTER (WHERE e.actor_id = o.user_id AND e.at = o.created_at"
        " AND e.to_status = 'pending') FROM order_status_events e JOIN orders o ON o.id = e.order_id",
    ) == (13, 13)
    # The kept totals counted every chunk.
    assert _one(
        engine,
        "SELECT (SELECT sum(orders) FROM order_totals), (SELECT sum(revenue_cents) FROM order_totals),"
        " (SELECT count(*) FROM orders), (SELECT CAST(sum(total_amount) * 100 AS bigint) FROM orders)",
    ) == (13, 26_000, 13, 26_000)
    # And the sales totals per time bucket, customer and customer-day (migration 0007's triggers).
    assert _one(
        engine,
        "SELECT (SELECT sum(pending + confirmed + processing + shipped + delivered + cancelled)"
        " FROM order_sales WHERE span = 86400),"
        " (SELECT sum(revenue_cents) FROM order_sales WHERE span = 900),"
        " (SELECT sum(revenue_cents) FROM user_sales), (SELECT sum(orders) FROM user_day_sales),"
        " (SELECT CAST(sum(total_amount) * 100 AS bigint) FROM orders WHERE status <> 'cancelled')",
    ) == (13, 24_000, 24_000, 12, 24_000)
    # Live orders took their units, with their movements: the ledger reconciles with stock and orders.
    assert _one(
        engine,
        "SELECT (SELECT 5 * 1000000 - sum(stock_quantity) FROM products),"
        " (SELECT sum(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id"
        " WHERE o.status <> 'cancelled'), (SELECT count(*) FROM stock_movements WHERE kind = 'order')",
    ) == (24, 24, 24)  # 13 orders, one of them cancelled: 12 live with 2 units each
    assert check_stock(uow=sync_unit_of_work(engine, present)) == []
    # Shipped and delivered orders shipped every unit, in one fulfilment each, as migration 0015 gives them.
    assert _one(
        engine,
        "SELECT (SELECT count(*) FROM orders WHERE status IN ('shipped', 'delivered')),"
        " (SELECT count(*) FROM fulfillments),"
        " (SELECT count(*) FROM fulfillment_lines fl JOIN order_lines l ON l.id = fl.order_line_id"
        " WHERE fl.quantity = l.quantity AND l.quantity_shipped = l.quantity),"
        " (SELECT sum(quantity_shipped) FROM order_lines)",
    ) == (9, 9, 18, 18)  # by the mix, orders 1-5 and 10-13 of the 13
    # The next order the service places continues after the generated ids.
    assert _one(engine, "SELECT nextval(pg_get_serial_sequence('orders', 'id'))") == (14,)


@pytest.mark.postgres
def test_order_history_needs_demo_users_and_products(engine: Engine) -> None:
    with pytest.raises(ValueError, match="demo users"):
        seed_orders.seed_demo_orders(engine, orders_count=1)
    assert _one(engine, "SELECT count(*) FROM orders") == (0,)


def test_order_history_is_refused_on_sqlite(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    result = runner.invoke(app, ["seed-demo", "--users", "2", "--products", "2", "--orders", "5"])
    assert result.exit_code != 0 and "--orders needs PostgreSQL" in result.output
    engine = make_sync_engine(url)
    assert _one(engine, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM orders)") == (0, 0)
    engine.dispose()
