"""Use cases for payments: what a provider integration (an admin token) reports it did with an order's money,
and the list the order's owner may read too. The rules are the payment's and the order's (domain.payments,
domain.orders); here each action runs under the locks that keep the amounts exact.

Locks: a new payment locks its order's row; an action on a payment locks the payment's row, then its order's.
Two actions on one payment queue on the payment (the second sees what the first left: two captures racing
for the last authorised amount, one is refused); two payments of one order queue on the order, whose sums
each moves. Cancelling locks the order only and never a payment, so the two orders of locking cannot
deadlock."""

from dataclasses import dataclass
from decimal import Decimal

from application.access import require_admin, require_self_or_admin
from application.errors import Conflict, NotFound, PaymentReferenceReused, PreconditionFailed
from application.order_store import load_order, save_order
from application.ports import Clock, DuplicateKey, StaleVersion, UnitOfWork
from domain.orders import Order
from domain.payments import (
    USD,
    ConfirmRequires,
    Currency,
    Payment,
    PaymentAction,
)
from domain.users import User


@dataclass(frozen=True, slots=True)
class PaymentOptions:
    """The shop's settings for money: its one currency (SHOP_CURRENCY) and what confirming an order needs
    (SHOP_CONFIRM_REQUIRES)."""

    currency: Currency = USD
    confirm_requires: ConfirmRequires = ConfirmRequires.NOTHING


@dataclass(frozen=True, slots=True)
class RecordPayment:
    provider: str
    reference: str
    amount: Decimal
    action: PaymentAction


@dataclass(frozen=True, slots=True)
class RefundPayment:
    amount: Decimal
    reason: str
    reference: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """A payment, and whether this request recorded it (False: a repeat, answered with what it recorded)."""

    payment: Payment
    created: bool


def record_payment(
    order_id: int, cmd: RecordPayment, *, uow: UnitOfWork, actor: User, clock: Clock, currency: Currency
) -> Recorded:
    """A new payment of the order, unless its provider's reference is known: then the same body replays the
    payment (as it is now) and another is refused."""
    require_admin(actor, "record payments")
    amount = currency.amount(cmd.amount)
    with uow:
        order = load_order(uow, order_id, for_update=True)
        known = uow.payments.get_by_reference(cmd.provider, cmd.reference)
        if known is not None:
            first = known.transactions[0]
            if known.order_id != order_id or first.kind.value != cmd.action.value or first.amount != amount:
                raise PaymentReferenceReused("payment", cmd.reference)
            return Recorded(known, created=False)
        order.check_payable()
        now = clock.now()
        payment = Payment.record(
            order_id=order_id,
            provider=cmd.provider,
            reference=cmd.reference,
            amount=amount,
            action=cmd.action,
            currency=currency,
            actor_id=actor.id,
            at=now,
        )
        moved = payment.moved()
        try:
            uow.payments.add(payment)
        except DuplicateKey:  # recorded meanwhile by a request for another order: its repeat replays
            raise Conflict(f"payment reference {cmd.reference!r} was just recorded; retry") from None
        order.take_payment(moved, at=now)
        save_order(uow, order)
        uow.commit()
    return Recorded(payment, created=True)


def capture_payment(
    payment_id: int,
    amount: Decimal | None,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
    currency: Currency,
) -> Payment:
    """Capture `amount` of the authorisation (None: all that is left of it)."""
    require_admin(actor, "capture payments")
    with uow:
        payment, order = _locked(uow, payment_id)
        order.check_payable()
        payment.capture(amount, currency, actor_id=actor.id, at=clock.now())
        _store(uow, payment, order)
        uow.commit()
    return payment


def void_payment(payment_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> Payment:
    require_admin(actor, "void payments")
    with uow:
        payment, order = _locked(uow, payment_id)
        payment.void(actor_id=actor.id, at=clock.now())
        _store(uow, payment, order)
        uow.commit()
    return payment


def refund_payment(
    payment_id: int,
    cmd: RefundPayment,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
    currency: Currency,
) -> Recorded:
    """A refund of part or all of what was captured; a repeat of a refund reference replays (same amount and
    reason) or is refused."""
    require_admin(actor, "refund payments")
    with uow:
        payment, order = _locked(uow, payment_id)
        known = payment.refund_by_reference(cmd.reference)
        if known is not None:
            if known.amount != currency.amount(cmd.amount) or known.reason != cmd.reason:
                raise PaymentReferenceReused("refund", cmd.reference)
            return Recorded(payment, created=False)
        payment.refund(
            cmd.amount,
            currency,
            reason=cmd.reason,
            reference=cmd.reference,
            actor_id=actor.id,
            at=clock.now(),
        )
        _store(uow, payment, order)
        uow.commit()
    return Recorded(payment, created=True)


def list_payments(order_id: int, *, uow: UnitOfWork, actor: User) -> list[Payment]:
    """The order's payments with every transaction: for admins and the order's owner."""
    with uow:
        order = load_order(uow, order_id)
        require_self_or_admin(actor, order.user_id, "order", order_id)
        return uow.payments.for_order(order_id)


def _locked(uow: UnitOfWork, payment_id: int) -> tuple[Payment, Order]:
    """The payment's row, then its order's, locked until commit."""
    payment = uow.payments.get(payment_id, for_update=True)
    if payment is None:
        raise NotFound("payment", payment_id)
    return payment, load_order(uow, payment.order_id, for_update=True)


def _store(uow: UnitOfWork, payment: Payment, order: Order) -> None:
    """The payment's change, and the order's sums moved by as much (both rows locked)."""
    moved = payment.moved()
    try:
        uow.payments.save(payment)
    except StaleVersion as stale:
        raise PreconditionFailed("payment", payment.id, stale.current_version) from None
    except DuplicateKey:
        raise Conflict("a refund of this reference was just recorded; retry") from None
    order.take_payment(moved, at=payment.updated_at)
    save_order(uow, order)
