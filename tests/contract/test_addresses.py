"""The address repository and orders' address copies: fakes, SQLite and PostgreSQL answer alike."""

from dataclasses import replace
from datetime import timedelta

import pytest

from application.lists import OrderFilter, Window
from application.ports import DuplicateKey
from domain.addresses import Address, AddressBook, AddressPatch
from domain.orders import Order
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_product, add_user

HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")
WORK = Address(
    "Ann Smith", "5 Rue de Rivoli", "Paris", "75001", "FR", "ACME", "3e étage", "IDF", "+33142685300"
)
T1 = T0 + timedelta(hours=1)


def book_of(make_uow: MakeUow, user_id: int) -> AddressBook:
    with make_uow() as uow:
        return uow.addresses.book(user_id)


def change(make_uow: MakeUow, user_id: int, act) -> AddressBook:
    with make_uow() as uow:
        book = uow.addresses.book(user_id, for_update=True)
        act(book)
        uow.addresses.save(book)
        uow.commit()
    return book


def test_a_book_round_trips(make_uow: MakeUow) -> None:
    ann, bob = add_user(make_uow, "ann@shop.test"), add_user(make_uow, "bob@shop.test")
    assert book_of(make_uow, ann.id).entries == []
    added = change(
        make_uow, ann.id, lambda b: (b.add(WORK, at=T0), b.add(HOME, at=T1, default_shipping=True))
    )
    work, home = added.entries
    assert work.id is not None and home.id is not None and work.id < home.id
    assert added.changes == [] and added.removed == []  # stored
    change(make_uow, bob.id, lambda b: b.add(HOME, at=T0, default_shipping=True, default_billing=True))
    loaded = book_of(make_uow, ann.id)
    assert (loaded.user_id, [e.id for e in loaded.entries]) == (ann.id, [work.id, home.id])
    first, second = loaded.entries
    assert (first.user_id, first.address, first.created_at, first.updated_at) == (ann.id, WORK, T0, T0)
    assert (first.is_default_shipping, first.is_default_billing) == (False, False)
    assert (second.address, second.is_default_shipping, second.is_default_billing) == (HOME, True, False)
    assert second.created_at.tzinfo is not None
    with make_uow() as uow:
        got = uow.addresses.get(home.id)
        assert (got.id, got.user_id, got.address, got.is_default_shipping) == (home.id, ann.id, HOME, True)
        assert uow.addresses.get(999_999) is None


def test_changes_and_removals_are_stored(make_uow: MakeUow) -> None:
    ann = add_user(make_uow)
    work, home = change(
        make_uow, ann.id, lambda b: (b.add(WORK, at=T0, default_shipping=True), b.add(HOME, at=T0))
    ).entries

    def move_default(book: AddressBook) -> None:
        book.update(
            book.find(home.id),
            AddressPatch({"city": "Bonn", "region": "NRW"}, is_default_shipping=True),
            at=T1,
        )

    change(make_uow, ann.id, move_default)
    loaded = {e.id: e for e in book_of(make_uow, ann.id).entries}
    assert loaded[home.id].address == replace(HOME, city="Bonn", region="NRW")
    assert (loaded[home.id].is_default_shipping, loaded[home.id].updated_at) == (True, T1)
    assert (loaded[work.id].is_default_shipping, loaded[work.id].updated_at) == (False, T1)
    change(make_uow, ann.id, lambda b: b.remove(b.find(home.id)))
    assert [e.id for e in book_of(make_uow, ann.id).entries] == [work.id]


def test_a_change_not_committed_is_not_kept(make_uow: MakeUow) -> None:
    ann = add_user(make_uow)
    with make_uow() as uow:
        book = uow.addresses.book(ann.id, for_update=True)
        book.add(HOME, at=T0)
        uow.addresses.save(book)
    assert book_of(make_uow, ann.id).entries == []


@pytest.mark.parametrize("kind", ["is_default_shipping", "is_default_billing"])
def test_the_storage_refuses_a_second_default(make_uow: MakeUow, kind: str) -> None:
    ann, bob = add_user(make_uow, "ann@shop.test"), add_user(make_uow, "bob@shop.test")
    change(make_uow, bob.id, lambda b: b.add(HOME, at=T0, default_shipping=True, default_billing=True))
    first = change(make_uow, ann.id, lambda b: b.add(HOME, at=T0, **{kind.replace("is_", ""): True}))
    with make_uow() as uow:
        book = uow.addresses.book(ann.id, for_update=True)
        bypassed = book.add(WORK, at=T0)
        setattr(bypassed, kind, True)  # behind the book's back: the database's own rule
        with pytest.raises(DuplicateKey):
            uow.addresses.save(book)
    assert [e.id for e in book_of(make_uow, ann.id).entries] == [first.entries[0].id]


def test_an_orders_address_copies_round_trip(make_uow: MakeUow) -> None:
    ann = add_user(make_uow)
    product = add_product(make_uow, "A-1")
    orders = []
    for shipping, billing in [(WORK, None), (HOME, WORK), (None, None)]:
        order = Order.place(
            number=f"ORD-20261122-ADDR{len(orders)}",
            buyer=ann,
            items=[(product, 1)],
            actor_id=ann.id,
            at=T0,
            shipping_address=shipping,
            billing_address=billing,
        )
        with make_uow() as uow:
            uow.orders.add(order)
            uow.commit()
        orders.append(order)
    with make_uow() as uow:
        loaded = [uow.orders.get(o.id) for o in orders]
        listed = {o.id: o for o in uow.orders.list(OrderFilter(user_id=ann.id), Window(limit=10)).items}
    expected = [(WORK, WORK), (HOME, WORK), (None, None)]
    assert [(o.shipping_address, o.billing_address) for o in loaded] == expected
    assert [(listed[o.id].shipping_address, listed[o.id].billing_address) for o in orders] == expected

    first = loaded[0]
    first.change_shipping_address(HOME, actor_id=ann.id, at=T1)
    with make_uow() as uow:
        uow.orders.save(first)
        uow.commit()
    with make_uow() as uow:
        saved = uow.orders.get(first.id)
        history = uow.orders.status_history(first.id)
    assert (saved.shipping_address, saved.billing_address, saved.version) == (HOME, WORK, 2)
    assert [(h.from_status, h.to_status, h.reason) for h in history][-1] == (
        first.status,
        first.status,
        "shipping address changed",
    )
