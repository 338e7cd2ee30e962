"""Use cases for orders: placing (stock taken in the same transaction), reading, status changes."""

import secrets
import string
from dataclasses import dataclass, replace

from application.access import require_admin, require_self_or_admin
from application.errors import Forbidden, NotFound, PreconditionFailed, UnknownReference
from application.ports import Clock, OrderFilter, OrderStats, Page, StaleVersion, UnitOfWork
from domain.orders import Order, OrderStatus, StatusEvent, order_number
from domain.users import User

_SUFFIX_ALPHABET = string.ascii_uppercase + string.digits
_SUFFIX_LENGTH = 10  # 36**10 values: collisions are negligible even at millions of orders a day


@dataclass(frozen=True, slots=True)
class OrderItem:
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    items: tuple[OrderItem, ...]
    user_id: int | None = None


def place_order(
    uow: UnitOfWork, clock: Clock, actor: User, cmd: PlaceOrder, idempotency_key: str | None = None
) -> Order:
    """Price the lines, take the stock and store the order in one transaction; on any error, nothing moves."""
    assert actor.id is not None
    buyer_id = cmd.user_id if cmd.user_id is not None else actor.id
    if buyer_id != actor.id and not actor.is_admin:
        raise Forbidden("only admins may place orders for another user")
    now = clock.now()
    with uow:
        # The actor was read in this transaction (see `as_caller`): no second read when buying for oneself.
        buyer = actor if buyer_id == actor.id else uow.users.get(buyer_id)
        if buyer is None:
            raise UnknownReference("user", buyer_id)
        # Locked (in id order) until commit, so the stock the domain checks is the stock we take.
        products = uow.products.get_many([item.product_id for item in cmd.items], for_update=True)
        missing = [item.product_id for item in cmd.items if item.product_id not in products]
        if missing:
            raise UnknownReference("product", missing[0])
        order = Order.place(
            number=order_number(now, _new_suffix()),
            buyer=buyer,
            items=[(products[item.product_id], item.quantity) for item in cmd.items],
            actor_id=actor.id,
            at=now,
        )
        uow.products.take_stock(order.quantities())
        uow.orders.add(order)
        if idempotency_key is not None:
            assert order.id is not None
            uow.idempotency.complete(actor.id, idempotency_key, order.id)
        uow.commit()
    return order


def get_order(uow: UnitOfWork, actor: User, order_id: int) -> Order:
    with uow:
        return _load_visible(uow, actor, order_id)


def list_orders(uow: UnitOfWork, actor: User, filters: OrderFilter, limit: int, offset: int) -> Page[Order]:
    """Customers always see only their own orders, whatever `user_id` they pass."""
    if not actor.is_admin:
        filters = replace(filters, user_id=actor.id)
    with uow:
        return uow.orders.list(filters, limit, offset)


def order_events(uow: UnitOfWork, actor: User, order_id: int) -> list[StatusEvent]:
    with uow:
        _load_visible(uow, actor, order_id)
        return uow.orders.events(order_id)


def change_order_status(
    uow: UnitOfWork,
    clock: Clock,
    actor: User,
    order_id: int,
    to_status: OrderStatus,
    expected_version: int | None = None,
) -> Order:
    require_admin(actor, "change an order's status")
    with uow:
        order = _load(uow, order_id, for_update=True)
        if expected_version is not None and expected_version != order.version:
            raise PreconditionFailed("order", order_id, order.version)
        order.change_status(to_status, actor_id=actor.id, at=clock.now())
        if to_status is OrderStatus.CANCELLED:
            uow.products.return_stock(order.quantities())
        _save(uow, order)
        uow.commit()
    return order


def cancel_order(uow: UnitOfWork, clock: Clock, actor: User, order_id: int) -> Order:
    """Cancel and put the stock back, once; cancelling a cancelled order changes nothing."""
    assert actor.id is not None
    with uow:
        order = _load_visible(uow, actor, order_id, for_update=True)
        if order.cancel(actor_id=actor.id, by_admin=actor.is_admin, at=clock.now()):
            uow.products.return_stock(order.quantities())
            _save(uow, order)
            uow.commit()
    return order


def order_stats(uow: UnitOfWork, actor: User) -> OrderStats:
    require_admin(actor, "see order statistics")
    with uow:
        return uow.orders.stats()


def _new_suffix() -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))


def _load(uow: UnitOfWork, order_id: int, *, for_update: bool = False) -> Order:
    order = uow.orders.get(order_id, for_update=for_update)
    if order is None:
        raise NotFound("order", order_id)
    return order


def _load_visible(uow: UnitOfWork, actor: User, order_id: int, *, for_update: bool = False) -> Order:
    order = _load(uow, order_id, for_update=for_update)
    require_self_or_admin(actor, order.user_id, "order", order_id)
    return order


def _save(uow: UnitOfWork, order: Order) -> None:
    try:
        uow.orders.save(order)
    except StaleVersion as stale:
        raise PreconditionFailed("order", order.id, stale.current_version) from None
