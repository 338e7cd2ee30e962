"""Placing an order as the API does (`place_order_as_caller`): on PostgreSQL two round trips, one write each,
below SQLAlchemy's execution layer (adapters/sql/hot_path.py, placement.py); on SQLite the portable path.
The same rows either way."""

import asyncio

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import Engine, bindparam, select, text

from adapters.sql.engine import EngineOptions, make_async_engine, make_sync_engine
from adapters.sql.hot_path import Failed, HotPath, _error_class, compiled
from adapters.sql.placement import PORTABLE_ONLY
from adapters.sql.tables import events, order_events, order_lines, orders, products, stock_movements
from adapters.sql.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkRunner, sync_unit_of_work
from application.orders import OrderItem, PlaceOrder, get_order, place_order_as_caller
from application.ports import TokenClaims
from domain.errors import InsufficientStock
from domain.stock import MovementKind, StockMovement
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, count_statements, customer, product


@pytest.fixture
def shop(engine: Engine):
    boss = admin(engine)
    ann = customer(engine, "ann@shop.test")
    items = [product(engine, boss, f"P-{i}", stock=10).id for i in range(4)]
    return engine, ann, items


def place(engine: Engine, user_id: int, *lines: tuple[int, int], uow: SqlUnitOfWork | None = None):
    cmd = PlaceOrder(tuple(OrderItem(p, q) for p, q in lines))
    unit = uow or sync_unit_of_work(engine, present)
    return place_order_as_caller(unit, cmd, TokenClaims(user_id, 1), clock=clock), unit


def stock(engine: Engine, product_id: int) -> int:
    with engine.connect() as c:
        return c.execute(select(products.c.stock_quantity).where(products.c.id == product_id)).scalar_one()


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            t.name: c.execute(select(text("count(*)")).select_from(t)).scalar_one()
            for t in (orders, order_lines, order_events, stock_movements, events)
        }


@pytest.mark.parametrize("lines", [2, 4])
def test_an_order_is_two_round_trips_of_one_write_each_on_postgres(shop, lines: int) -> None:
    engine, ann, items = shop
    with count_statements(engine) as counter:
        order, uow = place(engine, ann.id, *((items[i], 1) for i in range(lines)))
    if engine.dialect.name == "postgresql":
        assert counter.count == 0, counter.statements  # nothing through SQLAlchemy's execution layer
        assert uow.tx.hot is not None
        assert (uow.tx.hot.round_trips, uow.tx.hot.writes) == (2, 2)
    else:  # the portable path, as test_statement_counts pins it
        assert counter.count == 8 + lines and uow.tx.hot is None
    assert uow.tx.committed


def test_the_hot_path_stores_what_the_portable_path_stores(shop) -> None:
    engine, ann, items = shop
    order, _ = place(engine, ann.id, (items[1], 2), (items[0], 3))
    stored = get_order(order.id, uow=sync_unit_of_work(engine, present), actor=ann)
    assert [(line.id, line.product_id, line.quantity) for line in stored.lines] == [
        (line.id, line.product_id, line.quantity) for line in order.lines
    ]
    assert stored.total_amount == order.total_amount and stored.version == 1
    assert [stock(engine, items[0]), stock(engine, items[1])] == [7, 8]
    with engine.connect() as c:
        ledger = c.execute(
            select(stock_movements.c.product_id, stock_movements.c.delta, stock_movements.c.kind)
            .where(stock_movements.c.order_id == order.id)
            .order_by(stock_movements.c.product_id)
        ).all()
        placed = c.execute(select(events).where(events.c.type == "order.placed")).one()
        history = c.execute(select(order_events).where(order_events.c.order_id == order.id)).all()
    assert ledger == [(items[0], -3, MovementKind.ORDER.value), (items[1], -2, MovementKind.ORDER.value)]
    assert placed.resource_id == order.id and placed.sequence == 1
    assert placed.payload == present(stored)  # the reserved ids, as stored
    assert [h.to_status for h in history] == ["pending"]


def test_a_refused_order_changes_nothing_and_the_next_one_runs(shop) -> None:
    engine, ann, items = shop
    before = counts(engine)
    with pytest.raises(InsufficientStock) as refused:
        place(engine, ann.id, (items[0], 1), (items[1], 11))
    assert (refused.value.product_id, refused.value.available) == (items[1], 10)
    assert counts(engine) == before and stock(engine, items[0]) == 10
    order, _ = place(engine, ann.id, (items[0], 1), (items[1], 10))
    assert order.id is not None and stock(engine, items[1]) == 0


def test_the_check_constraint_takes_the_stock_guard_s_place(shop) -> None:
    """The write half's UPDATE has no guard (its result comes back with the COMMIT): a move the locked rows
    do not cover fails on `stock_non_negative`, and the unit answers as the guard did."""
    engine, ann, items = shop
    before = counts(engine)
    uow = sync_unit_of_work(engine, present)
    with uow, pytest.raises(InsufficientStock) as refused:
        uow.orders.expect_placement([items[0]])
        uow.users.get(ann.id)
        uow.products.get_many([items[0]], for_update=True)
        at = clock.now()
        uow.products.move_stock([StockMovement(items[0], -11, 0, MovementKind.ORDER, at, ann.id)])
        uow.commit()
    assert (refused.value.product_id, refused.value.available) == (items[0], 10)
    assert counts(engine) == before and stock(engine, items[0]) == 10


@pytest.mark.postgres
def test_prepared_statements_dropped_behind_its_back_are_prepared_again(clean_postgres: str) -> None:
    """psycopg deallocates every prepared statement of a connection when it rolls back one of its own."""
    engine = make_sync_engine(clean_postgres)
    try:
        boss, ann = admin(engine), customer(engine, "ann@shop.test")
        items = [product(engine, boss, f"P-{i}", stock=10).id for i in range(2)]
        with engine.connect() as connection:
            for _ in range(3):
                place(engine, ann.id, (items[0], 1), (items[1], 1), uow=SqlUnitOfWork.on(connection, present))
                held = connection.exec_driver_sql("SELECT name FROM pg_prepared_statements").scalars().all()
                assert any(name.startswith("shop_hot_") for name in held)
                connection.exec_driver_sql("DEALLOCATE ALL")
                connection.commit()  # ends SQLAlchemy's autobegun transaction, as a Unit of Work does
        assert stock(engine, items[0]) == 7
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_without_prepared_statements_nothing_is_prepared(clean_postgres: str) -> None:
    """`SHOP_DB_PREPARED_STATEMENTS=false` (PgBouncer in transaction mode): unnamed statements only."""
    engine = make_sync_engine(clean_postgres, EngineOptions(prepared_statements=False))
    try:
        boss, ann = admin(engine), customer(engine, "ann@shop.test")
        items = [product(engine, boss, f"P-{i}", stock=10).id for i in range(2)]
        with engine.connect() as connection:
            for _ in range(6):
                place(engine, ann.id, (items[0], 1), (items[1], 1), uow=SqlUnitOfWork.on(connection, present))
            held = connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar_one()
            connection.commit()
        assert held == 0 and stock(engine, items[1]) == 4
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_async_runner_places_orders_concurrently_without_overselling(clean_postgres: str) -> None:
    """The path `shop serve` takes: psycopg's async connection, waited on from SQLAlchemy's greenlet."""
    sync = make_sync_engine(clean_postgres)
    boss, ann = admin(sync), customer(sync, "ann@shop.test")
    items = [product(sync, boss, f"P-{i}", stock=5).id for i in range(2)]

    async def many() -> list[object]:
        engine = make_async_engine(clean_postgres, instrumented=False)
        runner = SqlUnitOfWorkRunner(engine, present)
        cmd = PlaceOrder((OrderItem(items[0], 1), OrderItem(items[1], 1)))
        try:
            return await asyncio.gather(
                *(
                    runner.run(place_order_as_caller, cmd, TokenClaims(ann.id, 1), clock=clock)
                    for _ in range(8)
                ),
                return_exceptions=True,
            )
        finally:
            await engine.dispose()

    try:
        results = asyncio.run(many())
        placed = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, InsufficientStock)]
        assert (len(placed), len(refused)) == (5, 3), results
        assert stock(sync, items[0]) == stock(sync, items[1]) == 0
        assert counts(sync)["orders"] == 5 and counts(sync)["events"] == 5 + 2 + 2  # users, products
    finally:
        sync.dispose()


def test_the_hot_statements_are_compiled_once(shop) -> None:
    engine, ann, items = shop
    place(engine, ann.id, (items[0], 1), (items[1], 1))
    shapes = compiled.cache_info().currsize
    for _ in range(3):
        place(engine, ann.id, (items[0], 1), (items[1], 1))
    assert compiled.cache_info().currsize == shapes


@pytest.mark.postgres
def test_an_engine_marked_portable_only_keeps_the_portable_path(clean_postgres: str) -> None:
    """Tracing marks its engine so: the hot path runs below the SQL events its spans come from."""
    engine = make_sync_engine(clean_postgres).execution_options(**{PORTABLE_ONLY: True})
    try:
        boss, ann = admin(engine), customer(engine, "ann@shop.test")
        items = [product(engine, boss, f"P-{i}", stock=10).id for i in range(2)]
        with count_statements(engine) as counter:
            _, uow = place(engine, ann.id, (items[0], 1), (items[1], 1))
        assert uow.tx.hot is None and counter.count == 5, counter.statements
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_after_a_dropped_statement_those_prepared_in_the_same_exchange_are_not_prepared_twice(
    clean_postgres: str,
) -> None:
    """A statement prepared in the exchange that then fails on one dropped behind its back still exists on
    the server: the retry must not prepare it again (42P05, "already exists")."""
    engine = make_sync_engine(clean_postgres)
    by_id = {"id": 1}
    known = select(products.c.id).where(products.c.id == bindparam("id"))
    new = select(orders.c.id).where(orders.c.id == bindparam("id"))
    try:
        with engine.connect() as connection:
            hot = HotPath(connection)
            assert hot.exchange([(known, by_id)]) == [[]]
            connection.exec_driver_sql(f"DEALLOCATE {compiled(known, connection.dialect).name.decode()}")
            with pytest.raises(Failed) as dropped:
                hot.exchange([(new, by_id), (known, by_id)])
            assert dropped.value.sqlstate == "26000"
            hot.exchange([], before=b"ROLLBACK")  # as the runner does, not through psycopg
            assert hot.exchange([(new, by_id), (known, by_id)]) == [[], []]  # prepares `known` only
            held = connection.exec_driver_sql("SELECT name FROM pg_prepared_statements").scalars().all()
            assert sorted(held) == sorted(compiled(s, connection.dialect).name.decode() for s in (new, known))
    finally:
        engine.dispose()


def test_an_sqlstate_psycopg_does_not_know_is_a_database_error() -> None:
    assert _error_class("P0001") is errors.RaiseException
    assert _error_class("ZZ999") is psycopg.DatabaseError  # a trigger's own code: no KeyError
    assert _error_class(None) is psycopg.DatabaseError
