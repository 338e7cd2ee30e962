"""Address fields as the API takes them: the lengths of domain.addresses, no blank text, a country code that
ISO 3166-1 assigns (pycountry) and a phone number that its country's numbering plan allows (phonenumbers),
both normalized (`de` -> `DE`, `+49 30 901820` -> `+4930901820`) before the domain checks the whole."""

from typing import Annotated, Any

import phonenumbers
import pycountry
from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from adapters.fields import StorableModel
from domain.addresses import MAX_LENGTHS, Address, check_address
from domain.errors import InvalidAddress

MAX_PHONE_INPUT = 32  # spaces, dashes and brackets allowed as given; stored as E.164 (at most 16)


def _text(name: str) -> Any:
    return Field(min_length=1, max_length=MAX_LENGTHS[name], pattern=r"\S")


def _optional_text(name: str) -> Any:
    return Field(default=None, min_length=1, max_length=MAX_LENGTHS[name], pattern=r"\S")


def country_code(value: str) -> str:
    """An assigned ISO 3166-1 alpha-2 code, in capitals."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code, such as 'DE'")
    return code


def e164_phone(value: str) -> str:
    """A number in international form (+ and the country code), valid in its numbering plan; as E.164."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "phone must be in international form, starting with + and the country code"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"'{value}' is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Country = Annotated[
    str, BeforeValidator(_upper), Field(min_length=2, max_length=2), AfterValidator(country_code)
]
Phone = Annotated[str, Field(min_length=1, max_length=MAX_PHONE_INPUT), AfterValidator(e164_phone)]


class AddressFields(StorableModel):
    """The fields of domain.addresses.Address, checked as the domain checks them (plus the look-ups)."""

    recipient_name: str = _text("recipient_name")
    company: str | None = _optional_text("company")
    line1: str = _text("line1")
    line2: str | None = _optional_text("line2")
    city: str = _text("city")
    postal_code: str = _text("postal_code")
    region: str | None = _optional_text("region")
    country: Country = Field(description="ISO 3166-1 alpha-2, such as `DE`.")
    phone: Phone | None = Field(
        default=None, description="International form (`+4930901820`); answered as E.164."
    )

    @model_validator(mode="after")
    def _whole(self) -> "AddressFields":
        try:
            check_address(self.to_address())
        except InvalidAddress as error:
            raise ValueError(str(error)) from None
        return self

    def to_address(self) -> Address:
        return Address(
            recipient_name=self.recipient_name,
            company=self.company,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            region=self.region,
            country=self.country,
            phone=self.phone,
        )
