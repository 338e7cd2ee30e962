"""Loading and storing an order inside a use case, the one way every use case that changes an order does it:
a missing order is NotFound (404), a version another request moved meanwhile PreconditionFailed (412)."""

from application.errors import NotFound, PreconditionFailed
from application.ports import StaleVersion, UnitOfWork
from domain.orders import Order


def load_order(uow: UnitOfWork, order_id: int, *, for_update: bool = False) -> Order:
    order = uow.orders.get(order_id, for_update=for_update)
    if order is None:
        raise NotFound("order", order_id)
    return order


def save_order(uow: UnitOfWork, order: Order) -> None:
    try:
        uow.orders.save(order)
    except StaleVersion as stale:
        raise PreconditionFailed("order", order.id, stale.current_version) from None
