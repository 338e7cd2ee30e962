"""Refunds of an order (issue 28): money given back for an accepted return or as a goodwill gesture, drawn
from the order's captured payments, oldest payment first, each through its own rule (`Payment.refund`:
never more than captured − refunded). An `OrderRefund` records what was given back, why, under which
reference (unique per order), and for which return."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.entity import Entity
from domain.orders import Order
from domain.payments import MAX_PAYMENT_REASON, ZERO, Currency, MoneyTotals, Payment
from domain.return_errors import InvalidReturn, RefundLimit

# A payment's refund carries the same reason, so the same limit.
MAX_REFUND_REASON = MAX_PAYMENT_REASON


@dataclass(eq=False, slots=True)
class OrderRefund(Entity):
    order_id: int
    amount: Decimal
    reason: str
    reference: str
    at: datetime
    actor_id: int | None
    return_id: int | None = None
    id: int | None = None


def draw(order_id: int | None, payments: Sequence[Payment], amount: Decimal) -> list[tuple[Payment, Decimal]]:
    """How much each payment gives back: oldest first, each at most what it holds (captured − refunded);
    RefundLimit when all of them together hold less than `amount`."""
    available = sum((p.refundable for p in payments), ZERO)
    if amount > available:
        raise RefundLimit(order_id, amount, available)
    drawn: list[tuple[Payment, Decimal]] = []
    left = amount
    for payment in sorted(payments, key=lambda p: p.id or 0):
        take = min(left, payment.refundable)
        if take > 0:
            drawn.append((payment, take))
            left -= take
    return drawn


def refund_order(
    order: Order,
    payments: Sequence[Payment],
    amount: Decimal,
    currency: Currency,
    *,
    reason: str,
    reference: str,
    actor_id: int | None,
    at: datetime,
    return_id: int | None = None,
) -> OrderRefund:
    """Draw `amount` from the order's payments (each records its refund transaction and payment.refunded),
    move the order's sums by as much (order.refunded), and the refund that says so."""
    assert order.id is not None
    if not reason.strip() or len(reason) > MAX_REFUND_REASON:
        raise InvalidReturn(f"a refund needs a reason of 1 to {MAX_REFUND_REASON} characters")
    value = currency.amount(amount)
    moved = MoneyTotals()
    for payment, part in draw(order.id, payments, value):
        payment.refund(part, currency, reason=reason, reference=reference, actor_id=actor_id, at=at)
        moved = moved + payment.moved()
    order.refund(moved, actor_id=actor_id, at=at)
    return OrderRefund(order.id, value, reason, reference, at, actor_id, return_id)
