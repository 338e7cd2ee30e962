"""Postal addresses: a user's address book (at most MAX_ADDRESSES entries, at most one default shipping and
one default billing address) and the copies orders keep of them.

The shape of a value is checked here (lengths, no blank text, a country code of two capital letters, a phone
number in E.164 form); whether a country code is assigned and a phone number can exist is looked up in
ISO 3166 and the numbering plans at the API's door (adapters.address_fields), which normalizes both first."""

import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum

from domain.entity import Entity
from domain.errors import AddressBookFull, InvalidAddress
from domain.patch import UNSET, Unset, sent

MAX_ADDRESSES = 50  # per user

# The longest each field may be: room for any real address (UPU S42 lines are shorter), none for abuse.
MAX_LENGTHS: dict[str, int] = {
    "recipient_name": 100,
    "company": 100,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "postal_code": 20,
    "region": 100,
    "country": 2,
    "phone": 16,  # "+" and at most 15 digits
}
REQUIRED = ("recipient_name", "line1", "city", "postal_code", "country")
COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
PHONE_PATTERN = re.compile(r"\+[1-9][0-9]{1,14}")  # E.164: a country code and at most 15 digits in all


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as a value: an order keeps one as it was when given (an immutable copy). Made from
    a request, it is checked (`check_address`) where it is used; loaded from storage, it is not."""

    recipient_name: str
    line1: str
    city: str
    postal_code: str
    country: str
    company: str | None = None
    line2: str | None = None
    region: str | None = None
    phone: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = tuple(f.name for f in fields(Address))


def check_address(address: Address) -> None:
    """Every required field present and not blank, the optional ones absent or not blank, each within its
    length, the country two capital letters and the phone E.164 (`+` and 2..15 digits, not starting 0)."""
    for name in FIELDS:
        value = getattr(address, name)
        if value is None:
            if name in REQUIRED:
                raise InvalidAddress(f"{name} is required")
            continue
        if not value.strip():
            raise InvalidAddress(f"{name} may not be blank")
        if len(value) > MAX_LENGTHS[name]:
            raise InvalidAddress(f"{name} may be at most {MAX_LENGTHS[name]} characters long")
    if not COUNTRY_PATTERN.fullmatch(address.country):
        raise InvalidAddress("country must be an ISO 3166-1 alpha-2 code such as 'DE'")
    if address.phone is not None and not PHONE_PATTERN.fullmatch(address.phone):
        raise InvalidAddress("phone must be in E.164 form, such as '+4930123456'")


class DefaultKind(StrEnum):
    SHIPPING = "shipping"
    BILLING = "billing"


@dataclass(eq=False, slots=True)
class SavedAddress(Entity):
    """An entry of a user's address book."""

    user_id: int
    address: Address
    created_at: datetime
    updated_at: datetime
    is_default_shipping: bool = False
    is_default_billing: bool = False
    id: int | None = None

    def is_default(self, kind: DefaultKind) -> bool:
        return self.is_default_shipping if kind is DefaultKind.SHIPPING else self.is_default_billing

    def _set_default(self, kind: DefaultKind, value: bool) -> None:
        if kind is DefaultKind.SHIPPING:
            self.is_default_shipping = value
        else:
            self.is_default_billing = value


@dataclass(frozen=True, slots=True)
class AddressPatch:
    """A partial change of a book entry: the fields sent, and the defaults."""

    values: dict[str, str | None]
    is_default_shipping: bool | Unset = UNSET
    is_default_billing: bool | Unset = UNSET


@dataclass(eq=False, slots=True)
class AddressBook:
    """A user's addresses, loaded whole (there are at most MAX_ADDRESSES) to change any of them: the one
    owner of the limit and of the defaults (setting one clears the entry that had it).

    `changes` lists, for the repository to store in this order, the entries changed since loading: an entry
    that gives up a default comes before the one taking it, so the database's unique index on each default
    never sees two at once. `removed` lists the ids deleted."""

    user_id: int
    entries: list[SavedAddress]
    changes: list[SavedAddress] = field(default_factory=list, init=False)
    removed: list[int] = field(default_factory=list, init=False)

    def find(self, address_id: int) -> SavedAddress | None:
        return next((e for e in self.entries if e.id == address_id), None)

    def add(
        self, address: Address, *, at: datetime, default_shipping: bool = False, default_billing: bool = False
    ) -> SavedAddress:
        """A new entry (its id is the repository's to give); refused once the book holds MAX_ADDRESSES."""
        if len(self.entries) >= MAX_ADDRESSES:
            raise AddressBookFull(MAX_ADDRESSES)
        check_address(address)
        entry = SavedAddress(self.user_id, address, at, at)
        self.entries.append(entry)
        self._apply_defaults(entry, default_shipping, default_billing, at)
        self._changed(entry)
        return entry

    def update(self, entry: SavedAddress, patch: AddressPatch, *, at: datetime) -> None:
        """The fields sent replace the entry's (checked as a whole); a default sent true takes it from the
        entry that had it, sent false gives it up."""
        if patch.values:
            # A None where text is due is refused by check_address, as any other value out of form.
            address = replace(entry.address, **patch.values)  # type: ignore[arg-type]
            check_address(address)
            entry.address = address
        self._apply_defaults(entry, patch.is_default_shipping, patch.is_default_billing, at)
        entry.updated_at = at
        self._changed(entry)

    def remove(self, entry: SavedAddress) -> None:
        """Its defaults go with it: the book then has none of that kind."""
        assert entry.id is not None
        self.entries.remove(entry)
        self.removed.append(entry.id)

    def clear(self) -> None:
        """Every entry removed (an erased account keeps no addresses)."""
        for entry in list(self.entries):
            self.remove(entry)

    def _apply_defaults(
        self, entry: SavedAddress, shipping: bool | Unset, billing: bool | Unset, at: datetime
    ) -> None:
        for kind, wanted in ((DefaultKind.SHIPPING, shipping), (DefaultKind.BILLING, billing)):
            if not sent(wanted):
                continue
            if wanted:
                for other in self.entries:
                    if other is not entry and other.is_default(kind):
                        other._set_default(kind, False)
                        other.updated_at = at
                        self._changed(other)
            entry._set_default(kind, wanted)

    def _changed(self, entry: SavedAddress) -> None:
        """Last in the list: after whatever gave up a default it now holds."""
        if entry in self.changes:
            self.changes.remove(entry)
        self.changes.append(entry)
