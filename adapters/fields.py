"""Field definitions written once: the SQL tables and the API's request/response models inherit these
`table=False` SQLModel bases, so a length, range or pattern cannot drift between the two."""

from decimal import Decimal

from sqlmodel import Field, SQLModel

from domain.money import MAX_AMOUNT

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SKU_PATTERN = r"^[A-Za-z0-9-]+$"
MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database


class UserFields(SQLModel):
    email: str = Field(max_length=320, schema_extra={"pattern": EMAIL_PATTERN})
    name: str = Field(min_length=1, max_length=100)


class CategoryFields(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ProductFields(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    sku: str = Field(min_length=1, max_length=50, schema_extra={"pattern": SKU_PATTERN})
    description: str | None = Field(default=None, max_length=2000)
    price: Decimal = Field(ge=0, le=MAX_AMOUNT, max_digits=10, decimal_places=2)
    stock_quantity: int = Field(default=0, ge=0, le=2_147_483_647)
    category_id: int | None = Field(default=None, ge=1, le=MAX_ID)
