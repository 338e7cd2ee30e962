"""Field definitions written once: the SQL tables and the API's request/response models inherit these
`table=False` SQLModel bases, so a length, range or pattern cannot drift between the two."""

from decimal import Decimal

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from domain.catalog import MAX_STOCK
from domain.money import MAX_AMOUNT

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SKU_PATTERN = r"^[A-Za-z0-9-]+$"
MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database
STRICT = {"strict": True}  # counts and ids: `true` and `"2"` are not numbers


def storable_text(value: str) -> str:
    """PostgreSQL text holds neither NUL characters nor lone surrogates: refuse them as schema errors."""
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no unpaired surrogates)") from None
    return value


class StorableModel(SQLModel):
    """Validates every string field with `storable_text` (tables skip validation; request models do not)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        return storable_text(value) if isinstance(value, str) else value


class UserFields(StorableModel):
    email: str = Field(max_length=320, schema_extra={"pattern": EMAIL_PATTERN})
    name: str = Field(min_length=1, max_length=100)


class CategoryFields(StorableModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID, schema_extra=STRICT)


class ProductFields(StorableModel):
    name: str = Field(min_length=1, max_length=200)
    sku: str = Field(min_length=1, max_length=50, schema_extra={"pattern": SKU_PATTERN})
    description: str | None = Field(default=None, max_length=2000)
    # sqlmodel types bounds as float; the Decimal bound is what pydantic compares exactly.
    price: Decimal = Field(ge=0, le=MAX_AMOUNT, max_digits=10, decimal_places=2)  # type: ignore[call-overload]
    stock_quantity: int = Field(default=0, ge=0, le=MAX_STOCK, schema_extra=STRICT)
    category_id: int | None = Field(default=None, ge=1, le=MAX_ID, schema_extra=STRICT)
    low_stock_threshold: int | None = Field(
        default=None,
        ge=0,
        le=MAX_STOCK,
        schema_extra=STRICT,
        description="At or below it, admins find the product with `GET /products?low_stock=true`.",
    )
