"""All 36 (from, to) status pairs: legal ones move and record, the rest raise and change nothing."""

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.errors import IllegalStatusChange
from domain.events import EventType
from domain.orders import Order, OrderStatus
from domain.users import User

LEGAL = {
    ("pending", "confirmed"),
    ("pending", "cancelled"),
    ("confirmed", "processing"),
    ("confirmed", "cancelled"),
    ("processing", "shipped"),
    ("processing", "cancelled"),
    ("shipped", "delivered"),
}
AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PAIRS = list(itertools.product(OrderStatus, OrderStatus))
BOSS = User("boss@shop.test", "Boss", "h", AT, AT, is_admin=True, id=3)


def order_in(status: OrderStatus) -> Order:
    start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    return Order("ORD-20261122-AAAA", 1, status, Decimal("1.00"), start, start, id=7)


def move(order: Order, to_status: OrderStatus) -> None:
    """Cancelling gives stock back (none here: no lines), by an admin, whom the status rules alone bind."""
    if to_status is OrderStatus.CANCELLED:
        order.cancel({}, by=BOSS, at=AT)
    else:
        order.change_status(to_status, actor_id=3, at=AT)


def test_there_are_36_pairs() -> None:
    assert len(PAIRS) == 36


@pytest.mark.parametrize(("from_status", "to_status"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_status_change(from_status: OrderStatus, to_status: OrderStatus) -> None:
    order = order_in(from_status)
    if (from_status.value, to_status.value) in LEGAL:
        move(order, to_status)
        assert order.status is to_status
        assert order.version == 2
        assert order.updated_at == AT
        [change] = order.new_status_changes
        assert (change.from_status, change.to_status, change.actor_id, change.at) == (
            from_status,
            to_status,
            3,
            AT,
        )
        [event] = order.take_events()
        cancelled = to_status is OrderStatus.CANCELLED
        kind = EventType.ORDER_CANCELLED if cancelled else EventType.ORDER_STATUS_CHANGED
        assert (event.type, event.subject, event.at, event.actor_id) == (kind, order, AT, 3)
    else:
        with pytest.raises(IllegalStatusChange) as raised:
            move(order, to_status)
        assert f"'{from_status.value}'" in str(raised.value)
        assert f"'{to_status.value}'" in str(raised.value)
        assert order.status is from_status
        assert order.version == 1
        assert order.new_status_changes == []
        assert order.domain_events == []
