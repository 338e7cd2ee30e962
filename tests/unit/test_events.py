"""Domain events: each change raises its events exactly when it commits, in the transaction of the change,
and a refused change raises none. Over the in-memory fakes (the contract suite runs the SQL outbox)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from application.errors import PreconditionFailed
from application.events import purge_events, read_events
from application.lists import EventFilter
from application.orders import (
    cancel_order,
    change_order_status,
    expire_pending_orders,
)
from application.products import ProductPatch, adjust_stock, delete_product, update_product
from domain.errors import IllegalStatusChange, InsufficientStock
from domain.events import Event, EventType, ResourceType
from domain.orders import OrderStatus
from entrypoints.api.schemas import OrderRead, ProductRead
from tests.doubles.memory import InMemoryStore
from tests.unit.conftest import World, dump


def outbox(store: InMemoryStore) -> list[Event]:
    return list(store.tables.outbox)


def kinds(store: InMemoryStore, since: int = 0) -> list[tuple[EventType, int]]:
    return [(e.type, e.resource_id) for e in store.tables.outbox[since:]]


def test_creating_a_product_raises_product_created_with_its_representation(world: World, store) -> None:
    product = world.product("EV-1", stock=3)
    [event] = outbox(store)
    assert (event.type, event.resource_type, event.resource_id) == (
        EventType.PRODUCT_CREATED,
        ResourceType.PRODUCT,
        product.id,
    )
    assert event.sequence == 1 and event.actor_id == world.admin.id
    assert event.payload == ProductRead.of(product).model_dump(mode="json")


def test_placing_an_order_raises_order_placed_and_out_of_stock_for_an_emptied_product(
    world: World, store
) -> None:
    ann = world.customer()
    emptied, kept = world.product("EV-1", stock=2), world.product("EV-2", stock=5)
    before = len(outbox(store))
    order = world.order(ann, (emptied, 2), (kept, 1))
    assert kinds(store, before) == [
        (EventType.ORDER_PLACED, order.id),
        (EventType.PRODUCT_OUT_OF_STOCK, emptied.id),
    ]
    placed, out = outbox(store)[before:]
    assert placed.payload == OrderRead.of(order).model_dump(mode="json")
    assert placed.actor_id == ann.id and placed.sequence == 1
    assert out.payload["stock_quantity"] == 0 and out.sequence == 2  # after product.created


def test_cancelling_raises_order_cancelled_and_back_in_stock(world: World, store, clock) -> None:
    ann = world.customer()
    item = world.product("EV-1", stock=2)
    order = world.order(ann, (item, 2))
    before = len(outbox(store))
    cancel_order(order.id, uow=world.uow, actor=ann, clock=clock)
    assert kinds(store, before) == [
        (EventType.ORDER_CANCELLED, order.id),
        (EventType.PRODUCT_BACK_IN_STOCK, item.id),
    ]
    cancelled, back = outbox(store)[before:]
    assert cancelled.payload["status"] == "cancelled" and cancelled.sequence == 2
    assert back.payload["stock_quantity"] == 2
    # Cancelling again changes nothing, and says nothing.
    cancel_order(order.id, uow=world.uow, actor=ann, clock=clock)
    assert len(outbox(store)) == before + 2


def test_a_status_change_raises_order_status_changed(world: World, store, clock) -> None:
    order = world.order(world.customer(), (world.product("EV-1"), 1))
    before = len(outbox(store))
    change_order_status(order.id, OrderStatus.CONFIRMED, uow=world.uow, actor=world.admin, clock=clock)
    [event] = outbox(store)[before:]
    assert (event.type, event.sequence, event.payload["status"]) == (
        EventType.ORDER_STATUS_CHANGED,
        2,
        "confirmed",
    )
    assert event.actor_id == world.admin.id


def test_an_admin_cancelling_by_status_raises_order_cancelled(world: World, store, clock) -> None:
    order = world.order(world.customer(), (world.product("EV-1", stock=5), 1))
    before = len(outbox(store))
    change_order_status(order.id, OrderStatus.CANCELLED, uow=world.uow, actor=world.admin, clock=clock)
    assert kinds(store, before) == [(EventType.ORDER_CANCELLED, order.id)]  # 4 left: still in stock


def test_expiry_raises_order_cancelled_by_nobody(world: World, store, clock) -> None:
    item = world.product("EV-1", stock=1)
    order = world.order(world.customer(), (item, 1))
    clock.advance(timedelta(hours=1))
    before = len(outbox(store))
    assert expire_pending_orders(timedelta(minutes=30), uow=world.uow, clock=clock) == 1
    assert kinds(store, before) == [
        (EventType.ORDER_CANCELLED, order.id),
        (EventType.PRODUCT_BACK_IN_STOCK, item.id),
    ]
    assert [e.actor_id for e in outbox(store)[before:]] == [None, None]


def test_stock_changes_by_hand_raise_stock_adjusted(world: World, store, clock) -> None:
    item = world.product("EV-1", stock=2)
    before = len(outbox(store))
    adjust_stock(item.id, -2, "broken", uow=world.uow, actor=world.admin, clock=clock)
    assert kinds(store, before) == [
        (EventType.STOCK_ADJUSTED, item.id),
        (EventType.PRODUCT_OUT_OF_STOCK, item.id),
    ]
    before = len(outbox(store))
    patch = ProductPatch(price=Decimal("12.00"), stock_quantity=4, stock_reason="recount")
    update_product(item.id, patch, uow=world.uow, actor=world.admin, clock=clock)
    assert kinds(store, before) == [
        (EventType.PRODUCT_UPDATED, item.id),
        (EventType.STOCK_ADJUSTED, item.id),
        (EventType.PRODUCT_BACK_IN_STOCK, item.id),
    ]
    assert [e.sequence for e in outbox(store)] == [1, 2, 3, 4, 5, 6]
    assert outbox(store)[-1].payload["price"] == "12.00"


def test_an_update_without_stock_and_a_delete_raise_one_event_each(world: World, store, clock) -> None:
    item = world.product("EV-1")
    before = len(outbox(store))
    update_product(item.id, ProductPatch(name="Renamed"), uow=world.uow, actor=world.admin, clock=clock)
    delete_product(item.id, uow=world.uow, actor=world.admin, clock=clock)
    delete_product(item.id, uow=world.uow, actor=world.admin, clock=clock)  # already gone: nothing
    assert kinds(store, before) == [
        (EventType.PRODUCT_UPDATED, item.id),
        (EventType.PRODUCT_DELETED, item.id),
    ]
    assert outbox(store)[-1].payload["is_active"] is False


def test_refused_changes_raise_nothing(world: World, store, clock) -> None:
    ann = world.customer()
    item = world.product("EV-1", stock=1)
    order = world.order(ann, (item, 1))
    before = dump(store)
    with pytest.raises(InsufficientStock):
        world.order(ann, (item, 1))
    with pytest.raises(PreconditionFailed):
        update_product(item.id, ProductPatch(name="x"), 99, uow=world.uow, actor=world.admin, clock=clock)
    with pytest.raises(IllegalStatusChange):
        change_order_status(order.id, OrderStatus.SHIPPED, uow=world.uow, actor=world.admin, clock=clock)
    with pytest.raises(PreconditionFailed):
        change_order_status(order.id, OrderStatus.CONFIRMED, 7, uow=world.uow, actor=world.admin, clock=clock)
    assert dump(store) == before


def test_the_feed_reads_from_any_point_with_filters(world: World, store, clock) -> None:
    ann = world.customer()
    a, b = world.product("EV-1"), world.product("EV-2")
    world.order(ann, (a, 1))
    every = read_events(EventFilter(), None, 100, uow=world.uow, actor=world.admin).items
    assert [e.id for e in every] == [e.id for e in outbox(store)] and len(every) == 3
    after_first = read_events(EventFilter(), every[0].id, 100, uow=world.uow, actor=world.admin).items
    assert after_first == every[1:]
    only_b = read_events(EventFilter(resource_id=b.id), None, 100, uow=world.uow, actor=world.admin).items
    assert [(e.type, e.resource_id) for e in only_b] == [(EventType.PRODUCT_CREATED, b.id)]
    orders = read_events(
        EventFilter(resource_type=ResourceType.ORDER), None, 100, uow=world.uow, actor=world.admin
    ).items
    assert [e.type for e in orders] == [EventType.ORDER_PLACED]
    one = read_events(EventFilter(), every[0].id, 1, uow=world.uow, actor=world.admin)
    assert one.items == every[1:2] and one.has_more
    assert not read_events(EventFilter(), every[1].id, 1, uow=world.uow, actor=world.admin).has_more


def test_purging_keeps_each_resources_newest_event_so_its_sequence_goes_on(
    world: World, store, clock
) -> None:
    item = world.product("EV-1")
    update_product(item.id, ProductPatch(name="Two"), uow=world.uow, actor=world.admin, clock=clock)
    clock.advance(timedelta(days=31))
    assert purge_events(timedelta(days=30), uow=world.uow, clock=clock) == 1
    [kept] = outbox(store)
    assert (kept.type, kept.sequence) == (EventType.PRODUCT_UPDATED, 2)
    update_product(item.id, ProductPatch(name="Three"), uow=world.uow, actor=world.admin, clock=clock)
    assert [e.sequence for e in outbox(store)] == [2, 3]
