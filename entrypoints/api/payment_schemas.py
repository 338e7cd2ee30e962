"""Request and response models of payments (docs/api.md#payments). Amounts are decimal strings with two
places, as every money field of the API, in the payment's `currency`."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.money import MAX_AMOUNT
from domain.payments import (
    MAX_PAYMENT_REASON,
    MAX_PAYMENT_REFERENCE,
    MAX_PROVIDER,
    Payment,
    PaymentAction,
    PaymentTransaction,
    TransactionKind,
)

Amount = Annotated[
    Decimal,
    Field(
        gt=0,
        le=MAX_AMOUNT,
        max_digits=10,
        decimal_places=2,
        description="In the shop's currency, with at most as many places as its minor unit has.",
    ),
]
Reference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PAYMENT_REFERENCE,
        pattern=r"^\S(.*\S)?$",
        description="The provider's id.",
    ),
]


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=MAX_PROVIDER, pattern=r"^[A-Za-z0-9_.-]+$")
    reference: Reference = Field(
        description="Unique per provider: a repeat with the same body replays the payment; another body: 409."
    )
    amount: Amount
    action: PaymentAction = Field(
        description="`authorize`: held, captured later; `charge`: captured at once."
    )


class CaptureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount | None = Field(
        default=None, description="Omitted: all that is authorised and not captured."
    )


class RefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    reason: str = Field(min_length=1, max_length=MAX_PAYMENT_REASON, pattern=r"\S")
    reference: Reference = Field(
        description="The provider's id of the refund, unique in its payment: a repeat with the same body "
        "replays; another body: 409."
    )


class TransactionRead(BaseModel):
    id: int
    kind: TransactionKind
    amount: Decimal
    reference: str | None
    reason: str | None
    actor_id: int | None = Field(description="Who reported it (an admin, or the provider's admin token).")
    at: datetime

    @classmethod
    def of(cls, t: PaymentTransaction) -> "TransactionRead":
        return cls.model_validate(t, from_attributes=True)


class PaymentRead(BaseModel):
    id: int
    order_id: int
    provider: str
    reference: str
    currency: str = Field(description="ISO 4217 (SHOP_CURRENCY when it was recorded).")
    authorized: Decimal = Field(description="Authorised (a charge included), less what a void released.")
    captured: Decimal
    refunded: Decimal
    capturable: Decimal = Field(description="What a capture may take now: authorised and not captured.")
    refundable: Decimal = Field(description="What a refund may give back now: captured and not refunded.")
    voided: bool
    version: int
    created_at: datetime
    updated_at: datetime
    transactions: list[TransactionRead] = Field(description="Oldest first.")

    @classmethod
    def of(cls, p: Payment) -> "PaymentRead":
        return cls(
            id=p.id or 0,
            order_id=p.order_id,
            provider=p.provider,
            reference=p.reference,
            currency=p.currency,
            authorized=p.authorized,
            captured=p.captured,
            refunded=p.refunded,
            capturable=p.capturable,
            refundable=p.refundable,
            voided=p.voided,
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
            transactions=[TransactionRead.of(t) for t in p.transactions],
        )
