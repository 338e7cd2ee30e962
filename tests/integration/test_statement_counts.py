"""The hot paths take a fixed number of statements whatever the page size: no N+1.

Each path runs as the API runs it: the caller is identified in the same unit of work (`as_caller`). Reads
open no transaction (no BEGIN, no COMMIT); a write opens one at its first write or lock."""

import pytest
from sqlalchemy import Engine

from adapters.sql.unit_of_work import sync_unit_of_work
from application.auth import as_caller
from application.lists import OrderFilter, ProductFilter, ProductSort, Window
from application.orders import OrderItem, PlaceOrder, get_order, list_orders, place_order
from application.ports import TokenClaims
from application.products import list_products
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, count_statements, customer, product


@pytest.fixture
def seeded(engine: Engine):
    boss = admin(engine)
    ann = customer(engine, "ann@shop.test")
    items = [product(engine, boss, f"P-{i}", stock=100) for i in range(4)]
    orders = [
        place_order(
            PlaceOrder((OrderItem(items[i % 4].id, 1), OrderItem(items[(i + 1) % 4].id, 2))),
            uow=sync_unit_of_work(engine, present),
            actor=ann,
            clock=clock,
        )
        for i in range(25)
    ]
    return engine, ann, items, orders


def as_request(engine: Engine, user_id: int | None, work):
    return as_caller(
        sync_unit_of_work(engine, present), None if user_id is None else TokenClaims(user_id, 1), work
    )


@pytest.mark.parametrize("page_size", [1, 5, 25])
def test_order_list_is_four_statements(seeded, page_size: int) -> None:
    engine, ann, _, _ = seeded
    with count_statements(engine) as counter:
        page = as_request(
            engine,
            ann.id,
            lambda uow, actor: list_orders(OrderFilter(), Window(page_size, 0), uow=uow, actor=actor),
        )
    assert len(page.items) == page_size and all(len(o.lines) == 2 for o in page.items)
    assert counter.count == 4, counter.statements  # caller, count, page, lines of the page
    assert not counter.opened_a_transaction


@pytest.mark.parametrize("page_size", [1, 4])
def test_anonymous_product_list_is_two_statements(seeded, page_size: int) -> None:
    engine, _, _, _ = seeded
    with count_statements(engine) as counter:
        page = as_request(
            engine,
            None,
            lambda uow, actor: list_products(
                ProductFilter(sort=ProductSort.PRICE), Window(page_size), uow=uow, actor=actor
            ),
        )
    assert len(page.items) == page_size
    assert counter.count == 2, counter.statements  # count, page
    assert not counter.opened_a_transaction


def test_order_detail_is_three_statements(seeded) -> None:
    engine, ann, _, orders = seeded
    with count_statements(engine) as counter:
        order = as_request(engine, ann.id, lambda uow, actor: get_order(orders[0].id, uow=uow, actor=actor))
    assert len(order.lines) == 2
    assert counter.count == 3, counter.statements  # caller, order, its lines
    assert not counter.opened_a_transaction


@pytest.mark.parametrize("lines", [2, 4])
def test_placing_an_order_is_a_fixed_number_of_statements_whatever_its_lines(seeded, lines: int) -> None:
    engine, ann, items, _ = seeded
    cmd = PlaceOrder(tuple(OrderItem(items[i].id, 1) for i in range(lines)))
    with count_statements(engine) as counter:
        as_request(engine, ann.id, lambda uow, actor: place_order(cmd, uow=uow, actor=actor, clock=clock))
    # caller (also the buyer), BEGIN, products locked, then the order, its lines and its event: one
    # statement on PostgreSQL; on SQLite three inserts, the driver sending one per line. Then the stock update
    # for all lines with their ledger movements and the order.placed event (the outbox): one statement on
    # PostgreSQL; on SQLite two, and the event's own insert. Then COMMIT.
    expected = 5 if engine.dialect.name == "postgresql" else 8 + lines
    assert counter.count == expected, counter.statements
    assert counter.statements[1].startswith("BEGIN"), "the caller is read before the transaction opens"


def test_the_hot_paths_are_compiled_once_then_served_from_the_cache(seeded) -> None:
    """Compiling a statement costs more CPU than PostgreSQL spends running it (~2 ms for the order insert):
    a construct SQLAlchemy cannot cache (a VALUES clause, say) would compile on every request."""
    engine, ann, items, orders = seeded
    cmd = PlaceOrder((OrderItem(items[0].id, 1), OrderItem(items[1].id, 1)))
    paths = [
        (ann.id, lambda uow, actor: place_order(cmd, uow=uow, actor=actor, clock=clock)),
        (
            None,
            lambda uow, actor: list_products(
                ProductFilter(sort=ProductSort.PRICE), Window(5), uow=uow, actor=actor
            ),
        ),
        (ann.id, lambda uow, actor: get_order(orders[0].id, uow=uow, actor=actor)),
    ]
    for user_id, work in paths:
        runs = []
        for _ in range(2):
            with count_statements(engine) as counter:
                as_request(engine, user_id, work)
            runs.append([c for c in counter.compiled if c is not None])
        assert len(runs[1]) >= 2 and all(a is b for a, b in zip(*runs, strict=True)), counter.statements
