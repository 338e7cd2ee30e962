"""Request and response models of returns and refunds of orders (docs/api.md#returns-and-refunds-issue-28).
Amounts are decimal strings with two places, in the shop's currency."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.orders import MAX_QUANTITY
from domain.payments import MAX_PAYMENT_REASON
from domain.refunds import OrderRefund
from domain.returns import MAX_RETURN_LINES, MAX_RETURN_REASON, Return, ReturnItem, ReturnLine, ReturnState
from entrypoints.api.payment_schemas import Amount, Reference


class ReturnLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: int = Field(ge=1, le=2**31 - 1, description="An `items[].id` of the order.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    reason: str | None = Field(default=None, max_length=MAX_RETURN_REASON)
    restock: bool = Field(default=False, description="Back on the shelf (a `return` ledger movement).")


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    refund_extra: Amount | None = Field(
        default=None, description="Admins: shipping or goodwill added to the proposed refund."
    )

    def items(self) -> tuple[ReturnItem, ...]:
        return tuple(ReturnItem(x.order_line_id, x.quantity, x.reason, x.restock) for x in self.lines)


class ReturnReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=MAX_RETURN_REASON, pattern=r"\S")


class ReturnRefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference = Field(
        description="The provider's id of the refund: a repeat with it replays the refund; another: 409."
    )
    extra: Amount | None = Field(default=None, description="Given back on top of the proposed refund.")


class OrderRefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    reason: str = Field(min_length=1, max_length=MAX_PAYMENT_REASON, pattern=r"\S")
    reference: Reference = Field(
        description="Unique per order: a repeat with the same body replays; another body: 409."
    )


class ReturnLineRead(BaseModel):
    id: int
    order_line_id: int
    product_id: int
    quantity: int
    unit_price: Decimal
    restock: bool
    reason: str | None

    @classmethod
    def of(cls, line: ReturnLine) -> "ReturnLineRead":
        return cls.model_validate(line, from_attributes=True)


class ReturnRead(BaseModel):
    id: int
    order_id: int
    status: ReturnState
    lines: list[ReturnLineRead]
    refund_extra: Decimal
    proposed_refund: Decimal = Field(description="Σ unit price × quantity of its lines, plus refund_extra.")
    refunded: Decimal = Field(description="What its refund gave back; 0.00 until then.")
    requested_by: int | None
    decided_by: int | None
    decided_at: datetime | None
    rejection_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: Return) -> "ReturnRead":
        return cls(
            id=r.id or 0,
            order_id=r.order_id,
            status=r.status,
            lines=[ReturnLineRead.of(line) for line in r.lines],
            refund_extra=r.refund_extra,
            proposed_refund=r.proposed_refund,
            refunded=r.refunded,
            requested_by=r.requested_by,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            rejection_reason=r.rejection_reason,
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


class OrderRefundRead(BaseModel):
    id: int
    order_id: int
    return_id: int | None = Field(description="The return it refunds; null: a goodwill gesture.")
    amount: Decimal
    reason: str
    reference: str
    actor_id: int | None
    at: datetime

    @classmethod
    def of(cls, r: OrderRefund) -> "OrderRefundRead":
        return cls.model_validate(r, from_attributes=True)
