"""Use cases for orders: placing (stock taken in the same transaction), reading, status changes."""

import logging
import secrets
import string
from dataclasses import dataclass, replace
from datetime import timedelta

from application import fulfillments
from application.access import require_admin, require_may_order_for, require_self_or_admin
from application.addresses import AddressChoice, resolve
from application.auth import as_caller
from application.errors import PreconditionFailed, UnknownReference
from application.lists import OrderFilter, Page, Window
from application.order_store import load_order, save_order
from application.ports import (
    NO_COUNTERS,
    BusinessEvent,
    Clock,
    Counters,
    OrderStats,
    TokenClaims,
    UnitOfWork,
)
from domain.orders import FulfillmentStatus, Order, OrderStatus, StatusChange, order_number
from domain.payment_errors import PaymentOutstanding
from domain.payments import ConfirmRequires
from domain.users import User

log = logging.getLogger(__name__)

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
    shipping_address: AddressChoice | None = None
    billing_address: AddressChoice | None = None  # None: the shipping address


def place_order(
    cmd: PlaceOrder,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
    idempotency_key: str | None = None,
    counters: Counters = NO_COUNTERS,
) -> Order:
    """Price the lines, take the stock and store the order in one transaction; on any error, nothing moves."""
    assert actor.id is not None
    buyer_id = cmd.user_id if cmd.user_id is not None else actor.id
    require_may_order_for(actor, buyer_id)
    now = clock.now()
    with uow:
        # The actor was read in this transaction (see `as_caller`): no second read when buying for oneself.
        buyer = actor if buyer_id == actor.id else uow.users.get(buyer_id)
        if buyer is None:
            raise UnknownReference("user", buyer_id)
        # Inline: no statement; from the buyer's book: one read, before any row is locked.
        shipping = resolve(uow, buyer_id, cmd.shipping_address)
        billing = resolve(uow, buyer_id, cmd.billing_address)
        # Locked (in id order) until commit, so the stock the products check is the stock they give.
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
            shipping_address=shipping,
            billing_address=billing,
        )
        uow.orders.add(order)
        uow.products.move_stock(order.movements())
        if idempotency_key is not None:
            assert order.id is not None
            uow.idempotency.complete(actor.id, idempotency_key, order.id)
        uow.commit()
    counters.count(BusinessEvent.ORDER_PLACED)
    return order


def place_order_as_caller(
    uow: UnitOfWork,
    cmd: PlaceOrder,
    claims: TokenClaims,
    *,
    clock: Clock,
    idempotency_key: str | None = None,
    counters: Counters = NO_COUNTERS,
) -> Order:
    """`place_order` for the caller of a request, identified in the same unit (`as_caller`; run by a
    `UnitOfWorkRunner`, hence `uow` first), announced first so that the adapter may read the caller and
    lock the products in one round trip."""
    with uow:
        uow.orders.expect_placement([item.product_id for item in cmd.items])

        def place(uow: UnitOfWork, actor: User | None) -> Order:
            assert actor is not None  # as_caller finds the user the claims name, or raises
            return place_order(
                cmd, uow=uow, actor=actor, clock=clock, idempotency_key=idempotency_key, counters=counters
            )

        return as_caller(uow, claims, place)


def get_order(order_id: int, *, uow: UnitOfWork, actor: User) -> Order:
    with uow:
        return _load_visible(uow, actor, order_id)


def list_orders(filters: OrderFilter, window: Window, *, uow: UnitOfWork, actor: User) -> Page[Order]:
    """Customers always see only their own orders, whatever `user_id` they pass."""
    if not actor.is_admin:
        filters = replace(filters, user_id=actor.id)
    with uow:
        return uow.orders.list(filters, window)


def order_events(order_id: int, *, uow: UnitOfWork, actor: User) -> list[StatusChange]:
    """The order's status history (GET /orders/{id}/events), oldest first."""
    with uow:
        _load_visible(uow, actor, order_id)
        return uow.orders.status_history(order_id)


def change_order_status(
    order_id: int,
    to_status: OrderStatus,
    expected_version: int | None = None,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
    counters: Counters = NO_COUNTERS,
    confirm_requires: ConfirmRequires = ConfirmRequires.NOTHING,
) -> Order:
    """`confirm_requires`: what money confirming needs (SHOP_CONFIRM_REQUIRES), the order's to check."""
    require_admin(actor, "change an order's status")
    with uow:
        order = load_order(uow, order_id, for_update=True)
        if expected_version is not None and expected_version != order.version:
            raise PreconditionFailed("order", order_id, order.version)
        cancelling = to_status is OrderStatus.CANCELLED
        if cancelling:
            _cancel(uow, order, actor, clock)
        elif to_status is OrderStatus.SHIPPED and order.fulfillment_status is not FulfillmentStatus.FULFILLED:
            # `shipped` means every unit shipped: what is left ships as one fulfilment (domain.fulfillments).
            fulfillments.ship_the_rest(uow, order, actor=actor, clock=clock)
        else:
            order.change_status(to_status, actor_id=actor.id, at=clock.now(), requires=confirm_requires)
            save_order(uow, order)
        uow.commit()
    counters.count(BusinessEvent.ORDER_STATUS_CHANGED)
    if cancelling:
        counters.count(BusinessEvent.ORDER_CANCELLED)
    return order


def change_shipping_address(
    order_id: int,
    choice: AddressChoice,
    expected_version: int | None = None,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
) -> Order:
    """Its owner or an admin, while the order is pending or confirmed; an entry of the order's buyer's
    book, or an address given inline. Recorded in the order's history; no domain event."""
    with uow:
        order = _load_visible(uow, actor, order_id, for_update=True)
        if expected_version is not None and expected_version != order.version:
            raise PreconditionFailed("order", order_id, order.version)
        address = resolve(uow, order.user_id, choice)
        assert address is not None  # a choice is never None
        order.change_shipping_address(address, actor_id=actor.id, at=clock.now())
        save_order(uow, order)
        uow.commit()
    return order


def cancel_order(
    order_id: int, *, uow: UnitOfWork, actor: User, clock: Clock, counters: Counters = NO_COUNTERS
) -> Order:
    """Cancel and put the stock back, once: DELETE is idempotent, so cancelling a cancelled order changes
    nothing (where PATCH .../status to cancelled is refused as any illegal move)."""
    with uow:
        order = _load_visible(uow, actor, order_id, for_update=True)
        if order.status is OrderStatus.CANCELLED:
            return order
        _cancel(uow, order, actor, clock)
        uow.commit()
    counters.count(BusinessEvent.ORDER_CANCELLED)
    return order


def order_stats(*, uow: UnitOfWork, actor: User) -> OrderStats:
    require_admin(actor, "see order statistics")
    with uow:
        return uow.orders.stats()


def expire_pending_orders(
    ttl: timedelta, *, uow: UnitOfWork, clock: Clock, batch: int = 100, counters: Counters = NO_COUNTERS
) -> int:
    """Cancel one batch of pending orders older than `ttl`, giving their stock back; return how many.
    Orders a customer or an admin holds at this moment are skipped (and left to them, or to the next
    pass), so a cancel or a confirm racing the expiry finds the order either untouched or expired. Orders
    that hold money are not expired (the storage leaves them out; one the order itself still refuses is
    skipped and logged): their payments are settled first."""
    now = clock.now()
    expired = 0
    with uow:
        expiring = uow.orders.pending_before(now - ttl, batch)
        ids = sorted({line.product_id for order in expiring for line in order.lines})
        products = uow.products.get_many(ids, for_update=True)
        for order in expiring:  # each order's events say what its own stock move left
            try:
                order.expire(products, at=now)
            except PaymentOutstanding as held:
                log.warning("not expiring order %s: %s", order.id, held)
                continue
            save_order(uow, order)  # before its stock move, as _cancel does
            uow.products.move_stock(order.movements())
            expired += 1
        uow.commit()
    for _ in range(expired):
        counters.count(BusinessEvent.ORDER_EXPIRED)
    return expired


def _cancel(uow: UnitOfWork, order: Order, actor: User, clock: Clock) -> None:
    """The one way an order is cancelled: the order decides whether `actor` may and what goes back, the
    products take it."""
    products = uow.products.get_many(order.product_ids(), for_update=True)
    order.cancel(products, by=actor, at=clock.now())
    # The order's kept totals before the products' (both rows that triggers update and lock until commit),
    # as placing an order takes them: the other way round, the two could deadlock.
    save_order(uow, order)
    uow.products.move_stock(order.movements())


def _new_suffix() -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))


def _load_visible(uow: UnitOfWork, actor: User, order_id: int, *, for_update: bool = False) -> Order:
    order = load_order(uow, order_id, for_update=for_update)
    require_self_or_admin(actor, order.user_id, "order", order_id)
    return order
