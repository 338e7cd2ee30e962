"""Use cases for returns (issue 28): a customer requests one on their own shipped (or recently delivered)
order, an admin records one accepted at once, or accepts or rejects a request. The rules are the return's
and the order's (domain.returns, Order.receive_return); here each runs under the locks that keep the
quantities exact.

Locks: the order is the consistency boundary. Every change locks the order's row first (so two returns of
one order run one after the other, and the second sees what the first left), then the return's, then the
products it restocks in id order: as a cancellation does (order, then products), so the two cannot
deadlock, nor with placement (which locks products and creates its order)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from application.access import require_admin, require_self_or_admin
from application.errors import Forbidden, NotFound, PreconditionFailed
from application.order_store import load_order, save_order
from application.ports import Clock, StaleVersion, UnitOfWork
from domain.orders import Order, OrderStatus
from domain.payments import Currency
from domain.returns import Return, ReturnItem, check_items, check_window
from domain.users import User


@dataclass(frozen=True, slots=True)
class CreateReturn:
    items: tuple[ReturnItem, ...]
    refund_extra: Decimal | None = None  # an admin's only


def create_return(
    order_id: int,
    cmd: CreateReturn,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
    window: timedelta,
    currency: Currency,
) -> Return:
    """An admin's return is accepted at once (its units back on the lines, restocked where asked); a
    customer's is a request on their own order, within the return window (SHOP_RETURN_WINDOW)."""
    check_items(cmd.items, cmd.refund_extra)
    extra = None
    if cmd.refund_extra is not None:
        if not actor.is_admin:
            raise Forbidden("only admins may add an extra amount to a return's refund")
        extra = currency.amount(cmd.refund_extra)
    with uow:
        order = load_order(uow, order_id, for_update=True)
        require_self_or_admin(actor, order.user_id, "order", order_id)
        now = clock.now()
        if not actor.is_admin:
            check_window(order, _delivered_at(uow, order), window, now)
        others = uow.returns.for_order(order_id)
        ret = Return.open(order, cmd.items, others=others, by=actor, at=now, refund_extra=extra)
        if actor.is_admin:
            products = uow.products.get_many(ret.product_ids(), for_update=True)
            ret.accept(order, products, by=actor, at=now)
        uow.returns.add(ret)
        if actor.is_admin:
            save_order(uow, order)
            uow.products.move_stock(ret.movements())
        uow.commit()
    return ret


def accept_return(return_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> Return:
    require_admin(actor, "accept returns")
    with uow:
        ret, order = _locked(uow, return_id)
        products = uow.products.get_many(ret.product_ids(), for_update=True)
        ret.accept(order, products, by=actor, at=clock.now())
        save_return(uow, ret)
        save_order(uow, order)
        uow.products.move_stock(ret.movements())
        uow.commit()
    return ret


def reject_return(return_id: int, reason: str, *, uow: UnitOfWork, actor: User, clock: Clock) -> Return:
    require_admin(actor, "reject returns")
    with uow:
        ret, _ = _locked(uow, return_id)
        ret.reject(reason, by=actor, at=clock.now())
        save_return(uow, ret)
        uow.commit()
    return ret


def list_returns(order_id: int, *, uow: UnitOfWork, actor: User) -> list[Return]:
    """The order's returns, oldest first: admins and the order's owner."""
    with uow:
        order = load_order(uow, order_id)
        require_self_or_admin(actor, order.user_id, "order", order_id)
        return uow.returns.for_order(order_id)


def get_return(return_id: int, *, uow: UnitOfWork, actor: User) -> Return:
    """Admins and the order's owner (to anyone else it does not exist)."""
    with uow:
        ret = uow.returns.get(return_id)
        order = uow.orders.get(ret.order_id) if ret is not None else None
        if ret is None or order is None:
            raise NotFound("return", return_id)
        require_self_or_admin(actor, order.user_id, "return", return_id)
        return ret


def save_return(uow: UnitOfWork, ret: Return) -> None:
    try:
        uow.returns.save(ret)
    except StaleVersion as stale:
        raise PreconditionFailed("return", ret.id, stale.current_version) from None


def _delivered_at(uow: UnitOfWork, order: Order) -> datetime | None:
    """When the order last moved to delivered (its status history), if it is delivered."""
    if order.status is not OrderStatus.DELIVERED:
        return None
    assert order.id is not None
    moves = [c.at for c in uow.orders.status_history(order.id) if c.to_status is OrderStatus.DELIVERED]
    return moves[-1] if moves else None


def _locked(uow: UnitOfWork, return_id: int) -> tuple[Return, Order]:
    """Its order's row, then its own, locked until commit."""
    found = uow.returns.get(return_id)
    if found is None:
        raise NotFound("return", return_id)
    order = load_order(uow, found.order_id, for_update=True)
    ret = uow.returns.get(return_id, for_update=True)
    assert ret is not None  # returns are never deleted
    return ret, order
