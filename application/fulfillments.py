"""Use cases for fulfilments (docs/api.md#fulfilments): an admin records what left the shop, or cancels it;
the order's owner may read them. The rules are the order's and the fulfilment's (domain.orders,
domain.fulfillments); here each change runs under the order's row lock, which keeps its lines exact.

Locks: a new fulfilment locks its order's row; a cancellation locks the fulfilment's row, then its order's
(as a payment action does). Two fulfilments of one order queue on the order: two racing for the last
unshipped units of a line, the second sees what the first left and is refused."""

from dataclasses import dataclass

from application.access import require_admin, require_self_or_admin
from application.errors import NotFound, PreconditionFailed
from application.order_store import load_order, save_order
from application.ports import Clock, StaleVersion, UnitOfWork
from domain.fulfillments import Fulfillment, Tracking
from domain.orders import Order
from domain.users import User


@dataclass(frozen=True, slots=True)
class CreateFulfillment:
    lines: tuple[tuple[int, int], ...]  # (order line id, quantity)
    tracking: Tracking = Tracking()


def create_fulfillment(
    order_id: int, cmd: CreateFulfillment, *, uow: UnitOfWork, actor: User, clock: Clock
) -> Fulfillment:
    require_admin(actor, "record fulfillments")
    with uow:
        order = load_order(uow, order_id, for_update=True)
        fulfillment = Fulfillment.create(order, cmd.lines, cmd.tracking, actor_id=actor.id, at=clock.now())
        uow.fulfillments.add(fulfillment)
        fulfillment.ship(order)
        save_order(uow, order)
        uow.commit()
    return fulfillment


def ship_the_rest(uow: UnitOfWork, order: Order, *, actor: User, clock: Clock) -> Fulfillment:
    """A manual status change to shipped (the order locked by the caller): one fulfilment of every unit
    left unshipped, whose history entries carry no reason, as the change's own would not."""
    fulfillment = Fulfillment.of_the_rest(order, actor_id=actor.id, at=clock.now())
    uow.fulfillments.add(fulfillment)
    fulfillment.ship(order, announce=False)
    save_order(uow, order)
    return fulfillment


def list_fulfillments(order_id: int, *, uow: UnitOfWork, actor: User) -> list[Fulfillment]:
    """The order's fulfilments, oldest first, cancelled ones too: admins and the order's owner."""
    with uow:
        order = load_order(uow, order_id)
        require_self_or_admin(actor, order.user_id, "order", order_id)
        return uow.fulfillments.for_order(order_id)


def get_fulfillment(fulfillment_id: int, *, uow: UnitOfWork, actor: User) -> Fulfillment:
    """Admins and the order's owner; another customer's is not found."""
    with uow:
        fulfillment = _fulfillment(uow, fulfillment_id)
        order = uow.orders.get(fulfillment.order_id)
        assert order is not None  # orders are never deleted
        require_self_or_admin(actor, order.user_id, "fulfillment", fulfillment_id)
        return fulfillment


def cancel_fulfillment(fulfillment_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> Fulfillment:
    """Its units back to unshipped; a cancelled one is answered as it is (nothing changes)."""
    require_admin(actor, "cancel fulfillments")
    with uow:
        fulfillment = _fulfillment(uow, fulfillment_id, for_update=True)
        order = load_order(uow, fulfillment.order_id, for_update=True)
        if not fulfillment.cancel(order, actor_id=actor.id, at=clock.now()):
            return fulfillment
        try:
            uow.fulfillments.save(fulfillment)
        except StaleVersion as stale:
            raise PreconditionFailed("fulfillment", fulfillment.id, stale.current_version) from None
        save_order(uow, order)
        uow.commit()
    return fulfillment


def _fulfillment(uow: UnitOfWork, fulfillment_id: int, *, for_update: bool = False) -> Fulfillment:
    fulfillment = uow.fulfillments.get(fulfillment_id, for_update=for_update)
    if fulfillment is None:
        raise NotFound("fulfillment", fulfillment_id)
    return fulfillment
