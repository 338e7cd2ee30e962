"""The outbox and webhook storage over every storage: events are written with the change that raised them
and vanish with its rollback, numbered per resource, fed in commit order from any point and purged as
documented; webhooks are offered what they want from their creation on, and due deliveries are claimed
once."""

from datetime import timedelta
from decimal import Decimal

import pytest

from application.errors import PreconditionFailed
from application.events import purge_events, read_events
from application.lists import EventFilter, Window
from application.orders import OrderItem, PlaceOrder, cancel_order, expire_pending_orders, place_order
from application.products import CreateProduct, ProductPatch, create_product, update_product
from domain.errors import InsufficientStock
from domain.events import DomainEvent, EventType, ResourceType
from domain.webhooks import Attempt, DeliveryState, RetryPolicy, Webhook
from entrypoints.api.schemas import OrderRead, ProductRead
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_user
from tests.doubles.clock import FixedClock

LEASE = timedelta(seconds=60)


class Shop:
    def __init__(self, make_uow: MakeUow) -> None:
        self.make_uow = make_uow
        self.clock = FixedClock(T0)
        self.admin = add_user(make_uow, "admin@shop.test", is_admin=True)
        self.buyer = add_user(make_uow, "ann@shop.test")

    def product(self, sku: str, stock: int = 10):  # type: ignore[no-untyped-def]
        cmd = CreateProduct(f"Item {sku}", sku, Decimal("5.00"), stock_quantity=stock)
        return create_product(cmd, uow=self.make_uow(), actor=self.admin, clock=self.clock)

    def order(self, *lines):  # type: ignore[no-untyped-def]
        cmd = PlaceOrder(tuple(OrderItem(p.id, q) for p, q in lines))
        return place_order(cmd, uow=self.make_uow(), actor=self.buyer, clock=self.clock)

    def feed(self, after: int | None = None, **filters):  # type: ignore[no-untyped-def]
        return read_events(EventFilter(**filters), after, 100, uow=self.make_uow(), actor=self.admin).items

    def webhook(self, *types: EventType) -> Webhook:
        hook = Webhook("https://example.com/h", frozenset(types), "whsec_x", T0, T0)
        with self.make_uow() as uow:
            uow.webhooks.add(hook)
            uow.commit()
        return hook


def test_events_are_stored_with_their_change_numbered_per_resource(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    item = shop.product("E-1", stock=1)
    order = shop.order((item, 1))
    cancel_order(order.id, uow=make_uow(), actor=shop.buyer, clock=shop.clock)
    events = shop.feed()
    assert [(e.type, e.resource_type, e.resource_id, e.sequence) for e in events] == [
        (EventType.PRODUCT_CREATED, ResourceType.PRODUCT, item.id, 1),
        (EventType.ORDER_PLACED, ResourceType.ORDER, order.id, 1),
        (EventType.PRODUCT_OUT_OF_STOCK, ResourceType.PRODUCT, item.id, 2),
        (EventType.ORDER_CANCELLED, ResourceType.ORDER, order.id, 2),
        (EventType.PRODUCT_BACK_IN_STOCK, ResourceType.PRODUCT, item.id, 3),
    ]
    assert events[1].payload == OrderRead.of(order).model_dump(mode="json") | {
        "status": "pending",
        "version": 1,
    }
    assert events[0].payload == ProductRead.of(item).model_dump(mode="json")
    assert [e.actor_id for e in events] == [shop.admin.id] + [shop.buyer.id] * 4
    assert events[0].created_at == T0
    assert shop.feed(events[1].id) == events[2:]
    assert shop.feed(resource_type=ResourceType.ORDER) == [events[1], events[3]]
    assert shop.feed(type=EventType.PRODUCT_BACK_IN_STOCK, resource_id=item.id) == [events[4]]


def test_a_rolled_back_change_leaves_no_event(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    item = shop.product("E-1", stock=1)
    before = shop.feed()
    uow = make_uow()
    with uow:
        loaded = uow.products.get(item.id, for_update=True)
        uow.events.add([DomainEvent(EventType.PRODUCT_UPDATED, loaded, T0, shop.admin.id)])
    with pytest.raises(InsufficientStock):
        shop.order((item, 2))
    with pytest.raises(PreconditionFailed):
        update_product(item.id, ProductPatch(name="x"), 7, uow=make_uow(), actor=shop.admin, clock=shop.clock)
    assert shop.feed() == before


def test_the_unit_of_work_collects_the_events_of_the_aggregates_it_saw_once(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    item = shop.product("E-1", stock=1)
    before = shop.feed()
    with make_uow() as uow:  # not committed: nothing is said
        uow.products.get(item.id, for_update=True).update(at=T0, actor_id=shop.admin.id, name="Lost")
    with make_uow() as uow:
        loaded = uow.products.get(item.id, for_update=True)
        loaded.update(at=T0, actor_id=shop.admin.id, name="Kept")
        uow.products.save(loaded)
        uow.commit()
    with make_uow() as uow:  # the stored product carries no event of the last unit's
        assert uow.products.get(item.id, for_update=True).domain_events == []
        uow.commit()
    [updated] = shop.feed(before[-1].id)
    assert (updated.type, updated.resource_id, updated.actor_id) == (
        EventType.PRODUCT_UPDATED,
        item.id,
        shop.admin.id,
    )
    assert (updated.payload["name"], updated.payload["version"]) == ("Kept", 2)


def test_each_order_of_an_expiry_says_what_its_own_stock_move_left(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    item = shop.product("E-1", stock=2)
    first, second = shop.order((item, 1)), shop.order((item, 1))
    shop.clock.advance(timedelta(hours=1))
    before = shop.feed()
    assert expire_pending_orders(timedelta(minutes=30), uow=make_uow(), clock=shop.clock) == 2
    after = shop.feed(before[-1].id)
    assert [(e.type, e.resource_id) for e in after] == [
        (EventType.ORDER_CANCELLED, first.id),
        (EventType.PRODUCT_BACK_IN_STOCK, item.id),
        (EventType.ORDER_CANCELLED, second.id),
    ]
    assert after[1].payload["stock_quantity"] == 1  # the first order's units, not both orders'


def test_several_events_of_one_resource_in_one_change_get_consecutive_numbers(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    item = shop.product("E-1", stock=3)
    patch = ProductPatch(stock_quantity=0, stock_reason="stolen")
    update_product(item.id, patch, uow=make_uow(), actor=shop.admin, clock=shop.clock)
    assert [(e.type, e.sequence) for e in shop.feed()] == [
        (EventType.PRODUCT_CREATED, 1),
        (EventType.PRODUCT_UPDATED, 2),
        (EventType.STOCK_ADJUSTED, 3),
        (EventType.PRODUCT_OUT_OF_STOCK, 4),
    ]


def test_the_purge_keeps_each_resources_newest_event(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    old, other = shop.product("E-1"), shop.product("E-2")
    update_product(old.id, ProductPatch(name="x"), uow=make_uow(), actor=shop.admin, clock=shop.clock)
    shop.clock.advance(timedelta(days=40))
    update_product(other.id, ProductPatch(name="y"), uow=make_uow(), actor=shop.admin, clock=shop.clock)
    assert purge_events(timedelta(days=30), uow=make_uow(), clock=shop.clock) == 2
    assert [(e.resource_id, e.sequence) for e in shop.feed()] == [(old.id, 2), (other.id, 2)]
    update_product(old.id, ProductPatch(name="z"), uow=make_uow(), actor=shop.admin, clock=shop.clock)
    assert shop.feed()[-1].sequence == 3


def test_webhooks_are_offered_the_events_they_want_from_their_creation(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    shop.product("BEFORE-1")
    wants_orders = shop.webhook(EventType.ORDER_PLACED)
    wants_products = shop.webhook(EventType.PRODUCT_CREATED, EventType.PRODUCT_OUT_OF_STOCK)
    item = shop.product("E-1", stock=1)
    shop.order((item, 1))
    with make_uow() as uow:
        assert uow.webhooks.offer_events(T0, 100) == 3
        uow.commit()
    with make_uow() as uow:
        assert uow.webhooks.offer_events(T0, 100) == 0  # each event is offered once
        uow.commit()
        orders = uow.webhooks.deliveries(wants_orders.id, Window()).items
        products = uow.webhooks.deliveries(wants_products.id, Window()).items
    assert [(d.event_type, d.state, d.attempts) for d in orders] == [
        (EventType.ORDER_PLACED, DeliveryState.PENDING, 0)
    ]
    assert {d.event_type for d in products} == {EventType.PRODUCT_CREATED, EventType.PRODUCT_OUT_OF_STOCK}


def test_due_deliveries_are_claimed_once_until_their_lease_ends(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    hook = shop.webhook(EventType.PRODUCT_CREATED)
    shop.product("E-1")
    shop.product("E-2")
    with make_uow() as uow:
        uow.webhooks.offer_events(T0, 100)
        uow.commit()
    with make_uow() as uow:
        first = uow.webhooks.claim_due(T0, LEASE, 1)
        uow.commit()
    with make_uow() as uow:
        second = uow.webhooks.claim_due(T0, LEASE, 10)
        none = uow.webhooks.claim_due(T0 + LEASE - timedelta(seconds=1), LEASE, 10)
        uow.commit()
    assert len(first) == 1 and len(second) == 1 and first[0].id != second[0].id and none == []
    assert (first[0].attempts, first[0].next_attempt_at) == (1, T0 + LEASE)
    delivered = first[0]
    attempt = Attempt(delivered.id, T0, 12, status_code=200, response_body="thanks")
    delivered.record(attempt, RetryPolicy(), 0.0)
    with make_uow() as uow:
        uow.webhooks.save_deliveries([delivered], [attempt])
        uow.commit()
    with make_uow() as uow:
        again = uow.webhooks.claim_due(T0 + LEASE, LEASE, 10)  # the other one's lease has ended
        uow.commit()
        page = uow.webhooks.deliveries(hook.id, Window()).items
    assert [d.id for d in again] == [second[0].id] and again[0].attempts == 2
    done = next(d for d in page if d.id == delivered.id)
    assert done.state is DeliveryState.DELIVERED
    assert [(a.status_code, a.latency_ms, a.response_body) for a in done.history] == [(200, 12, "thanks")]
