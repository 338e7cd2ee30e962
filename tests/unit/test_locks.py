"""What each use case reads for update: a change locks every row it will write (products in id order, so
concurrent orders queue rather than deadlock), and a read locks nothing, so readers never wait. The fake logs
the rows an SQL adapter would read FOR UPDATE (InMemoryStore.locks); tests/integration shows the locks at work
on PostgreSQL."""

from datetime import timedelta

from application.lists import MovementFilter, Window
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    expire_pending_orders,
    get_order,
    order_events,
    place_order,
)
from application.products import (
    ProductPatch,
    adjust_stock,
    delete_product,
    get_product,
    stock_movements,
    update_product,
)
from application.webhooks import (
    WebhookPatch,
    delete_webhook,
    get_webhook,
    list_deliveries,
    retry_delivery,
    update_webhook,
)
from domain.events import EventType
from domain.orders import OrderStatus
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World
from tests.unit.deliveries import deliver, subscribe


def locks_of(world: World, work) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    world.uow.store.locks.clear()
    work()
    return list(world.uow.store.locks)


def test_an_order_locks_its_products_in_id_order_and_a_cancel_locks_the_order_then_them(world: World) -> None:
    ann = world.customer()
    a, b = world.product("A-1"), world.product("B-1")
    cmd = PlaceOrder((OrderItem(b.id, 1), OrderItem(a.id, 2)))
    placed: list = []
    assert locks_of(
        world, lambda: placed.append(place_order(cmd, uow=world.uow, actor=ann, clock=world.clock))
    ) == [
        ("product", a.id),
        ("product", b.id),
    ]
    order = placed[0]
    cancel = lambda: cancel_order(order.id, uow=world.uow, actor=ann, clock=world.clock)  # noqa: E731
    assert locks_of(world, cancel) == [("order", order.id), ("product", a.id), ("product", b.id)]


def test_a_status_change_locks_the_order(world: World) -> None:
    order = world.order(world.customer(), (world.product(), 1))
    change = lambda: change_order_status(  # noqa: E731
        order.id, OrderStatus.CONFIRMED, uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert locks_of(world, change) == [("order", order.id)]


def test_expiry_locks_the_products_of_the_orders_it_cancels(world: World) -> None:
    a, b = world.product("A-1"), world.product("B-1")
    world.order(world.customer(), (b, 1), (a, 1))
    world.clock.advance(timedelta(hours=1))
    expire = lambda: expire_pending_orders(timedelta(minutes=30), uow=world.uow, clock=world.clock)  # noqa: E731
    assert locks_of(world, expire) == [("product", a.id), ("product", b.id)]


def test_every_product_change_locks_the_product(world: World) -> None:
    p = world.product(stock=5)
    for change in [
        lambda: update_product(
            p.id, ProductPatch(name="New"), uow=world.uow, actor=world.admin, clock=world.clock
        ),
        lambda: adjust_stock(p.id, 3, "found", uow=world.uow, actor=world.admin, clock=world.clock),
        lambda: delete_product(p.id, uow=world.uow, actor=world.admin, clock=world.clock),
    ]:
        assert locks_of(world, change) == [("product", p.id)]


def test_every_webhook_change_locks_what_it_changes(world: World) -> None:
    hook = subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    world.product("EV-1")
    sender = RecordingSender(status=500)
    assert locks_of(world, lambda: deliver(world, world.clock, sender)) == [("webhook", hook.id)]
    [delivery_id] = world.uow.store.tables.deliveries
    update = lambda: update_webhook(  # noqa: E731
        hook.id,
        WebhookPatch(enabled=False),
        uow=world.uow,
        actor=world.admin,
        clock=world.clock,
        sender=sender,
    )
    assert locks_of(world, update) == [("webhook", hook.id)]
    retry = lambda: retry_delivery(hook.id, delivery_id, uow=world.uow, actor=world.admin, clock=world.clock)  # noqa: E731
    assert locks_of(world, retry) == [("delivery", delivery_id)]
    assert locks_of(world, lambda: delete_webhook(hook.id, uow=world.uow, actor=world.admin)) == [
        ("webhook", hook.id)
    ]


def test_reads_lock_nothing(world: World) -> None:
    ann = world.customer()
    p = world.product()
    order = world.order(ann, (p, 1))
    hook = subscribe(world, world.clock, EventType.ORDER_PLACED)
    for read in [
        lambda: get_product(p.id, uow=world.uow),
        lambda: stock_movements(p.id, MovementFilter(), Window(), uow=world.uow, actor=world.admin),
        lambda: get_order(order.id, uow=world.uow, actor=ann),
        lambda: order_events(order.id, uow=world.uow, actor=ann),
        lambda: get_webhook(hook.id, uow=world.uow, actor=world.admin),
        lambda: list_deliveries(hook.id, Window(), uow=world.uow, actor=world.admin),
    ]:
        assert locks_of(world, read) == []
