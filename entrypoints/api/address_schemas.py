"""Request and response models of the address book and of orders' addresses."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

if TYPE_CHECKING:
    from sqlmodel._compat import SQLModelConfig

from adapters.address_fields import AddressFields, Country, Phone
from adapters.fields import MAX_ID, StorableModel
from domain.addresses import FIELDS, MAX_LENGTHS, Address, AddressPatch, SavedAddress
from domain.patch import UNSET

AddressId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
# Typed as SQLModel types its models' `model_config` (a ConfigDict of its own, not exported).
FORBID_EXTRA: "SQLModelConfig" = {"extra": "forbid"}
_NULLABLE = frozenset({"company", "line2", "region", "phone"})


class AddressIn(AddressFields):
    """An address given inline (an order's, or a new shipping address)."""

    model_config = FORBID_EXTRA


class AddressCreate(AddressIn):
    is_default_shipping: bool = Field(default=False, strict=True)
    is_default_billing: bool = Field(default=False, strict=True)


def _patch_text(name: str) -> Any:
    return Field(default=None, min_length=1, max_length=MAX_LENGTHS[name], pattern=r"\S")


class AddressUpdate(StorableModel):
    """Only the fields sent change; company, line2, region and phone may be sent as null to remove them.
    A default sent true takes it from the entry that had it; sent false gives it up."""

    model_config = FORBID_EXTRA
    recipient_name: str | None = _patch_text("recipient_name")
    company: str | None = _patch_text("company")
    line1: str | None = _patch_text("line1")
    line2: str | None = _patch_text("line2")
    city: str | None = _patch_text("city")
    postal_code: str | None = _patch_text("postal_code")
    region: str | None = _patch_text("region")
    country: Country | None = None
    phone: Phone | None = None
    is_default_shipping: bool | None = Field(default=None, strict=True)
    is_default_billing: bool | None = Field(default=None, strict=True)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "AddressUpdate":
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in _NULLABLE:
                raise ValueError(f"{name} may not be null")
        return self

    def to_patch(self) -> AddressPatch:
        sent = self.model_fields_set
        return AddressPatch(
            values={name: getattr(self, name) for name in FIELDS if name in sent},
            # Sent as null is refused above: bool() only narrows the type.
            is_default_shipping=bool(self.is_default_shipping) if "is_default_shipping" in sent else UNSET,
            is_default_billing=bool(self.is_default_billing) if "is_default_billing" in sent else UNSET,
        )


class OrderAddressRead(BaseModel):
    """An order's copy of an address, as it was given."""

    recipient_name: str
    company: str | None
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    phone: str | None

    @classmethod
    def of(cls, a: Address | None) -> "OrderAddressRead | None":
        if a is None:
            return None
        # Built, not validated: the copy comes from our own storage, and an order list shows 20 or more.
        return cls.model_construct(
            recipient_name=a.recipient_name,
            company=a.company,
            line1=a.line1,
            line2=a.line2,
            city=a.city,
            postal_code=a.postal_code,
            region=a.region,
            country=a.country,
            phone=a.phone,
        )


class AddressRead(OrderAddressRead):
    id: int
    is_default_shipping: bool
    is_default_billing: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of_entry(cls, e: SavedAddress) -> "AddressRead":
        return cls.model_validate(
            {
                **e.address.as_dict(),
                "id": e.id,
                "is_default_shipping": e.is_default_shipping,
                "is_default_billing": e.is_default_billing,
                "created_at": e.created_at,
                "updated_at": e.updated_at,
            }
        )


class ShippingAddressChange(BaseModel):
    """Exactly one: an address inline, or an entry of the order's buyer's book."""

    model_config = ConfigDict(extra="forbid")
    address: AddressIn | None = None
    address_id: AddressId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "ShippingAddressChange":
        if (self.address is None) == (self.address_id is None):
            raise ValueError("send exactly one of address and address_id")
        return self

    def choice(self) -> Address | int:
        return self.address.to_address() if self.address is not None else self.address_id or 0


def one_of(inline: AddressIn | None, book_id: int | None, name: str) -> Address | int | None:
    """`<name>_address` or `<name>_address_id`: not both."""
    if inline is not None and book_id is not None:
        raise ValueError(f"send {name}_address or {name}_address_id, not both")
    return inline.to_address() if inline is not None else book_id
