"""Order use cases: placing, reading, listing, status changes, cancelling, stats, idempotency."""

import asyncio
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from application.errors import (
    AuthenticationFailed,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotFound,
    PreconditionFailed,
    UnknownReference,
)
from application.idempotency import (
    ABANDONED_AFTER,
    KEY_TTL,
    claim_key,
    fingerprint,
    place_order_idempotently,
    purge_expired_keys,
)
from application.lists import OrderFilter, Window
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    get_order,
    list_orders,
    order_events,
    order_stats,
    place_order,
    place_order_as_caller,
)
from application.ports import BusinessEvent, TokenClaims
from application.products import delete_product
from application.users import deactivate_user
from domain.errors import (
    IllegalStatusChange,
    InactiveUser,
    InsufficientStock,
    ProductUnavailable,
)
from domain.orders import OrderStatus
from tests.doubles.memory import InMemoryUnitOfWorkRunner
from tests.unit.conftest import dump


def test_place_order_takes_stock_and_records_creation(world, uow):
    ann = world.customer()
    a, b = world.product("A", "49.99", 5), world.product("B", "2.50", 5)
    order = world.order(ann, (a, 3), (b, 2))
    stored = uow.store.tables.orders[order.id]
    assert stored.total_amount == Decimal("154.97")
    assert [(line.product_name, line.unit_price, line.line_total) for line in stored.lines] == [
        ("Product A", Decimal("49.99"), Decimal("149.97")),
        ("Product B", Decimal("2.50"), Decimal("5.00")),
    ]
    assert (world.stock(a), world.stock(b)) == (2, 3)
    assert stored.status is OrderStatus.PENDING
    assert stored.order_number.startswith("ORD-20261122-") and len(stored.order_number) == 23
    assert [(e.from_status, e.to_status, e.actor_id) for e in uow.store.tables.status_history[order.id]] == [
        (None, OrderStatus.PENDING, ann.id)
    ]


class TestFailedPlacementChangesNothing:
    """Each refusal names its reason, and the store is exactly as it was: no order, no stock moved."""

    @pytest.fixture
    def shop(self, world):
        ann, bob = world.customer("ann@shop.test"), world.customer("bob@shop.test")
        return ann, bob, world.product("A", stock=5), world.product("B", stock=1)

    def refused(self, world, actor, items, user_id=None) -> Exception:
        before = dump(world.uow.store)
        with pytest.raises(Exception) as raised:
            place_order(PlaceOrder(tuple(items), user_id), uow=world.uow, actor=actor, clock=world.clock)
        assert dump(world.uow.store) == before
        return raised.value

    def test_insufficient_stock_names_the_product(self, world, shop):
        ann, _, a, b = shop
        error = self.refused(world, ann, [OrderItem(a.id, 1), OrderItem(b.id, 2)])
        assert isinstance(error, InsufficientStock) and (
            error.product_id,
            error.requested,
            error.available,
        ) == (
            b.id,
            2,
            1,
        )
        assert "insufficient stock" in str(error) and str(b.id) in str(error)

    def test_an_unknown_product(self, world, shop):
        ann, _, a, _ = shop
        error = self.refused(world, ann, [OrderItem(a.id, 1), OrderItem(999, 1)])
        assert isinstance(error, UnknownReference) and (error.kind, error.entity_id) == ("product", 999)

    def test_an_inactive_product(self, world, shop):
        ann, _, a, b = shop
        delete_product(b.id, uow=world.uow, actor=world.admin, clock=world.clock)
        error = self.refused(world, ann, [OrderItem(a.id, 1), OrderItem(b.id, 1)])
        assert isinstance(error, ProductUnavailable) and error.product_id == b.id

    def test_an_inactive_buyer_ordered_for_by_an_admin(self, world, shop):
        ann, _, a, _ = shop
        deactivate_user(ann.id, uow=world.uow, actor=world.admin, clock=world.clock)
        error = self.refused(world, world.admin, [OrderItem(a.id, 1)], user_id=ann.id)
        assert isinstance(error, InactiveUser) and error.user_id == ann.id

    def test_an_unknown_buyer(self, world, shop):
        _, _, a, _ = shop
        error = self.refused(world, world.admin, [OrderItem(a.id, 1)], user_id=999)
        assert isinstance(error, UnknownReference) and (error.kind, error.entity_id) == ("user", 999)

    def test_a_customer_ordering_for_another(self, world, shop):
        ann, bob, a, _ = shop
        error = self.refused(world, ann, [OrderItem(a.id, 1)], user_id=bob.id)
        assert isinstance(error, Forbidden) and "only admins" in str(error)


def test_admin_may_order_for_another_user(world, uow, clock):
    ann = world.customer()
    p = world.product()
    order = place_order(PlaceOrder((OrderItem(p.id, 1),), ann.id), uow=uow, actor=world.admin, clock=clock)
    assert order.user_id == ann.id
    assert uow.store.tables.status_history[order.id][0].actor_id == world.admin.id


def test_customers_see_only_their_orders(world, uow):
    ann, bob = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    p = world.product(stock=10)
    mine = world.order(ann, (p, 1))
    theirs = world.order(bob, (p, 1))
    assert get_order(mine.id, uow=uow, actor=ann).id == mine.id
    assert get_order(theirs.id, uow=uow, actor=world.admin).id == theirs.id
    with pytest.raises(NotFound):
        get_order(theirs.id, uow=uow, actor=ann)
    with pytest.raises(NotFound):
        order_events(theirs.id, uow=uow, actor=ann)
    with pytest.raises(NotFound):
        get_order(999, uow=uow, actor=ann)
    assert [
        o.id for o in list_orders(OrderFilter(user_id=bob.id), Window(20, 0), uow=uow, actor=ann).items
    ] == [mine.id]
    assert {o.id for o in list_orders(OrderFilter(), Window(20, 0), uow=uow, actor=world.admin).items} == {
        mine.id,
        theirs.id,
    }
    assert [
        o.id
        for o in list_orders(OrderFilter(user_id=bob.id), Window(20, 0), uow=uow, actor=world.admin).items
    ] == [theirs.id]


def test_list_orders_newest_first_with_filters(world, uow, clock):
    from datetime import timedelta

    ann = world.customer()
    p = world.product(stock=10)
    first = world.order(ann, (p, 1))
    clock.advance(timedelta(hours=1))
    second = world.order(ann, (p, 1))
    change_order_status(second.id, OrderStatus.CONFIRMED, uow=uow, actor=world.admin, clock=clock)
    page = list_orders(OrderFilter(), Window(20, 0), uow=uow, actor=ann)
    assert [o.id for o in page.items] == [second.id, first.id] and page.items[0].lines
    assert [
        o.id
        for o in list_orders(OrderFilter(status=OrderStatus.PENDING), Window(20, 0), uow=uow, actor=ann).items
    ] == [first.id]
    later = list_orders(OrderFilter(created_from=clock.now()), Window(20, 0), uow=uow, actor=ann)
    assert [o.id for o in later.items] == [second.id]
    earlier = list_orders(
        OrderFilter(created_to=clock.now() - timedelta(minutes=1)), Window(20, 0), uow=uow, actor=ann
    )
    assert [o.id for o in earlier.items] == [first.id]


def test_change_status_records_events_and_cancel_returns_stock(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    order = world.order(ann, (p, 2))
    change_order_status(order.id, OrderStatus.CONFIRMED, 1, uow=uow, actor=world.admin, clock=clock)
    updated = change_order_status(order.id, OrderStatus.CANCELLED, uow=uow, actor=world.admin, clock=clock)
    assert (updated.status, updated.version) == (OrderStatus.CANCELLED, 3)
    assert world.stock(p) == 5
    events = order_events(order.id, uow=uow, actor=ann)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, OrderStatus.PENDING),
        (OrderStatus.PENDING, OrderStatus.CONFIRMED),
        (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    ]


def test_change_status_failures_change_nothing(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    order = world.order(ann, (p, 2))
    before = dump(uow.store)
    with pytest.raises(IllegalStatusChange, match="'pending' to 'shipped'"):
        change_order_status(order.id, OrderStatus.SHIPPED, uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(PreconditionFailed):
        change_order_status(order.id, OrderStatus.CONFIRMED, 7, uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(Forbidden):
        change_order_status(order.id, OrderStatus.CONFIRMED, uow=uow, actor=ann, clock=clock)
    with pytest.raises(NotFound):
        change_order_status(999, OrderStatus.CONFIRMED, uow=uow, actor=world.admin, clock=clock)
    assert dump(uow.store) == before


def test_cancel_returns_stock_once(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    order = world.order(ann, (p, 2))
    assert cancel_order(order.id, uow=uow, actor=ann, clock=clock).status is OrderStatus.CANCELLED
    assert world.stock(p) == 5
    before = dump(uow.store)
    assert cancel_order(order.id, uow=uow, actor=ann, clock=clock).status is OrderStatus.CANCELLED
    assert dump(uow.store) == before


def test_cancel_rules_by_role(world, uow, clock):
    ann, bob = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    p = world.product(stock=5)
    order = world.order(ann, (p, 2))
    change_order_status(order.id, OrderStatus.CONFIRMED, uow=uow, actor=world.admin, clock=clock)
    change_order_status(order.id, OrderStatus.PROCESSING, uow=uow, actor=world.admin, clock=clock)
    before = dump(uow.store)
    with pytest.raises(IllegalStatusChange):
        cancel_order(order.id, uow=uow, actor=ann, clock=clock)
    with pytest.raises(NotFound):
        cancel_order(order.id, uow=uow, actor=bob, clock=clock)
    assert dump(uow.store) == before
    assert cancel_order(order.id, uow=uow, actor=world.admin, clock=clock).status is OrderStatus.CANCELLED
    assert world.stock(p) == 5


def test_stats(world, uow, clock):
    ann = world.customer()
    p = world.product(price="10.00", stock=10)
    world.order(ann, (p, 1))
    cancelled = world.order(ann, (p, 2))
    cancel_order(cancelled.id, uow=uow, actor=ann, clock=clock)
    stats = order_stats(uow=uow, actor=world.admin)
    assert (stats.total_orders, stats.total_revenue) == (2, Decimal("10.00"))
    assert (
        stats.orders_by_status[OrderStatus.PENDING] == 1
        and stats.orders_by_status[OrderStatus.CANCELLED] == 1
    )
    assert set(stats.orders_by_status) == set(OrderStatus)
    with pytest.raises(Forbidden):
        order_stats(uow=uow, actor=ann)


def _idempotent(store, clock, actor, cmd, key):
    claims = TokenClaims(actor.id, actor.credentials_version)
    return asyncio.run(
        place_order_idempotently(cmd, key, runner=InMemoryUnitOfWorkRunner(store), claims=claims, clock=clock)
    )


def test_idempotent_retry_returns_the_same_order(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    cmd = PlaceOrder((OrderItem(p.id, 2),))
    first = _idempotent(uow.store, clock, ann, cmd, "key-1")
    second = _idempotent(uow.store, clock, ann, cmd, "key-1")
    assert first.id == second.id and len(uow.store.tables.orders) == 1 and world.stock(p) == 3
    other = _idempotent(uow.store, clock, world.customer("bob@shop.test"), cmd, "key-1")
    assert other.id != first.id  # keys are scoped to the caller


def test_idempotency_key_with_another_body_is_refused(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    _idempotent(uow.store, clock, ann, PlaceOrder((OrderItem(p.id, 2),)), "k")
    before = dump(uow.store)
    with pytest.raises(IdempotencyKeyReused) as reused:
        _idempotent(uow.store, clock, ann, PlaceOrder((OrderItem(p.id, 3),)), "k")
    assert str(reused.value) == (
        "this Idempotency-Key was already used with a different request body; use a new key"
    )
    assert dump(uow.store) == before


def test_idempotency_key_in_flight_is_409_until_abandoned(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    cmd = PlaceOrder((OrderItem(p.id, 1),))
    assert claim_key(uow, clock, ann.id, "k", fingerprint(cmd)) is None
    with pytest.raises(IdempotencyKeyInUse) as in_use:
        _idempotent(uow.store, clock, ann, cmd, "k")
    assert str(in_use.value) == "a request with this Idempotency-Key is still in progress; retry shortly"
    clock.advance(ABANDONED_AFTER)
    assert _idempotent(uow.store, clock, ann, cmd, "k").id is not None


def test_an_abandoned_key_is_claimed_afresh_for_the_new_request(world, uow, clock):
    """The new claim holds the new body and time: its repeat replays, another body is refused."""
    ann = world.customer()
    p = world.product(stock=5)
    abandoned, retried = PlaceOrder((OrderItem(p.id, 1),)), PlaceOrder((OrderItem(p.id, 2),))
    claim_key(uow, clock, ann.id, "k", fingerprint(abandoned))
    clock.advance(ABANDONED_AFTER)
    placed = _idempotent(uow.store, clock, ann, retried, "k")
    assert _idempotent(uow.store, clock, ann, retried, "k").id == placed.id
    with pytest.raises(IdempotencyKeyReused):
        _idempotent(uow.store, clock, ann, abandoned, "k")
    assert uow.store.tables.idempotency[(ann.id, "k")].created_at == clock.now()


def test_failed_idempotent_order_frees_the_key(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=1)
    cmd = PlaceOrder((OrderItem(p.id, 2),))
    before = dump(uow.store)
    with pytest.raises(InsufficientStock):
        _idempotent(uow.store, clock, ann, cmd, "k")
    assert dump(uow.store) == before


def test_keys_expire_after_a_day(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    cmd = PlaceOrder((OrderItem(p.id, 1),))
    first = _idempotent(uow.store, clock, ann, cmd, "k")
    clock.advance(KEY_TTL - timedelta(seconds=1))
    assert _idempotent(uow.store, clock, ann, cmd, "k").id == first.id  # still a replay
    clock.advance(timedelta(seconds=1))
    assert purge_expired_keys(uow=uow, clock=clock) == 0  # exactly 24 h old is still stored, but used up:
    second = _idempotent(uow.store, clock, ann, cmd, "k")
    assert second.id != first.id
    clock.advance(KEY_TTL + timedelta(seconds=1))
    assert purge_expired_keys(uow=uow, clock=clock) == 1
    assert _idempotent(uow.store, clock, ann, cmd, "k").id not in (first.id, second.id)


def test_placing_as_the_caller_announces_the_products_then_places_the_callers_order(world, uow, clock):
    ann = world.customer()
    a, b = world.product("A", stock=5), world.product("B", stock=5)
    counted: list[BusinessEvent] = []
    cmd = PlaceOrder((OrderItem(b.id, 2), OrderItem(a.id, 1)))
    claims = TokenClaims(ann.id, ann.credentials_version)
    order = place_order_as_caller(
        uow, cmd, claims, clock=clock, counters=SimpleNamespace(count=counted.append)
    )
    assert uow.orders.announced == [[b.id, a.id]]  # before the caller was read: in the items' order
    assert order.user_id == ann.id and uow.store.tables.orders[order.id].user_id == ann.id
    assert (world.stock(a), world.stock(b)) == (4, 3) and counted == [BusinessEvent.ORDER_PLACED]


def test_placing_as_the_caller_with_a_key_completes_it(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    claims = TokenClaims(ann.id, ann.credentials_version)
    with uow:
        claim_key(uow, clock, ann.id, "k-1", "digest")
        uow.commit()
    order = place_order_as_caller(
        uow, PlaceOrder((OrderItem(p.id, 1),)), claims, clock=clock, idempotency_key="k-1"
    )
    with uow:
        assert claim_key(uow, clock, ann.id, "k-1", "digest") == order.id  # a repeat gets this order


def test_placing_as_a_revoked_caller_places_nothing(world, uow, clock):
    ann = world.customer()
    p = world.product(stock=5)
    stale = TokenClaims(ann.id, ann.credentials_version - 1)
    with pytest.raises(AuthenticationFailed):
        place_order_as_caller(uow, PlaceOrder((OrderItem(p.id, 1),)), stale, clock=clock)
    assert uow.store.tables.orders == {} and world.stock(p) == 5
