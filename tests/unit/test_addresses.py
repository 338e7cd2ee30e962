"""The address rules of domain.addresses and of an order's addresses: each boundary and message."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.addresses import (
    FIELDS,
    MAX_ADDRESSES,
    MAX_LENGTHS,
    REQUIRED,
    Address,
    AddressBook,
    AddressPatch,
    DefaultKind,
    SavedAddress,
    check_address,
)
from domain.errors import AddressBookFull, AddressLocked, IllegalStatusChange, InvalidAddress
from domain.orders import ADDRESS_CHANGEABLE, ADDRESS_CHANGED, Order, OrderStatus
from domain.users import User

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")
FULL = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE", "ACME", "Floor 2", "Berlin", "+4930901820")
WORK = Address("Ann Smith", "5 Work Rd", "Paris", "75001", "FR")


def test_a_minimal_and_a_full_address_pass() -> None:
    check_address(HOME)
    check_address(FULL)
    assert FULL.as_dict() == {
        "recipient_name": "Ann Smith",
        "line1": "1 Main St",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "company": "ACME",
        "line2": "Floor 2",
        "region": "Berlin",
        "phone": "+4930901820",
    }
    assert tuple(FULL.as_dict()) == FIELDS


@pytest.mark.parametrize("name", REQUIRED)
def test_each_required_field_is_required(name: str) -> None:
    with pytest.raises(InvalidAddress, match=f"^{name} is required$"):
        check_address(replace(HOME, **{name: None}))


@pytest.mark.parametrize("name", ["company", "line2", "region", "phone"])
def test_optional_fields_may_be_absent(name: str) -> None:
    check_address(replace(FULL, **{name: None}))


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("blank", ["", " ", "\t\n"])
def test_no_field_may_be_blank(name: str, blank: str) -> None:
    with pytest.raises(InvalidAddress, match=f"^{name} may not be blank$"):
        check_address(replace(FULL, **{name: blank}))


@pytest.mark.parametrize("name", [n for n in FIELDS if n not in ("country", "phone")])
def test_each_text_field_has_its_length(name: str) -> None:
    limit = MAX_LENGTHS[name]
    check_address(replace(FULL, **{name: "x" * limit}))
    with pytest.raises(InvalidAddress, match=f"^{name} may be at most {limit} characters long$"):
        check_address(replace(FULL, **{name: "x" * (limit + 1)}))


def test_the_lengths() -> None:
    assert MAX_LENGTHS == {
        "recipient_name": 100,
        "company": 100,
        "line1": 200,
        "line2": 200,
        "city": 100,
        "postal_code": 20,
        "region": 100,
        "country": 2,
        "phone": 16,
    }
    assert REQUIRED == ("recipient_name", "line1", "city", "postal_code", "country")
    assert MAX_ADDRESSES == 50


@pytest.mark.parametrize("country", ["de", "D1", "1D", "Dé"])
def test_a_country_is_two_capital_letters(country: str) -> None:
    with pytest.raises(InvalidAddress, match="^country must be an ISO 3166-1 alpha-2 code such as 'DE'$"):
        check_address(replace(HOME, country=country))


def test_a_three_letter_country_is_too_long() -> None:
    with pytest.raises(InvalidAddress, match="^country may be at most 2 characters long$"):
        check_address(replace(HOME, country="DEU"))


@pytest.mark.parametrize("phone", ["+12", "+123456789012345", "+9" + "0" * 14])
def test_e164_phones_pass(phone: str) -> None:
    check_address(replace(HOME, phone=phone))


@pytest.mark.parametrize("phone", ["+1", "4930901820", "+0301234", "+49 30 901820", "+49a30", "++4930"])
def test_other_phones_are_refused(phone: str) -> None:
    with pytest.raises(InvalidAddress, match=r"^phone must be in E\.164 form, such as '\+4930123456'$"):
        check_address(replace(HOME, phone=phone))


def test_a_phone_of_16_digits_is_too_long() -> None:
    with pytest.raises(InvalidAddress, match="^phone may be at most 16 characters long$"):
        check_address(replace(HOME, phone="+1234567890123456"))


# --- the address book -------------------------------------------------------------------------------------


def entry(address: Address = HOME, id: int = 1, **kw) -> SavedAddress:
    return SavedAddress(7, address, T0, T0, id=id, **kw)


def test_a_new_entry_is_the_users_with_no_default_unless_asked() -> None:
    book = AddressBook(7, [])
    added = book.add(HOME, at=T1)
    assert (added.user_id, added.address, added.created_at, added.updated_at) == (7, HOME, T1, T1)
    assert (added.is_default_shipping, added.is_default_billing, added.id) == (False, False, None)
    assert book.entries == [added] and book.changes == [added] and book.removed == []


def test_the_book_holds_at_most_fifty() -> None:
    book = AddressBook(7, [entry(id=i) for i in range(1, MAX_ADDRESSES)])
    book.add(WORK, at=T1)  # the 50th
    with pytest.raises(AddressBookFull) as refused:
        book.add(WORK, at=T1)
    assert refused.value.limit == 50
    assert str(refused.value) == "an address book holds at most 50 addresses; delete one to add another"
    assert len(book.entries) == 50 and len(book.changes) == 1


def test_an_invalid_address_is_not_added() -> None:
    book = AddressBook(7, [])
    with pytest.raises(InvalidAddress):
        book.add(replace(HOME, city=" "), at=T1)
    assert book.entries == [] and book.changes == []


def test_a_new_default_takes_it_from_the_entry_that_had_it_which_is_stored_first() -> None:
    old = entry(id=1, is_default_shipping=True, is_default_billing=True)
    book = AddressBook(7, [old])
    new = book.add(WORK, at=T1, default_shipping=True)
    assert (old.is_default_shipping, old.is_default_billing, old.updated_at) == (False, True, T1)
    assert (new.is_default_shipping, new.is_default_billing) == (True, False)
    assert book.changes == [old, new]


def test_each_kind_of_default_is_its_own() -> None:
    shipping = entry(id=1, is_default_shipping=True)
    billing = entry(id=2, is_default_billing=True)
    book = AddressBook(7, [shipping, billing])
    new = book.add(WORK, at=T1, default_billing=True)
    assert (shipping.is_default_shipping, shipping.updated_at) == (True, T0)
    assert (billing.is_default_billing, new.is_default_billing) == (False, True)
    assert book.changes == [billing, new]
    assert new.is_default(DefaultKind.BILLING) and not new.is_default(DefaultKind.SHIPPING)


def test_update_replaces_the_fields_sent_and_keeps_the_others() -> None:
    one = entry(FULL, id=1, is_default_shipping=True)
    book = AddressBook(7, [one])
    book.update(one, AddressPatch({"city": "Hamburg", "phone": None}), at=T1)
    assert one.address == replace(FULL, city="Hamburg", phone=None)
    assert (one.is_default_shipping, one.is_default_billing, one.updated_at) == (True, False, T1)
    assert book.changes == [one]


def test_an_invalid_update_changes_nothing() -> None:
    one, other = entry(id=1), entry(id=2, is_default_shipping=True)
    book = AddressBook(7, [one, other])
    with pytest.raises(InvalidAddress, match="^city is required$"):
        book.update(one, AddressPatch({"city": None}, is_default_shipping=True), at=T1)
    assert (one.address, one.updated_at, other.is_default_shipping) == (HOME, T0, True)
    assert book.changes == []


def test_update_takes_a_default_and_gives_one_up() -> None:
    one = entry(id=1, is_default_billing=True)
    two = entry(WORK, id=2, is_default_shipping=True)
    book = AddressBook(7, [one, two])
    book.update(one, AddressPatch({}, is_default_shipping=True, is_default_billing=False), at=T1)
    assert (one.is_default_shipping, one.is_default_billing) == (True, False)
    assert (two.is_default_shipping, two.updated_at) == (False, T1)
    assert one.address == HOME
    assert book.changes == [two, one]


def test_a_default_sent_true_again_keeps_it_and_the_entry_is_listed_once() -> None:
    one = entry(id=1, is_default_shipping=True)
    book = AddressBook(7, [one])
    book.update(one, AddressPatch({}, is_default_shipping=True), at=T1)
    book.update(one, AddressPatch({"city": "Bonn"}), at=T1)
    assert one.is_default_shipping and book.changes == [one]


def test_remove_and_find() -> None:
    one, two = entry(id=1, is_default_shipping=True), entry(WORK, id=2)
    book = AddressBook(7, [one, two])
    assert book.find(2) is two and book.find(3) is None
    book.remove(one)
    assert book.entries == [two] and book.removed == [1] and book.changes == []
    assert not two.is_default_shipping  # the default went with the entry removed


# --- an order's addresses ----------------------------------------------------------------------------------


def placed(**kw) -> Order:
    from domain.catalog import Product

    buyer = User(email="ann@shop.test", name="Ann", password_hash="h", created_at=T0, updated_at=T0, id=3)
    product = Product.create(name="P", sku="P-1", price=10, stock_quantity=5, at=T0)
    product.id = 1
    return Order.place(number="ORD-1", buyer=buyer, items=[(product, 1)], actor_id=3, at=T0, **kw)


def test_an_order_keeps_its_addresses_and_bills_to_the_shipping_address_by_default() -> None:
    assert (placed().shipping_address, placed().billing_address) == (None, None)
    order = placed(shipping_address=HOME)
    assert (order.shipping_address, order.billing_address) == (HOME, HOME)
    both = placed(shipping_address=HOME, billing_address=WORK)
    assert (both.shipping_address, both.billing_address) == (HOME, WORK)
    billing_only = placed(billing_address=WORK)
    assert (billing_only.shipping_address, billing_only.billing_address) == (None, WORK)


@pytest.mark.parametrize("which", ["shipping_address", "billing_address"])
def test_an_order_refuses_an_invalid_address(which: str) -> None:
    with pytest.raises(InvalidAddress, match="^line1 may not be blank$"):
        placed(**{which: replace(HOME, line1="")})


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.CONFIRMED])
def test_the_shipping_address_changes_while_pending_or_confirmed(status: OrderStatus) -> None:
    order = placed(shipping_address=HOME)
    order.status, order.new_status_changes, order.domain_events = status, [], []
    order.change_shipping_address(WORK, actor_id=9, at=T1)
    assert (order.shipping_address, order.billing_address) == (WORK, HOME)
    assert (order.version, order.updated_at, order.status) == (2, T1, status)
    [change] = order.new_status_changes
    assert (change.from_status, change.to_status, change.at, change.actor_id, change.reason) == (
        status,
        status,
        T1,
        9,
        "shipping address changed",
    )
    assert order.domain_events == []  # no event type for it (yet)
    assert ADDRESS_CHANGED == "shipping address changed"
    assert {OrderStatus.PENDING, OrderStatus.CONFIRMED} == ADDRESS_CHANGEABLE


@pytest.mark.parametrize(
    "status", [OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED]
)
def test_the_shipping_address_is_locked_from_processing_on(status: OrderStatus) -> None:
    order = placed(shipping_address=HOME)
    order.status, order.new_status_changes = status, []
    with pytest.raises(AddressLocked) as refused:
        order.change_shipping_address(WORK, actor_id=9, at=T1)
    assert refused.value.status == status.value
    assert str(refused.value) == (
        f"the shipping address of an order that is {status.value} cannot be changed: "
        "only while it is pending or confirmed"
    )
    assert (order.shipping_address, order.version, order.updated_at) == (HOME, 1, T0)
    assert order.new_status_changes == []
    assert not isinstance(refused.value, IllegalStatusChange)


def test_an_invalid_new_shipping_address_changes_nothing() -> None:
    order = placed(shipping_address=HOME)
    order.new_status_changes = []
    with pytest.raises(InvalidAddress):
        order.change_shipping_address(replace(WORK, country="XXX"), actor_id=9, at=T1)
    assert (order.shipping_address, order.version, order.new_status_changes) == (HOME, 1, [])


def test_clear_removes_every_entry() -> None:
    one, two = entry(id=1, is_default_billing=True), entry(WORK, id=2)
    book = AddressBook(7, [one, two])
    book.clear()
    assert book.entries == [] and book.removed == [1, 2] and book.changes == []
