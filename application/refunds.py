"""Use cases for refunds of an order (issue 28): of an accepted return (its proposal, plus an extra amount),
or without one (a goodwill gesture, with its reason). The money is drawn from the order's captured payments,
oldest first, through each payment's own rule (domain.refunds, Payment.refund); the order's sums move as with
any payment action, so its payment_status follows and the kept revenue sees it.

Locks: as every payment action, payments before their order: the order's payments (in id order), then the
order's row, then the return's; never the other way round, so a refund cannot deadlock with a capture or a
payment refund (payment, then order) nor with a return (order, then return)."""

from dataclasses import dataclass
from decimal import Decimal

from application.access import require_admin, require_self_or_admin
from application.errors import Conflict, NotFound, PaymentReferenceReused, PreconditionFailed
from application.order_store import load_order, save_order
from application.ports import Clock, DuplicateKey, StaleVersion, UnitOfWork
from application.returns import save_return
from domain.orders import Order
from domain.payments import Currency, Payment
from domain.refunds import OrderRefund, refund_order
from domain.users import User


@dataclass(frozen=True, slots=True)
class RefundReturn:
    reference: str
    extra: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RefundOrder:
    amount: Decimal
    reason: str
    reference: str


@dataclass(frozen=True, slots=True)
class Refunded:
    """A refund, and whether this request recorded it (False: a repeat, answered with the first)."""

    refund: OrderRefund
    created: bool


def refund_return(
    return_id: int, cmd: RefundReturn, *, uow: UnitOfWork, actor: User, clock: Clock, currency: Currency
) -> Refunded:
    """Once per return: a repeat with the same reference replays the refund; another reference is refused."""
    require_admin(actor, "refund returns")
    extra = currency.amount(cmd.extra) if cmd.extra is not None else None
    with uow:
        found = uow.returns.get(return_id)
        if found is None:
            raise NotFound("return", return_id)
        payments, order = _locked(uow, found.order_id)
        ret = uow.returns.get(return_id, for_update=True)
        assert ret is not None  # returns are never deleted
        refunds = uow.refunds.for_order(found.order_id)
        known = next((r for r in refunds if r.return_id == ret.id), None)
        if known is not None and known.reference == cmd.reference:
            return Refunded(known, created=False)
        if known is None:
            _check_reference(refunds, payments, cmd.reference)
        now = clock.now()
        amount = ret.refund(extra, reference=known.reference if known else None, at=now)
        refund = refund_order(
            order,
            payments,
            amount,
            currency,
            reason=f"return {ret.id}",
            reference=cmd.reference,
            actor_id=actor.id,
            at=now,
            return_id=ret.id,
        )
        save_return(uow, ret)
        _store(uow, payments, order, refund)
        uow.commit()
    return Refunded(refund, created=True)


def refund_goodwill(
    order_id: int, cmd: RefundOrder, *, uow: UnitOfWork, actor: User, clock: Clock, currency: Currency
) -> Refunded:
    """A refund without a return; a repeat of its reference with the same amount and reason replays it."""
    require_admin(actor, "refund orders")
    with uow:
        payments, order = _locked(uow, order_id)
        refunds = uow.refunds.for_order(order_id)
        known = next((r for r in refunds if r.reference == cmd.reference), None)
        if known is not None:
            same = (known.return_id, known.amount, known.reason) == (None, cmd.amount, cmd.reason)
            if not same:
                raise PaymentReferenceReused("refund", cmd.reference)
            return Refunded(known, created=False)
        _check_reference(refunds, payments, cmd.reference)
        refund = refund_order(
            order,
            payments,
            cmd.amount,
            currency,
            reason=cmd.reason,
            reference=cmd.reference,
            actor_id=actor.id,
            at=clock.now(),
        )
        _store(uow, payments, order, refund)
        uow.commit()
    return Refunded(refund, created=True)


def list_refunds(order_id: int, *, uow: UnitOfWork, actor: User) -> list[OrderRefund]:
    """The order's refunds, oldest first: admins and the order's owner."""
    with uow:
        order = load_order(uow, order_id)
        require_self_or_admin(actor, order.user_id, "order", order_id)
        return uow.refunds.for_order(order_id)


def _locked(uow: UnitOfWork, order_id: int) -> tuple[list[Payment], Order]:
    """The order's payments (in id order), then its row, locked until commit."""
    payments = uow.payments.for_order(order_id, for_update=True)
    return payments, load_order(uow, order_id, for_update=True)


def _check_reference(refunds: list[OrderRefund], payments: list[Payment], reference: str) -> None:
    """A new refund's reference is new to the order's refunds and to its payments' refunds."""
    used = any(r.reference == reference for r in refunds)
    if used or any(p.refund_by_reference(reference) is not None for p in payments):
        raise PaymentReferenceReused("refund", reference)


def _store(uow: UnitOfWork, payments: list[Payment], order: Order, refund: OrderRefund) -> None:
    """The payments drawn, the order's sums (moved in `refund_order`) and the refund itself."""
    taken = f"a refund of reference {refund.reference!r} was just recorded; retry"
    for payment in payments:
        if payment.new_transactions:
            try:
                uow.payments.save(payment)
            except StaleVersion as stale:
                raise PreconditionFailed("payment", payment.id, stale.current_version) from None
            except DuplicateKey:
                raise Conflict(taken) from None
    save_order(uow, order)
    try:
        uow.refunds.add(refund)
    except DuplicateKey:
        raise Conflict(taken) from None
