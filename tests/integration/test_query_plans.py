"""Every list shape the API offers is served by an index on PostgreSQL: with sequential scans and sorts
priced out, the plan of each statement a list sends holds neither, so no list reads or sorts a whole table
(and the pages after a cursor start with an index seek)."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from adapters.sql.engine import make_sync_engine
from adapters.sql.unit_of_work import sync_unit_of_work
from application.categories import CreateCategory, create_category
from application.lists import (
    CategoryFilter,
    MovementFilter,
    OrderFilter,
    ProductFilter,
    ProductSort,
    UserFilter,
    Window,
)
from application.paging import PRODUCTS
from application.ports import UnitOfWork
from domain.orders import OrderStatus
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, customer, product

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(clean_postgres: str) -> Iterator[Engine]:
    engine = make_sync_engine(clean_postgres)
    yield engine
    engine.dispose()


# Tables of totals kept by triggers: ~100 rows whatever the history, read whole.
KEPT_TOTALS = {"order_totals", "category_product_counts", "category_stats"}


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def plans(engine: Engine, read: Callable[[UnitOfWork], Any]) -> list[list[dict[str, Any]]]:
    """The plan nodes of every statement `read` sends, planned with seq scans and sorts priced out."""
    with captured(engine) as sent, sync_unit_of_work(engine, present) as uow:
        read(uow)
    result = []
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_sort = off")
        for statement, parameters in sent:
            explained = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {statement}", parameters
            ).scalar_one()
            plan = explained if isinstance(explained, list) else json.loads(explained)
            result.append(list(nodes(plan[0]["Plan"])))
    return result


def assert_indexed(engine: Engine, read: Callable[[UnitOfWork], Any]) -> list[list[dict[str, Any]]]:
    found = plans(engine, read)
    assert found
    for plan in found:
        steps = [(n["Node Type"], n.get("Relation Name")) for n in plan]
        assert not any("Sort" in kind for kind, _ in steps), steps
        assert not any(kind == "Seq Scan" and table not in KEPT_TOTALS for kind, table in steps), steps
    return found


@pytest.fixture
def shop(engine: Engine):
    boss = admin(engine)
    ann = customer(engine, "ann@shop.test")
    items = [product(engine, boss, f"P-{i}", stock=100) for i in range(3)]
    return boss, ann, items


@pytest.mark.parametrize("sort", list(ProductSort))
@pytest.mark.parametrize("by_category", [False, True])
def test_every_product_sort_is_served_by_an_index(
    engine: Engine, shop, sort: ProductSort, by_category: bool
) -> None:
    _, _, items = shop
    filters = ProductFilter(sort=sort, category_id=1 if by_category else None)
    first = assert_indexed(engine, lambda uow: uow.products.list(filters, Window(2)))
    position = PRODUCTS[sort].key(items[0])
    after = assert_indexed(engine, lambda uow: uow.products.list(filters, Window(2, after=position)))
    assert len(first) == len(after) == 2  # the total, the page


def test_search_is_served_by_the_trigram_indexes(engine: Engine, shop) -> None:
    with engine.begin() as connection:  # enough rows for the planner to tell a selective index from a scan
        connection.exec_driver_sql(
            "INSERT INTO products (name, slug, sku, description, price, stock_quantity, is_active,"
            " version, created_at, updated_at) SELECT 'Item ' || i, 'item-' || i, 'S-' || i, 'Text ' || i,"
            " 1, 1, true, 1, now(), now() FROM generate_series(1, 5000) AS i"
        )

    with engine.connect() as connection:  # as autovacuum would: statistics, and the GIN pending list merged
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE products")
    trigrams = {"ix_products_name_trgm", "ix_products_sku_trgm", "ix_products_description_trgm"}
    for plan in plans(engine, lambda uow: uow.products.list(ProductFilter(q="4711"), Window(20))):
        # The count and the page alike start from the trigram indexes, whatever the page's order: with a
        # walk of the catalog in that order priced as low as any plan, the page still takes its matches
        # first (which a prepared statement's generic plan would not), then sorts those few.
        assert trigrams <= {n.get("Index Name") for n in plan}
        assert not any(n["Node Type"] == "Seq Scan" or n.get("Index Name") == "pk_products" for n in plan)


@pytest.mark.parametrize(
    "filters",
    [OrderFilter(), OrderFilter(status=OrderStatus.PENDING), OrderFilter(user_id=2)],
    ids=["everyone", "status", "customer"],
)
def test_order_lists_are_served_by_indexes(engine: Engine, shop, filters: OrderFilter) -> None:
    assert_indexed(engine, lambda uow: uow.orders.list(filters, Window(20)))
    position = (datetime(2026, 11, 22, tzinfo=UTC), 10)
    assert_indexed(engine, lambda uow: uow.orders.list(filters, Window(20, after=position)))


def test_stats_users_and_categories_are_served_by_indexes(engine: Engine, shop) -> None:
    assert_indexed(engine, lambda uow: uow.orders.stats())
    assert_indexed(engine, lambda uow: uow.users.list(UserFilter(), Window(20, after=(1,))))
    assert_indexed(engine, lambda uow: uow.categories.list(Window(20, after=("B", 1))))


def test_the_low_stock_list_and_the_ledger_are_served_by_indexes(engine: Engine, shop) -> None:
    with engine.begin() as connection:  # many products, a few of them with a threshold
        connection.exec_driver_sql(
            "INSERT INTO products (name, slug, sku, price, stock_quantity, is_active, low_stock_threshold,"
            " version, created_at, updated_at) SELECT 'Item ' || i, 'item-' || i, 'S-' || i, 1, mod(i, 7),"
            " true, CASE WHEN mod(i, 1000) = 0 THEN 3 END, 1, now(), now() FROM generate_series(1, 5000) AS i"
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE products")
    low = ProductFilter(low_stock=True)
    for plan in assert_indexed(engine, lambda uow: uow.products.list(low, Window(20))):
        assert {n.get("Index Name") for n in plan} & {"ix_products_low_stock"}, plan
    _, _, items = shop
    since = datetime(2026, 11, 22, tzinfo=UTC)
    movements = assert_indexed(
        engine,
        lambda uow: uow.products.movements(items[0].id, MovementFilter(created_from=since), Window(20)),
    )
    assert all("ix_stock_movements_product_created_id" in {n.get("Index Name") for n in p} for p in movements)


def test_the_sku_lookup_the_tree_and_category_statistics_are_served_by_indexes(engine: Engine, shop) -> None:
    boss, _, _ = shop
    home = create_category(
        CreateCategory("Home"), uow=sync_unit_of_work(engine, present), actor=boss, clock=clock
    )
    garden = CreateCategory("Garden", parent_id=home.category.id)
    child = create_category(garden, uow=sync_unit_of_work(engine, present), actor=boss, clock=clock)
    for i in range(3):
        product(engine, boss, f"G-{i}", stock=i, price=f"{i + 1}.00", category_id=child.category.id)
    with engine.begin() as connection:  # enough rows for the planner to prefer a selective index
        connection.exec_driver_sql(
            "INSERT INTO products (name, slug, sku, price, stock_quantity, is_active, version, created_at,"
            " updated_at) SELECT 'Item ' || i, 'item-' || i, 'S-' || i, 1, 1, true, 1, now(), now()"
            " FROM generate_series(1, 5000) AS i"
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE products")
    count, _ = assert_indexed(engine, lambda uow: uow.products.list(ProductFilter(sku="s-42"), Window(20)))
    # The count finds the one row by the unique index on the stored (upper-case) SKU. (The page, with
    # sorts priced out here, walks the primary key in the list's order instead; priced as they are, it
    # takes the same index and sorts its one row.)
    used = {n.get("Index Name") for n in count} - {None}
    assert used and all("sku" in name and "trgm" not in name for name in used), count
    ids = [home.category.id, child.category.id]
    assert_indexed(engine, lambda uow: uow.categories.children(ids[0]))
    assert_indexed(engine, lambda uow: uow.categories.ancestors(ids[1]))
    assert_indexed(engine, lambda uow: uow.categories.get_many(ids))
    assert_indexed(engine, lambda uow: uow.categories.list(Window(20), CategoryFilter(ids[0])))
    for include_descendants in (False, True):
        (plan,) = assert_indexed(engine, lambda uow, d=include_descendants: uow.categories.stats(ids, d))
        # min and max price: index probes, not a read of the category's products
        assert "ix_products_category_active_price" in {n.get("Index Name") for n in plan}, plan


def test_bulk_deactivation_by_time_is_served_by_its_index(engine: Engine, shop) -> None:
    with engine.begin() as connection:  # many customers, seen at many times, some never
        connection.exec_driver_sql(
            "INSERT INTO users (email, name, password_hash, is_active, is_admin, credentials_version,"
            " created_at, updated_at, last_login_at) SELECT 'u' || i || '@x.test', 'U', 'h', true, false, 1,"
            " now() - interval '400 days', now(), CASE WHEN mod(i, 10) = 0 THEN NULL"
            " ELSE now() - (i || ' minutes')::interval END FROM generate_series(1, 5000) AS i"
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE users")
    cutoff = datetime.now(UTC) - timedelta(days=300)
    for plan in assert_indexed(engine, lambda uow: uow.users.customers_not_seen_since(cutoff, 1000)):
        assert "ix_users_active_last_login_created" in {n.get("Index Name") for n in plan}, plan
