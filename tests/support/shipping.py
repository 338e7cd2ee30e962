"""Shipping an order in tests, until fulfilments (issue 28's other half) ship through the service: one
function every test calls, whose body the merge swaps for the fulfilment use case."""

from collections.abc import Callable
from datetime import UTC, datetime

from application.ports import UnitOfWork
from domain.orders import OrderStatus

SHIPPED_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # the fixed clock's and the contract suite's T0
_ON_THE_WAY = (OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED)


def ship_all(uow: UnitOfWork | Callable[[], UnitOfWork], order_id: int, *, at: datetime = SHIPPED_AT) -> None:
    """Through the domain and the repository: the order moves on to shipped (confirmed, processing, shipped,
    from wherever it is) and every line counts all its units as shipped."""
    unit = uow() if callable(uow) else uow
    with unit:
        order = unit.orders.get(order_id, for_update=True)
        assert order is not None
        ahead = (
            _ON_THE_WAY[_ON_THE_WAY.index(order.status) + 1 :] if order.status in _ON_THE_WAY else _ON_THE_WAY
        )
        for status in ahead:
            order.change_status(status, actor_id=None, at=at)
            unit.orders.save(order)
        for line in order.lines:
            line.quantity_shipped = line.quantity
            order.changed_lines.append(line)
        order.version += 1
        order.updated_at = at
        unit.orders.save(order)
        unit.commit()
