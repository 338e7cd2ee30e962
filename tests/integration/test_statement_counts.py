"""The hot paths take a fixed number of statements whatever the page size: no N+1.

Each path runs as the API runs it: the caller is identified in the same unit of work (`as_caller`). Reads
open no transaction (no BEGIN, no COMMIT); a write opens one at its first write or lock."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from adapters.sql.unit_of_work import sync_unit_of_work
from application.addresses import NewAddress, add_address
from application.auth import _close_login, as_caller
from application.categories import (
    CreateCategory,
    category_stats,
    create_category,
    get_category,
    list_category_stats,
)
from application.fulfillments import CreateFulfillment, create_fulfillment, list_fulfillments
from application.lists import EventFilter, OrderFilter, ProductFilter, ProductSort, Window
from application.orders import (
    OrderItem,
    PlaceOrder,
    change_order_status,
    change_shipping_address,
    get_order,
    list_orders,
    place_order,
)
from application.payments import RecordPayment, capture_payment, list_payments, record_payment
from application.ports import TokenClaims
from application.products import Expand, get_product_expanded, list_products, list_products_expanded
from application.refunds import list_refunds
from application.returns import CreateReturn, create_return, list_returns
from application.throttling import Limits, Rate, login_buckets
from application.users import Deactivation, deactivate_customers, user_stats
from domain.addresses import Address
from domain.events import ResourceType
from domain.fulfillments import Tracking
from domain.orders import FulfillmentStatus, OrderStatus, ReturnStatus
from domain.payments import USD, PaymentAction, PaymentStatus
from domain.returns import ReturnItem
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, count_statements, customer, product
from tests.support.shipping import ship_all


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


HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE", phone="+4930901820")


@pytest.mark.parametrize("lines", [2, 4])
def test_an_inline_address_adds_no_statement_and_a_book_entry_one_read(seeded, lines: int) -> None:
    """Addresses ride in the order's own INSERT; an entry of the buyer's book is one read, before BEGIN."""
    engine, ann, items, _ = seeded
    plain = PlaceOrder(tuple(OrderItem(items[i].id, 1) for i in range(lines)))
    inline = replace(plain, shipping_address=HOME, billing_address=replace(HOME, city="Potsdam"))
    counts = []
    for cmd in (plain, inline):
        with count_statements(engine) as counter:
            placed = as_request(
                engine,
                ann.id,
                lambda uow, actor, cmd=cmd: place_order(cmd, uow=uow, actor=actor, clock=clock),
            )
        counts.append(counter.count)
    assert counts[0] == counts[1] == (5 if engine.dialect.name == "postgresql" else 8 + lines)
    assert placed.shipping_address == HOME
    entry = add_address(
        None, NewAddress(HOME), uow=sync_unit_of_work(engine, present), actor=ann, clock=clock
    )
    from_book = replace(plain, shipping_address=entry.id)
    with count_statements(engine) as counter:
        as_request(
            engine, ann.id, lambda uow, actor: place_order(from_book, uow=uow, actor=actor, clock=clock)
        )
    assert counter.count == counts[0] + 1, counter.statements
    assert "addresses" in counter.statements[1] and counter.statements[2].startswith("BEGIN")


def test_the_hot_paths_are_compiled_once_then_served_from_the_cache(seeded) -> None:
    """Compiling a statement costs more CPU than PostgreSQL spends running it (~2 ms for the order insert):
    a construct SQLAlchemy cannot cache (a VALUES clause, say) would compile on every request."""
    engine, ann, items, orders = seeded
    cmd = PlaceOrder((OrderItem(items[0].id, 1), OrderItem(items[1].id, 1)))
    with_address = replace(cmd, shipping_address=HOME)
    paths = [
        (ann.id, lambda uow, actor: place_order(cmd, uow=uow, actor=actor, clock=clock)),
        (ann.id, lambda uow, actor: place_order(with_address, uow=uow, actor=actor, clock=clock)),
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


@pytest.fixture
def catalog(seeded):
    engine, ann, items, _ = seeded
    boss = as_request(engine, None, lambda uow, actor: uow.users.get_by_email("admin@shop.test"))
    uow = lambda: sync_unit_of_work(engine, present)  # noqa: E731
    home = create_category(CreateCategory("Home"), uow=uow(), actor=boss, clock=clock).category
    made = [
        create_category(CreateCategory(f"C-{i}", parent_id=home.id), uow=uow(), actor=boss, clock=clock)
        for i in range(3)
    ]
    for i, view in enumerate(made):
        product(engine, boss, f"Q-{i}", stock=5, category_id=view.category.id)
    return engine, boss, home, [v.category for v in made]


def test_a_category_with_its_children_and_path_is_five_statements(catalog) -> None:
    engine, _, home, children = catalog
    with count_statements(engine) as counter:
        detail = as_request(engine, None, lambda uow, actor: get_category(children[0].id, uow=uow))
    assert [c.id for c in detail.path] == [home.id] and len(detail.products) == 1
    assert counter.count == 5, counter.statements  # category, product count, products, children, path
    with count_statements(engine) as counter:
        as_request(engine, None, lambda uow, actor: get_category(home.id, uow=uow))
    assert counter.count == 5, counter.statements  # as many with three children


@pytest.mark.parametrize("page_size", [1, 3])
def test_expanded_products_take_one_more_statement_per_page(catalog, page_size: int) -> None:
    engine, _, _, _ = catalog
    expand = frozenset({Expand.CATEGORY})
    with count_statements(engine) as counter:
        page, embedded = as_request(
            engine,
            None,
            lambda uow, actor: list_products_expanded(
                ProductFilter(q="Product Q"), Window(page_size), expand, uow=uow, actor=actor
            ),
        )
    assert len(page.items) == page_size and embedded.categories, page.items
    assert counter.count == 3, counter.statements  # count, page, their categories
    with count_statements(engine) as counter:
        as_request(engine, None, lambda uow, actor: get_product_expanded(page.items[0].id, expand, uow=uow))
    assert counter.count == 2, counter.statements  # the product, its category


@pytest.mark.parametrize("include_descendants", [False, True])
def test_category_statistics_are_a_fixed_number_of_statements(catalog, include_descendants: bool) -> None:
    engine, boss, home, _ = catalog
    with count_statements(engine) as counter:
        page = as_request(
            engine,
            boss.id,
            lambda uow, actor: list_category_stats(Window(20), include_descendants, uow=uow, actor=actor),
        )
    assert page.total == 4
    assert counter.count == 4, counter.statements  # caller, count, page, statistics of the page
    with count_statements(engine) as counter:
        view = as_request(
            engine,
            boss.id,
            lambda uow, actor: category_stats(home.id, include_descendants, uow=uow, actor=actor),
        )
    assert view.stats.active_products == (3 if include_descendants else 0)
    assert counter.count == 3, counter.statements  # caller, category, statistics


def test_a_log_in_records_its_time_in_the_transaction_that_forgives_its_attempt(seeded) -> None:
    """The closing transaction of a log-in (throttle buckets forgiven) gains one UPDATE, no round trip of
    its own: BEGIN, the buckets' writes, the users UPDATE, then COMMIT."""
    engine, ann, _, _ = seeded
    limits = Limits(login_per_account=Rate(5, timedelta(minutes=15)))
    buckets = login_buckets(limits, ann.email, None)
    with count_statements(engine) as counter:
        _close_login(sync_unit_of_work(engine, present), clock, buckets, ann)
    begins = [s for s in counter.statements if s.startswith("BEGIN")]
    assert len(begins) == 1 and counter.statements[0].startswith("BEGIN"), counter.statements
    assert counter.statements[-1].startswith("UPDATE users SET last_login_at"), counter.statements
    with sync_unit_of_work(engine, present) as uow:
        assert uow.users.get(ann.id).last_login_at == ann.last_login_at


def test_user_stats_is_one_statement_after_the_caller(seeded) -> None:
    engine, _, _, _ = seeded
    with count_statements(engine) as counter:
        stats = as_request(engine, 1, lambda uow, actor: user_stats(None, None, uow=uow, actor=actor))
    assert (stats.total, stats.with_orders) == (2, 1)
    assert counter.count == 2, counter.statements  # caller, stats
    assert not counter.opened_a_transaction


@pytest.mark.parametrize("users", [2, 5])
def test_bulk_deactivation_stores_its_events_in_one_insert(seeded, users: int) -> None:
    """Caller, BEGIN, the accounts locked, an UPDATE per account, then one INSERT for every event."""
    engine, _, _, _ = seeded
    ids = tuple(customer(engine, f"bulk{i}@shop.test").id for i in range(users))
    with count_statements(engine) as counter:
        changed = as_request(
            engine,
            1,
            lambda uow, actor: deactivate_customers(Deactivation(ids=ids), uow=uow, actor=actor, clock=clock),
        )
    assert changed == users
    assert counter.count == 4 + users, counter.statements
    assert counter.statements[1].startswith("BEGIN"), "the lock opens the transaction"
    locked = "FOR UPDATE" in counter.statements[2]
    assert locked is (engine.dialect.name == "postgresql"), counter.statements  # SQLite: BEGIN IMMEDIATE
    inserts = [s for s in counter.statements if s.startswith("INSERT INTO events")]
    assert len(inserts) == 1 and counter.statements[-1] == inserts[0], counter.statements
    with sync_unit_of_work(engine, present) as uow:
        stored = uow.events.feed(EventFilter(resource_type=ResourceType.USER), None, 100)
    assert sorted((e.resource_id, e.sequence) for e in stored) == [(i, 1) for i in ids]


@pytest.mark.parametrize("payments", [1, 4])
def test_payments_show_on_orders_and_list_in_fixed_statements(seeded, payments: int) -> None:
    """payment_status is read from the orders row: the order list stays four statements; an order's
    payments are five (caller, order, its lines, payments, their transactions) however many."""
    engine, ann, _, orders = seeded
    staff = admin(engine)  # the seeded admin again
    for i in range(payments):
        cmd = RecordPayment("psp", f"pi_{i}", orders[0].total_amount, PaymentAction.AUTHORIZE)
        paid = record_payment(
            orders[0].id, cmd, uow=sync_unit_of_work(engine, present), actor=staff, clock=clock, currency=USD
        ).payment
        capture_payment(
            paid.id,
            Decimal("0.01"),
            uow=sync_unit_of_work(engine, present),
            actor=staff,
            clock=clock,
            currency=USD,
        )
    with count_statements(engine) as counter:
        page = as_request(
            engine, ann.id, lambda uow, actor: list_orders(OrderFilter(), Window(25, 0), uow=uow, actor=actor)
        )
    assert counter.count == 4, counter.statements
    statuses = {o.id: o.payment_status for o in page.items}
    assert statuses[orders[0].id] is PaymentStatus.PARTIALLY_PAID
    assert list(statuses.values()).count(PaymentStatus.UNPAID) == 24
    with count_statements(engine) as counter:
        listed = as_request(
            engine, ann.id, lambda uow, actor: list_payments(orders[0].id, uow=uow, actor=actor)
        )
    assert len(listed) == payments and all(len(p.transactions) == 2 for p in listed)
    assert counter.count == 5, counter.statements
    assert not counter.opened_a_transaction


@pytest.mark.parametrize("fulfilments", [1, 3])
def test_fulfilments_list_in_fixed_statements(seeded, fulfilments: int) -> None:
    """An order's fulfilments are five statements (caller, order, its lines, fulfilments, their lines)
    however many; fulfillment_status comes from the lines, so the order list stays four."""
    engine, ann, _, orders = seeded
    staff = admin(engine)
    order = orders[0]
    address = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")
    change_shipping_address(order.id, address, uow=sync_unit_of_work(engine, present), actor=ann, clock=clock)
    change_order_status(
        order.id, OrderStatus.CONFIRMED, uow=sync_unit_of_work(engine, present), actor=staff, clock=clock
    )
    for i in range(fulfilments):
        cmd = CreateFulfillment(((order.lines[min(i, 1)].id, 1),), Tracking("UPS", f"1Z{i}"))  # of 1 and 2
        create_fulfillment(order.id, cmd, uow=sync_unit_of_work(engine, present), actor=staff, clock=clock)
    with count_statements(engine) as counter:
        listed = as_request(
            engine, ann.id, lambda uow, actor: list_fulfillments(order.id, uow=uow, actor=actor)
        )
    assert len(listed) == fulfilments and all(len(f.lines) == 1 for f in listed)
    assert counter.count == 5, counter.statements
    assert not counter.opened_a_transaction
    with count_statements(engine) as counter:
        page = as_request(
            engine, ann.id, lambda uow, actor: list_orders(OrderFilter(), Window(25, 0), uow=uow, actor=actor)
        )
    assert counter.count == 4, counter.statements
    statuses = {o.id: o.fulfillment_status for o in page.items}
    expected = FulfillmentStatus.FULFILLED if fulfilments == 3 else FulfillmentStatus.PARTIALLY_FULFILLED
    assert statuses[order.id] is expected
    assert list(statuses.values()).count(FulfillmentStatus.UNFULFILLED) == 24


@pytest.mark.parametrize("returns", [1, 3])
def test_returns_show_on_orders_and_list_in_fixed_statements(seeded, returns: int) -> None:
    """return_status comes from the lines the list reads anyway: the order list stays four statements;
    an order's returns are five (caller, order, its lines, returns, their lines) and its refunds four,
    however many."""
    engine, ann, _, orders = seeded
    order = orders[0]
    ship_all(lambda: sync_unit_of_work(engine, present), order.id)
    for i in range(returns):  # its lines have 1 and 2 units
        cmd = CreateReturn((ReturnItem(order.lines[1 if i < 2 else 0].id, 1, restock=True),))
        create_return(
            order.id, cmd, uow=sync_unit_of_work(engine, present), actor=ann, clock=clock,
            window=timedelta(days=30), currency=USD,
        )  # fmt: skip
    with count_statements(engine) as counter:
        page = as_request(
            engine, ann.id, lambda uow, actor: list_orders(OrderFilter(), Window(25, 0), uow=uow, actor=actor)
        )
    assert counter.count == 4, counter.statements
    assert {o.id: o.return_status for o in page.items}[order.id] is ReturnStatus.NONE  # requested only
    with count_statements(engine) as counter:
        listed = as_request(engine, ann.id, lambda uow, actor: list_returns(order.id, uow=uow, actor=actor))
    assert len(listed) == returns and all(len(r.lines) == 1 for r in listed)
    assert counter.count == 5, counter.statements
    with count_statements(engine) as counter:
        as_request(engine, ann.id, lambda uow, actor: list_refunds(order.id, uow=uow, actor=actor))
    assert counter.count == 4, counter.statements
    assert not counter.opened_a_transaction
