"""The address book's use cases and orders' addresses, over the fakes."""

import hashlib
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from application.addresses import (
    NewAddress,
    add_address,
    delete_address,
    get_address,
    list_addresses,
    update_address,
)
from application.errors import Conflict, Forbidden, NotFound, PreconditionFailed, UnknownReference
from application.idempotency import fingerprint
from application.orders import (
    OrderItem,
    PlaceOrder,
    change_order_status,
    change_shipping_address,
    get_order,
    order_events,
    place_order,
)
from domain.addresses import Address, AddressPatch
from domain.errors import AddressBookFull, AddressLocked
from domain.orders import OrderStatus
from tests.unit.conftest import dump

HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")
WORK = Address("Ann Smith", "5 Work Rd", "Paris", "75001", "FR", phone="+33142685300")
DEPOT = Address("Bob Jones", "9 Depot Ln", "Leeds", "LS1 1AA", "GB")


@pytest.fixture
def people(world):
    return world.admin, world.customer("ann@shop.test"), world.customer("bob@shop.test")


def add(world, actor, address=HOME, user_id=None, **defaults):
    return add_address(
        user_id, NewAddress(address, **defaults), uow=world.uow, actor=actor, clock=world.clock
    )


def test_a_customers_own_book(world, people, store) -> None:
    _, ann, _ = people
    home = add(world, ann, HOME, is_default_shipping=True)
    world.clock.advance(timedelta(minutes=1))
    work = add(world, ann, WORK, user_id=ann.id, is_default_shipping=True, is_default_billing=True)
    assert ("user", ann.id) in store.locks  # each change to a book holds its user's row
    book = list_addresses(None, uow=world.uow, actor=ann)
    assert [(e.id, e.address, e.is_default_shipping, e.is_default_billing) for e in book] == [
        (home.id, HOME, False, False),
        (work.id, WORK, True, True),
    ]
    assert book[0].updated_at == world.clock.now() and book[0].created_at == world.clock.now() - timedelta(
        minutes=1
    )
    assert list_addresses(ann.id, uow=world.uow, actor=ann) == book
    assert get_address(None, home.id, uow=world.uow, actor=ann).address == HOME

    changed = update_address(
        None, home.id, AddressPatch({"city": "Bonn"}, is_default_billing=True), uow=world.uow, actor=ann,
        clock=world.clock,
    )  # fmt: skip
    assert changed.address == replace(HOME, city="Bonn") and changed.is_default_billing
    assert not get_address(None, work.id, uow=world.uow, actor=ann).is_default_billing
    delete_address(None, work.id, uow=world.uow, actor=ann)
    assert [e.id for e in list_addresses(None, uow=world.uow, actor=ann)] == [home.id]


def test_another_customers_book_and_entries_are_missing(world, people, store) -> None:
    _, ann, bob = people
    bobs = add(world, bob, DEPOT)
    before = dump(store)
    for attempt in [
        lambda: list_addresses(bob.id, uow=world.uow, actor=ann),
        lambda: add(world, ann, HOME, user_id=bob.id),
        lambda: get_address(bob.id, bobs.id, uow=world.uow, actor=ann),
    ]:
        with pytest.raises(NotFound, match=f"^user {bob.id} was not found$"):
            attempt()
    for attempt in [
        lambda: get_address(None, bobs.id, uow=world.uow, actor=ann),
        lambda: update_address(
            None, bobs.id, AddressPatch({"city": "X"}), uow=world.uow, actor=ann, clock=world.clock
        ),
        lambda: delete_address(None, bobs.id, uow=world.uow, actor=ann),
        lambda: delete_address(None, 999, uow=world.uow, actor=ann),
    ]:
        with pytest.raises(NotFound, match="^address .* was not found$"):
            attempt()
    assert dump(store) == before


def test_an_admin_keeps_anyones_book(world, people) -> None:
    admin, ann, _ = people
    entry = add(world, admin, HOME, user_id=ann.id, is_default_billing=True)
    assert entry.user_id == ann.id
    assert [e.id for e in list_addresses(None, uow=world.uow, actor=ann)] == [entry.id]
    assert list_addresses(None, uow=world.uow, actor=admin) == []
    assert get_address(ann.id, entry.id, uow=world.uow, actor=admin).id == entry.id
    with pytest.raises(NotFound, match=f"^address {entry.id} was not found$"):
        get_address(None, entry.id, uow=world.uow, actor=admin)  # not the admin's own
    with pytest.raises(NotFound, match="^user 999 was not found$"):
        list_addresses(999, uow=world.uow, actor=admin)
    delete_address(ann.id, entry.id, uow=world.uow, actor=admin)
    assert list_addresses(ann.id, uow=world.uow, actor=admin) == []


def test_a_full_book_refuses_the_51st_and_changes_nothing(world, people, store) -> None:
    _, ann, _ = people
    for i in range(50):
        add(world, ann, replace(HOME, line1=f"{i} Main St"))
    before = dump(store)
    with pytest.raises(AddressBookFull, match="at most 50 addresses"):
        add(world, ann, WORK)
    assert dump(store) == before


def test_a_second_default_the_storage_refuses_is_a_conflict(world, people, store) -> None:
    _, ann, _ = people
    home, work = add(world, ann, HOME), add(world, ann, WORK)
    store.tables.addresses[home.id].is_default_shipping = True  # bypassing the book: the index's case
    store.tables.addresses[work.id].is_default_shipping = True
    before = dump(store)
    with pytest.raises(Conflict, match="another default address was stored meanwhile"):
        update_address(
            None, work.id, AddressPatch({"city": "Lyon"}), uow=world.uow, actor=ann, clock=world.clock
        )
    assert dump(store) == before


# --- orders ------------------------------------------------------------------------------------------------


def order(world, actor, **kw):
    product = world.product(f"P-{world.uow.store.tables.next_id}")
    cmd = PlaceOrder((OrderItem(product.id, 1),), **kw)
    return place_order(cmd, uow=world.uow, actor=actor, clock=world.clock)


def test_an_order_copies_an_inline_address_or_a_book_entry(world, people) -> None:
    _, ann, _ = people
    inline = order(world, ann, shipping_address=HOME)
    assert (inline.shipping_address, inline.billing_address) == (HOME, HOME)
    work = add(world, ann, WORK)
    from_book = order(world, ann, shipping_address=work.id, billing_address=HOME)
    assert (from_book.shipping_address, from_book.billing_address) == (WORK, HOME)
    billed = order(world, ann, billing_address=work.id)
    assert (billed.shipping_address, billed.billing_address) == (None, WORK)
    plain = order(world, ann)
    assert (plain.shipping_address, plain.billing_address) == (None, None)


def test_changing_or_deleting_the_book_entry_leaves_orders_copies(world, people) -> None:
    _, ann, _ = people
    work = add(world, ann, WORK)
    placed = order(world, ann, shipping_address=work.id)
    update_address(None, work.id, AddressPatch({"city": "Lyon"}), uow=world.uow, actor=ann, clock=world.clock)
    assert get_order(placed.id, uow=world.uow, actor=ann).shipping_address == WORK
    delete_address(None, work.id, uow=world.uow, actor=ann)
    kept = get_order(placed.id, uow=world.uow, actor=ann)
    assert (kept.shipping_address, kept.billing_address) == (WORK, WORK)


def test_an_order_takes_entries_of_its_buyers_book_only(world, people, store) -> None:
    admin, ann, bob = people
    bobs = add(world, bob, DEPOT)
    admins = add(world, admin, WORK)
    before = dump(store)
    for kw in [{"shipping_address": bobs.id}, {"billing_address": bobs.id}, {"shipping_address": 999}]:
        with pytest.raises(UnknownReference, match=r"^address \d+ does not exist$"):
            order_without_product(world, ann, **kw)
    with pytest.raises(UnknownReference, match=f"^address {admins.id} does not exist$"):
        order_without_product(world, admin, user_id=ann.id, shipping_address=admins.id)
    assert dump(store) == before
    for_bob = order(world, admin, user_id=bob.id, shipping_address=bobs.id)  # an admin, from the buyer's
    assert (for_bob.user_id, for_bob.shipping_address) == (bob.id, DEPOT)


def order_without_product(world, actor, **kw):
    """Refused before any product is read: the product id does not matter."""
    return place_order(PlaceOrder((OrderItem(1, 1),), **kw), uow=world.uow, actor=actor, clock=world.clock)


def change(world, actor, order_id, choice, version=None):
    return change_shipping_address(order_id, choice, version, uow=world.uow, actor=actor, clock=world.clock)


def test_the_owner_or_an_admin_changes_the_shipping_address(world, people) -> None:
    admin, ann, _ = people
    placed = order(world, ann, shipping_address=HOME, billing_address=HOME)
    world.clock.advance(timedelta(minutes=5))
    changed = change(world, ann, placed.id, WORK, version=1)
    assert (changed.shipping_address, changed.billing_address, changed.version) == (WORK, HOME, 2)
    assert changed.updated_at == world.clock.now()
    work = add(world, ann, WORK)
    depot = add(world, admin, DEPOT, user_id=ann.id)
    by_admin = change(world, admin, placed.id, depot.id)  # from the buyer's book, not the admin's
    assert (by_admin.shipping_address, by_admin.version) == (DEPOT, 3)
    history = order_events(placed.id, uow=world.uow, actor=ann)
    assert [(h.from_status, h.to_status, h.actor_id, h.reason) for h in history] == [
        (None, OrderStatus.PENDING, ann.id, None),
        (OrderStatus.PENDING, OrderStatus.PENDING, ann.id, "shipping address changed"),
        (OrderStatus.PENDING, OrderStatus.PENDING, admin.id, "shipping address changed"),
    ]
    assert get_order(placed.id, uow=world.uow, actor=ann).shipping_address == DEPOT
    assert work.id != depot.id


def test_refused_shipping_address_changes_change_nothing(world, people, store) -> None:
    admin, ann, bob = people
    placed = order(world, ann, shipping_address=HOME)
    bobs = add(world, bob, DEPOT)
    admins = add(world, admin, WORK)
    before = dump(store)
    with pytest.raises(NotFound, match=f"^order {placed.id} was not found$"):
        change(world, bob, placed.id, WORK)
    with pytest.raises(NotFound, match="^order 999 was not found$"):
        change(world, admin, 999, WORK)
    with pytest.raises(PreconditionFailed) as stale:
        change(world, ann, placed.id, WORK, version=2)
    assert stale.value.current_version == 1
    for address_id in (bobs.id, admins.id, 999):
        with pytest.raises(UnknownReference, match=f"^address {address_id} does not exist$"):
            change(world, admin, placed.id, address_id)
    assert dump(store) == before


def test_the_shipping_address_is_locked_once_processing(world, people, store) -> None:
    admin, ann, _ = people
    placed = order(world, ann, shipping_address=HOME)
    for status in (OrderStatus.CONFIRMED, OrderStatus.PROCESSING):
        change_order_status(placed.id, status, uow=world.uow, actor=admin, clock=world.clock)
    before = dump(store)
    with pytest.raises(AddressLocked, match="order that is processing cannot be changed"):
        change(world, admin, placed.id, WORK)
    assert dump(store) == before


def test_a_customer_may_not_order_for_another_with_an_address(world, people) -> None:
    _, ann, bob = people
    with pytest.raises(Forbidden):
        order_without_product(world, ann, user_id=bob.id, shipping_address=HOME)


def test_the_idempotency_fingerprint_of_an_order_without_addresses_is_as_before() -> None:
    cmd = PlaceOrder((OrderItem(1, 2),), None)
    before = {"items": [[1, 2]], "user_id": None}
    assert fingerprint(cmd) == hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()
    digests = {
        fingerprint(cmd),
        fingerprint(replace(cmd, shipping_address=HOME)),
        fingerprint(replace(cmd, shipping_address=WORK)),
        fingerprint(replace(cmd, shipping_address=5)),
        fingerprint(replace(cmd, billing_address=5)),
        fingerprint(replace(cmd, shipping_address=HOME, billing_address=WORK)),
    }
    assert len(digests) == 6


def test_erasing_an_account_deletes_its_book_and_leaves_its_orders_copies(world, people, store) -> None:
    from application.users import erase_user

    admin, ann, bob = people
    add(world, ann, HOME, is_default_shipping=True)
    work = add(world, ann, WORK)
    bobs = add(world, bob, DEPOT)
    placed = order(world, ann, shipping_address=work.id)
    erase_user(ann.id, uow=world.uow, actor=admin, clock=world.clock)
    assert list_addresses(ann.id, uow=world.uow, actor=admin) == []
    assert [e.id for e in list_addresses(None, uow=world.uow, actor=bob)] == [bobs.id]
    assert store.tables.orders[placed.id].shipping_address == WORK
