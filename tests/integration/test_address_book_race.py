"""Two adds racing for the last place of an address book: one wins, the other is refused (real PostgreSQL).

Each change to a book first locks its user's row (FOR NO KEY UPDATE), so the second add waits for the
first to commit and then counts 50."""

import threading
from dataclasses import replace

import pytest
from sqlalchemy import Engine, text

from adapters.sql.unit_of_work import sync_unit_of_work
from application.addresses import NewAddress, add_address
from application.orders import OrderItem, PlaceOrder, place_order
from domain.addresses import Address
from domain.errors import AddressBookFull
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, customer, product
from tests.integration.test_concurrency import wait_until_blocked

pytestmark = pytest.mark.postgres
HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def add(engine: Engine, actor, i: int):
    entry = NewAddress(replace(HOME, line1=f"{i} Main St"))
    return add_address(None, entry, uow=sync_unit_of_work(engine, present), actor=actor, clock=clock)


def entries(engine: Engine, user_id: int) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT count(*) FROM addresses WHERE user_id = :u"), {"u": user_id}
        ).scalar_one()


def test_two_adds_for_the_last_place_one_wins(pg: Engine) -> None:
    ann = customer(pg, "ann@shop.test")
    for i in range(49):
        add(pg, ann, i)
    first = sync_unit_of_work(pg, present)
    with first:
        # The first add takes the 50th place and holds its transaction open.
        book = first.addresses.book(ann.id, for_update=True)
        book.add(replace(HOME, line1="first"), at=clock.now())
        first.addresses.save(book)
        outcome: dict[str, object] = {}

        def second_add() -> None:
            try:
                outcome["entry"] = add(pg, ann, 99)
            except AddressBookFull as error:
                outcome["error"] = error

        worker = threading.Thread(target=second_add)
        worker.start()
        wait_until_blocked(pg)  # the second waits for the user's row, before it counts
        first.commit()
    worker.join(timeout=30)
    assert isinstance(outcome.get("error"), AddressBookFull) and "entry" not in outcome
    assert entries(pg, ann.id) == 50


def test_the_books_lock_does_not_hold_up_the_users_orders(pg: Engine) -> None:
    """FOR NO KEY UPDATE, not FOR UPDATE: an order's foreign key to the user takes KEY SHARE, which it
    leaves alone, so a customer's order never waits for their address book."""
    boss = admin(pg)
    ann = customer(pg, "ann@shop.test")
    item = product(pg, boss, "P-1", stock=5)
    held = sync_unit_of_work(pg, present)
    with held:
        held.addresses.book(ann.id, for_update=True)  # holds the user's row
        order = place_order(
            PlaceOrder((OrderItem(item.id, 1),), shipping_address=HOME),
            uow=sync_unit_of_work(pg, present),
            actor=ann,
            clock=clock,
        )
    assert order.id is not None and order.shipping_address == HOME
