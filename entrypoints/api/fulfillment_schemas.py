"""Request and response models of fulfilments (docs/api.md#fulfilments-issue-28)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.errors import DomainError
from domain.fulfillments import (
    MAX_CARRIER,
    MAX_FULFILLMENT_LINES,
    MAX_TRACKING_NUMBER,
    MAX_TRACKING_URL,
    Fulfillment,
    FulfillmentState,
    Tracking,
    check_fulfillment_lines,
)
from domain.orders import MAX_QUANTITY
from entrypoints.api.schemas import Id

TrackingUrl = Annotated[
    str,
    Field(
        max_length=MAX_TRACKING_URL,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$",
        description="http(s), kept as given.",
    ),
]
Text = Annotated[str, Field(min_length=1, pattern=r"^\S(.*\S)?$")]


class FulfillmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: Id = Field(description="The id of one of the order's `items`.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class FulfillmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[FulfillmentLineIn] = Field(min_length=1, max_length=MAX_FULFILLMENT_LINES)
    carrier: Annotated[Text, Field(max_length=MAX_CARRIER)] | None = None
    tracking_number: Annotated[Text, Field(max_length=MAX_TRACKING_NUMBER)] | None = None
    tracking_url: TrackingUrl | None = None

    @field_validator("lines")
    @classmethod
    def _each_line_once(cls, lines: list[FulfillmentLineIn]) -> list[FulfillmentLineIn]:
        try:
            check_fulfillment_lines([(line.order_line_id, line.quantity) for line in lines])
        except DomainError as error:
            raise ValueError(str(error)) from None
        return lines

    @model_validator(mode="after")
    def _tracking(self) -> "FulfillmentCreate":
        try:
            self.tracking().check()
        except DomainError as error:
            raise ValueError(str(error)) from None
        return self

    def units(self) -> tuple[tuple[int, int], ...]:
        return tuple((line.order_line_id, line.quantity) for line in self.lines)

    def tracking(self) -> Tracking:
        return Tracking(self.carrier, self.tracking_number, self.tracking_url)


class FulfillmentLineRead(BaseModel):
    order_line_id: int
    quantity: int


class FulfillmentRead(BaseModel):
    id: int
    order_id: int
    status: FulfillmentState = Field(description="`fulfilled`, or `cancelled` (its units unshipped again).")
    lines: list[FulfillmentLineRead]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    created_at: datetime
    created_by: int | None = Field(description="The admin who recorded it.")
    cancelled_at: datetime | None
    cancelled_by: int | None
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, f: Fulfillment) -> "FulfillmentRead":
        return cls(
            id=f.id or 0,
            order_id=f.order_id,
            status=f.status,
            lines=[FulfillmentLineRead(order_line_id=x.order_line_id, quantity=x.quantity) for x in f.lines],
            carrier=f.carrier,
            tracking_number=f.tracking_number,
            tracking_url=f.tracking_url,
            created_at=f.created_at,
            created_by=f.created_by,
            cancelled_at=f.cancelled_at,
            cancelled_by=f.cancelled_by,
            version=f.version,
            updated_at=f.updated_at,
        )
