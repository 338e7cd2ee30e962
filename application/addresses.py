"""Use cases of the address book (`/users/me/addresses`, `/users/{id}/addresses`), and the addresses an order
is placed with: inline, or an entry of the buyer's book, copied."""

from dataclasses import dataclass

from application.access import require_self_or_admin
from application.errors import Conflict, NotFound, UnknownReference
from application.ports import Clock, DuplicateKey, UnitOfWork
from domain.addresses import Address, AddressBook, AddressPatch, SavedAddress
from domain.users import User

# What an order is given for one of its addresses: an address, or the id of an entry of the buyer's book.
AddressChoice = Address | int


@dataclass(frozen=True, slots=True)
class NewAddress:
    address: Address
    is_default_shipping: bool = False
    is_default_billing: bool = False


def list_addresses(user_id: int | None, *, uow: UnitOfWork, actor: User) -> list[SavedAddress]:
    """`user_id` None: the actor's own. By id, oldest first."""
    with uow:
        return uow.addresses.book(_owner(uow, actor, user_id)).entries


def get_address(user_id: int | None, address_id: int, *, uow: UnitOfWork, actor: User) -> SavedAddress:
    with uow:
        owner = _owner(uow, actor, user_id)
        entry = uow.addresses.get(address_id)
        if entry is None or entry.user_id != owner:
            raise NotFound("address", address_id)  # another user's is missing too, as their orders are
        return entry


def add_address(
    user_id: int | None, cmd: NewAddress, *, uow: UnitOfWork, actor: User, clock: Clock
) -> SavedAddress:
    with uow:
        book = _book(uow, actor, user_id)
        entry = book.add(
            cmd.address,
            at=clock.now(),
            default_shipping=cmd.is_default_shipping,
            default_billing=cmd.is_default_billing,
        )
        _save(uow, book)
        uow.commit()
    return entry


def update_address(
    user_id: int | None, address_id: int, patch: AddressPatch, *, uow: UnitOfWork, actor: User, clock: Clock
) -> SavedAddress:
    with uow:
        book = _book(uow, actor, user_id)
        entry = _entry(book, address_id)
        book.update(entry, patch, at=clock.now())
        _save(uow, book)
        uow.commit()
    return entry


def delete_address(user_id: int | None, address_id: int, *, uow: UnitOfWork, actor: User) -> None:
    """Orders placed with it keep their copies."""
    with uow:
        book = _book(uow, actor, user_id)
        book.remove(_entry(book, address_id))
        _save(uow, book)
        uow.commit()


def resolve(uow: UnitOfWork, buyer_id: int, choice: AddressChoice | None) -> Address | None:
    """The address an order is given: inline as it is (no statement), or a copy of an entry of the buyer's
    book (one read). Another user's entry is unknown, as a missing one is (a 400, not a 404: it is named
    in the body)."""
    if not isinstance(choice, int):
        return choice
    entry = uow.addresses.get(choice)
    if entry is None or entry.user_id != buyer_id:
        raise UnknownReference("address", choice)
    return entry.address


def _owner(uow: UnitOfWork, actor: User, user_id: int | None) -> int:
    """The actor's own book, or (admins) another user's that exists."""
    assert actor.id is not None
    if user_id is None or user_id == actor.id:
        return actor.id
    require_self_or_admin(actor, user_id, "user", user_id)
    if uow.users.get(user_id) is None:
        raise NotFound("user", user_id)
    return user_id


def _book(uow: UnitOfWork, actor: User, user_id: int | None) -> AddressBook:
    return uow.addresses.book(_owner(uow, actor, user_id), for_update=True)


def _save(uow: UnitOfWork, book: AddressBook) -> None:
    try:
        uow.addresses.save(book)
    except DuplicateKey:  # the database's unique default: only if the book's own rule was bypassed
        raise Conflict("another default address was stored meanwhile; reload the address book") from None


def _entry(book: AddressBook, address_id: int) -> SavedAddress:
    entry = book.find(address_id)
    if entry is None:
        raise NotFound("address", address_id)
    return entry
