"""Every event and every stock movement says who made the change and when: the admin or customer who asked
(no one for an expiry), at the time the change was made."""

from datetime import timedelta
from types import SimpleNamespace

from application.events import purge_events
from application.lists import MovementFilter, Window
from application.orders import cancel_order, change_order_status, expire_pending_orders
from application.ports import BusinessEvent
from application.products import ProductPatch, adjust_stock, delete_product, stock_movements, update_product
from domain.events import EventType
from domain.orders import OrderStatus
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World
from tests.unit.deliveries import deliver, subscribe


def stamps(world: World, since: int = 0) -> list[tuple[EventType, int | None, object]]:
    return [(e.type, e.actor_id, e.created_at) for e in world.uow.store.tables.outbox[since:]]


def test_product_changes_are_stamped_with_the_admin_and_the_time(world: World) -> None:
    admin = world.admin
    t0 = world.clock.now()
    p = world.product(stock=1)
    assert stamps(world) == [(EventType.PRODUCT_CREATED, admin.id, t0)]
    world.clock.advance(timedelta(minutes=1))
    t1 = world.clock.now()
    adjust_stock(p.id, -1, "broken", uow=world.uow, actor=admin, clock=world.clock)
    assert stamps(world, 1) == [
        (EventType.STOCK_ADJUSTED, admin.id, t1),
        (EventType.PRODUCT_OUT_OF_STOCK, admin.id, t1),
    ]
    world.clock.advance(timedelta(minutes=1))
    t2 = world.clock.now()
    patch = ProductPatch(stock_quantity=4, stock_reason="recount", description="Fresh")
    changed = update_product(p.id, patch, uow=world.uow, actor=admin, clock=world.clock)
    assert changed.description == "Fresh"
    assert stamps(world, 3) == [
        (EventType.PRODUCT_UPDATED, admin.id, t2),
        (EventType.STOCK_ADJUSTED, admin.id, t2),
        (EventType.PRODUCT_BACK_IN_STOCK, admin.id, t2),
    ]
    world.clock.advance(timedelta(minutes=1))
    t3 = world.clock.now()
    delete_product(p.id, uow=world.uow, actor=admin, clock=world.clock)
    assert stamps(world, 6) == [(EventType.PRODUCT_DELETED, admin.id, t3)]
    assert world.uow.store.tables.products[p.id].updated_at == t3
    ledger = stock_movements(p.id, MovementFilter(), Window(), uow=world.uow, actor=admin).items
    assert sorted((m.kind.value, m.delta, m.actor_id, m.reason, m.created_at) for m in ledger) == [
        ("adjustment", -1, admin.id, "broken", t1),
        ("correction", 4, admin.id, "recount", t2),
        ("initial", 1, admin.id, None, t0),
    ]


def test_order_changes_are_stamped_with_who_asked_and_an_expiry_with_no_one(world: World) -> None:
    ann = world.customer()
    item = world.product(stock=2)
    order = world.order(ann, (item, 2))
    since = len(world.uow.store.tables.outbox)
    world.clock.advance(timedelta(minutes=1))
    change_order_status(order.id, OrderStatus.CONFIRMED, uow=world.uow, actor=world.admin, clock=world.clock)
    world.clock.advance(timedelta(minutes=1))
    cancel_order(order.id, uow=world.uow, actor=ann, clock=world.clock)
    t2 = world.clock.now()
    assert stamps(world, since) == [
        (EventType.ORDER_STATUS_CHANGED, world.admin.id, t2 - timedelta(minutes=1)),
        (EventType.ORDER_CANCELLED, ann.id, t2),
        (EventType.PRODUCT_BACK_IN_STOCK, ann.id, t2),
    ]
    expiring = world.order(ann, (item, 2))
    since = len(world.uow.store.tables.outbox)
    world.clock.advance(timedelta(hours=1))
    assert expire_pending_orders(timedelta(minutes=30), uow=world.uow, clock=world.clock) == 1
    assert stamps(world, since) == [
        (EventType.ORDER_CANCELLED, None, world.clock.now()),
        (EventType.PRODUCT_BACK_IN_STOCK, None, world.clock.now()),
    ]
    assert world.uow.store.tables.orders[expiring.id].status is OrderStatus.CANCELLED


def test_expiry_takes_only_orders_older_than_the_ttl_in_batches(world: World) -> None:
    ann = world.customer()
    item = world.product(stock=10)
    old = [world.order(ann, (item, 1)) for _ in range(3)]
    world.clock.advance(timedelta(minutes=20))
    young = world.order(ann, (item, 1))
    world.clock.advance(timedelta(minutes=15))  # the old ones are 35 minutes old, the young one 15
    counted: list[BusinessEvent] = []
    counters = SimpleNamespace(count=counted.append)

    def expire() -> int:
        return expire_pending_orders(
            timedelta(minutes=30), uow=world.uow, clock=world.clock, batch=2, counters=counters
        )

    assert [expire(), expire(), expire()] == [2, 1, 0]
    assert counted == [BusinessEvent.ORDER_EXPIRED] * 3
    statuses = {o.id: o.status for o in world.uow.store.tables.orders.values()}
    assert {statuses[o.id] for o in old} == {OrderStatus.CANCELLED}
    assert statuses[young.id] is OrderStatus.PENDING
    assert world.stock(item) == 9


def test_events_older_than_the_retention_are_purged_with_their_deliveries(world: World) -> None:
    subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    old = world.product("OLD-1")
    update_product(old.id, ProductPatch(name="Renamed"), uow=world.uow, actor=world.admin, clock=world.clock)
    deliver(world, world.clock, RecordingSender())
    world.clock.advance(timedelta(days=2))
    new = world.product("NEW-1")
    update_product(new.id, ProductPatch(name="Renamed"), uow=world.uow, actor=world.admin, clock=world.clock)
    # OLD-1's creation goes; its newest event stays, so its numbering never restarts; NEW-1's are recent.
    assert purge_events(timedelta(days=1), uow=world.uow, clock=world.clock) == 1
    tables = world.uow.store.tables
    assert [(e.type, e.payload["sku"]) for e in tables.outbox] == [
        (EventType.PRODUCT_UPDATED, "OLD-1"),
        (EventType.PRODUCT_CREATED, "NEW-1"),
        (EventType.PRODUCT_UPDATED, "NEW-1"),
    ]
    assert tables.deliveries == {} and tables.attempts == []
