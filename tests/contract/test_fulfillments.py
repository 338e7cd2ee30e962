"""The fulfilment repository, the same on the fake, SQLite and PostgreSQL: what goes in comes out (lines,
tracking, cancellation), versions are checked, an order's list is oldest first, and a fulfilment moves its
order's lines and status in the same transaction, with its events in the outbox."""

from dataclasses import replace

import pytest

from application.fulfillments import CreateFulfillment, cancel_fulfillment, create_fulfillment
from application.lists import EventFilter
from application.orders import change_order_status
from application.ports import StaleVersion
from domain.addresses import Address
from domain.events import EventType, ResourceType
from domain.fulfillment_errors import FulfillmentLimit
from domain.fulfillments import Fulfillment, FulfillmentLine, FulfillmentState, Tracking
from domain.orders import FulfillmentStatus, Order, OrderStatus
from domain.users import User
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_product, add_user
from tests.doubles.clock import FixedClock

CLOCK = FixedClock(T0)
NONE = Tracking()
HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")


@pytest.fixture
def shop(make_uow: MakeUow) -> tuple[User, Order]:
    """A confirmed order of 3 x P-1 and 2 x P-2 with a shipping address."""
    admin = add_user(make_uow, "admin@shop.test", is_admin=True)
    ann = add_user(make_uow, "ann@shop.test")
    items = [(add_product(make_uow, "P-1"), 3), (add_product(make_uow, "P-2"), 2)]
    order = Order.place(number="ORD-20261122-F1", buyer=ann, items=items, actor_id=ann.id, at=T0,
                        shipping_address=HOME)  # fmt: skip
    with make_uow() as uow:
        uow.orders.add(order)
        uow.commit()
    with make_uow() as uow:
        change_order_status(order.id, OrderStatus.CONFIRMED, uow=uow, actor=admin, clock=CLOCK)
    return admin, order


def fulfil(
    make_uow: MakeUow, admin: User, order: Order, *lines: tuple[int, int], tracking=NONE
) -> Fulfillment:
    with make_uow() as uow:
        return create_fulfillment(
            order.id, CreateFulfillment(lines, tracking), uow=uow, actor=admin, clock=CLOCK
        )


def stored(make_uow: MakeUow, order: Order) -> Order:
    with make_uow() as uow:
        return uow.orders.get(order.id)


def test_a_fulfilment_round_trips_and_moves_its_order(make_uow: MakeUow, shop) -> None:
    admin, order = shop
    l1, l2 = (line.id for line in order.lines)
    tracking = Tracking("DHL", "JD014600", "https://dhl.test/t?JD014600")
    first = fulfil(make_uow, admin, order, (l2, 1), (l1, 2), tracking=tracking)
    with make_uow() as uow:
        got = uow.fulfillments.get(first.id)
    assert got is not None and got.id == first.id
    assert (got.order_id, got.lines) == (order.id, [FulfillmentLine(l2, 1), FulfillmentLine(l1, 2)])
    assert (got.carrier, got.tracking_number, got.tracking_url) == (
        "DHL", "JD014600", "https://dhl.test/t?JD014600",
    )  # fmt: skip
    assert (got.status, got.version, got.created_by, got.created_at, got.updated_at) == (
        FulfillmentState.FULFILLED, 1, admin.id, T0, T0,
    )  # fmt: skip
    assert (got.cancelled_at, got.cancelled_by) == (None, None)
    now = stored(make_uow, order)
    assert [line.quantity_shipped for line in now.lines] == [2, 1]
    assert (now.status, now.fulfillment_status, now.version) == (
        OrderStatus.PROCESSING, FulfillmentStatus.PARTIALLY_FULFILLED, order.version + 2,
    )  # fmt: skip
    second = fulfil(make_uow, admin, order, (l1, 1), (l2, 1))
    now = stored(make_uow, order)
    assert (now.status, now.fulfillment_status) == (OrderStatus.SHIPPED, FulfillmentStatus.FULFILLED)
    with make_uow() as uow:
        assert [f.id for f in uow.fulfillments.for_order(order.id)] == [first.id, second.id]
        assert [f.lines for f in uow.fulfillments.for_order(order.id)] == [got.lines, second.lines]
        assert uow.fulfillments.for_order(order.id + 100) == []
        assert uow.fulfillments.get(second.id + 100) is None
        history = uow.orders.status_history(order.id)
        events = uow.events.feed(EventFilter(resource_type=ResourceType.FULFILLMENT), None, 100)
    assert [(c.from_status, c.to_status, c.reason) for c in history[-2:]] == [
        (OrderStatus.CONFIRMED, OrderStatus.PROCESSING, f"fulfillment {first.id}"),
        (OrderStatus.PROCESSING, OrderStatus.SHIPPED, f"fulfillment {second.id}"),
    ]
    assert [(e.type, e.resource_id, e.sequence) for e in events] == [
        (EventType.FULFILLMENT_CREATED, first.id, 1),
        (EventType.FULFILLMENT_CREATED, second.id, 1),
    ]
    assert events[0].payload["lines"] == [
        {"order_line_id": l2, "quantity": 1}, {"order_line_id": l1, "quantity": 2},
    ]  # fmt: skip


def test_cancelling_stores_it_and_gives_the_units_back(make_uow: MakeUow, shop) -> None:
    admin, order = shop
    l1, l2 = (line.id for line in order.lines)
    fulfillment = fulfil(make_uow, admin, order, (l1, 3), (l2, 2))
    later = FixedClock(T0.replace(hour=12))
    with make_uow() as uow:
        cancel_fulfillment(fulfillment.id, uow=uow, actor=admin, clock=later)
    with make_uow() as uow:
        got = uow.fulfillments.get(fulfillment.id)
        events = uow.events.feed(EventFilter(resource_type=ResourceType.FULFILLMENT), None, 100)
    assert (got.status, got.version, got.cancelled_at, got.cancelled_by, got.updated_at) == (
        FulfillmentState.CANCELLED, 2, later.now(), admin.id, later.now(),
    )  # fmt: skip
    assert [(e.type, e.sequence) for e in events] == [
        (EventType.FULFILLMENT_CREATED, 1), (EventType.FULFILLMENT_CANCELLED, 2),
    ]  # fmt: skip
    now = stored(make_uow, order)
    assert [line.quantity_shipped for line in now.lines] == [0, 0]
    assert (now.status, now.fulfillment_status) == (OrderStatus.PROCESSING, FulfillmentStatus.UNFULFILLED)


def test_a_stale_version_is_refused(make_uow: MakeUow, shop) -> None:
    admin, order = shop
    fulfillment = fulfil(make_uow, admin, order, (order.lines[0].id, 1))
    with make_uow() as uow:
        loaded = uow.fulfillments.get(fulfillment.id, for_update=True)
        stale = replace(loaded, version=loaded.version + 2, domain_events=[])
        with pytest.raises(StaleVersion) as refused:
            uow.fulfillments.save(stale)
        assert refused.value.current_version == 1


def test_over_fulfilment_is_refused_and_moves_nothing(make_uow: MakeUow, shop) -> None:
    admin, order = shop
    l1 = order.lines[0].id
    fulfil(make_uow, admin, order, (l1, 2))
    before = stored(make_uow, order)
    with pytest.raises(FulfillmentLimit):
        fulfil(make_uow, admin, order, (l1, 2))
    after = stored(make_uow, order)
    assert [line.quantity_shipped for line in after.lines] == [2, 0]
    assert (after.version, after.status) == (before.version, before.status)
    with make_uow() as uow:
        assert len(uow.fulfillments.for_order(order.id)) == 1


def test_an_order_changed_meanwhile_keeps_its_fulfilment_out(make_uow: MakeUow, shop) -> None:
    admin, order = shop
    with make_uow() as uow:
        loaded = uow.orders.get(order.id, for_update=True)
        fulfillment = Fulfillment.create(loaded, [(order.lines[0].id, 1)], actor_id=admin.id, at=T0)
        uow.fulfillments.add(fulfillment)
        fulfillment.ship(loaded)
        loaded.version += 1  # as if another change had been made since it was read
        with pytest.raises(StaleVersion):
            uow.orders.save(loaded)
    with make_uow() as uow:
        assert uow.fulfillments.for_order(order.id) == []
