"""Shipping an order in tests: one function every returns test calls, through the service's own path (a
status change to shipped ships every unit left as one fulfilment, application.orders.change_order_status),
so what they return was shipped the way the service ships."""

from collections.abc import Callable
from datetime import UTC, datetime

from application.orders import change_order_status
from application.ports import UnitOfWork
from domain.orders import OrderStatus
from domain.users import User
from tests.doubles.clock import FixedClock

SHIPPED_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # the fixed clock's and the contract suite's T0
_ON_THE_WAY = (OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED)


def _shipper(at: datetime) -> User:
    """An admin known to no table: the history names nobody (actor_id None), as for a job's moves."""
    return User.create(email="shipper@shop.test", name="Shipper", password_hash="-", at=at, is_admin=True)


def ship_all(uow: UnitOfWork | Callable[[], UnitOfWork], order_id: int, *, at: datetime = SHIPPED_AT) -> None:
    """The order moves on to shipped (confirmed, processing, shipped, from wherever it is on that way), the
    last move shipping every unit left."""
    unit = uow if callable(uow) else (lambda: uow)
    with unit() as current:
        order = current.orders.get(order_id)
    assert order is not None
    ahead = _ON_THE_WAY[_ON_THE_WAY.index(order.status) + 1 :] if order.status in _ON_THE_WAY else _ON_THE_WAY
    for status in ahead:
        change_order_status(order_id, status, uow=unit(), actor=_shipper(at), clock=FixedClock(at))
