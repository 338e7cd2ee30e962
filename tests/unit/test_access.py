"""Who may do what, and what a refused caller reads: every admin-only use case refuses a customer with the
action it names, and changes nothing; another customer's records are reported missing, by kind and id."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.categories import (
    CategoryPatch,
    CreateCategory,
    create_category,
    delete_category,
    update_category,
)
from application.errors import AuthenticationFailed, Forbidden, NotFound
from application.events import read_events
from application.lists import EventFilter, MovementFilter, ProductFilter, UserFilter, Window
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    get_order,
    order_events,
    order_stats,
    place_order,
)
from application.ports import TokenClaims
from application.products import (
    CreateProduct,
    ProductPatch,
    adjust_stock,
    create_product,
    delete_product,
    list_products,
    stock_movements,
    update_product,
)
from application.users import UserPatch, deactivate_user, get_user, list_users, update_user
from application.webhooks import (
    CreateWebhook,
    WebhookPatch,
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
    retry_delivery,
    update_webhook,
)
from domain.errors import IllegalStatusChange, InactiveUser
from domain.events import EventType
from domain.orders import OrderStatus
from domain.users import User
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World, done, dump

SENDER = RecordingSender()

Call = Callable[[World, User, int], Any]  # (world, the caller, an existing record's id)

ADMIN_ONLY: dict[str, Call] = {
    "create categories": lambda w, a, _: create_category(
        CreateCategory("X"), uow=w.uow, actor=a, clock=w.clock
    ),
    "change categories": lambda w, a, i: update_category(
        i, CategoryPatch(name="Y"), uow=w.uow, actor=a, clock=w.clock
    ),
    "delete categories": lambda w, a, i: delete_category(i, uow=w.uow, actor=a),
    "create products": lambda w, a, _: create_product(
        CreateProduct("X", "X-1", Decimal("1.00")), uow=w.uow, actor=a, clock=w.clock
    ),
    "change products": lambda w, a, i: update_product(
        i, ProductPatch(name="Y"), None, uow=w.uow, actor=a, clock=w.clock
    ),
    "delete products": lambda w, a, i: delete_product(i, uow=w.uow, actor=a, clock=w.clock),
    "adjust stock": lambda w, a, i: adjust_stock(i, 5, None, uow=w.uow, actor=a, clock=w.clock),
    "read stock movements": lambda w, a, i: stock_movements(
        i, MovementFilter(), Window(), uow=w.uow, actor=a
    ),
    "change an order's status": lambda w, a, i: change_order_status(
        i, OrderStatus.CONFIRMED, uow=w.uow, actor=a, clock=w.clock
    ),
    "see order statistics": lambda w, a, _: order_stats(uow=w.uow, actor=a),
    "list users": lambda w, a, _: list_users(UserFilter(), Window(), uow=w.uow, actor=a),
    "read the event feed": lambda w, a, _: read_events(EventFilter(), None, 10, uow=w.uow, actor=a),
    "manage webhooks": lambda w, a, _: create_webhook(
        CreateWebhook("https://example.com/h", frozenset(EventType)),
        uow=w.uow,
        actor=a,
        clock=w.clock,
        sender=SENDER,
    ),
}

WEBHOOK_USE_CASES: list[Call] = [
    lambda w, a, i: list_webhooks(Window(), uow=w.uow, actor=a),
    lambda w, a, i: get_webhook(i, uow=w.uow, actor=a),
    lambda w, a, i: update_webhook(
        i, WebhookPatch(enabled=False), uow=w.uow, actor=a, clock=w.clock, sender=SENDER
    ),
    lambda w, a, i: delete_webhook(i, uow=w.uow, actor=a),
    lambda w, a, i: list_deliveries(i, Window(), uow=w.uow, actor=a),
    lambda w, a, i: retry_delivery(i, 1, uow=w.uow, actor=a, clock=w.clock),
]


def _touches(action: str) -> str:
    """The kind of record an admin action works on."""
    for word, kind in (("categor", "category"), ("order", "order"), ("webhook", "webhook")):
        if word in action:
            return kind
    return "product"


@pytest.mark.parametrize("action", ADMIN_ONLY)
def test_a_customer_is_refused_every_admin_action_with_its_name(world: World, action: str) -> None:
    ann = world.customer()
    record = world.record(_touches(action))
    before = dump(world.uow.store)
    with pytest.raises(Forbidden) as refused:
        ADMIN_ONLY[action](world, ann, record)
    assert str(refused.value) == f"only admins may {action}"
    assert dump(world.uow.store) == before


@pytest.mark.parametrize("use_case", WEBHOOK_USE_CASES)
def test_every_webhook_use_case_is_for_admins(world: World, use_case: Call) -> None:
    ann = world.customer()
    webhook_id = world.record("webhook")
    before = dump(world.uow.store)
    with pytest.raises(Forbidden, match="^only admins may manage webhooks$"):
        use_case(world, ann, webhook_id)
    assert dump(world.uow.store) == before


@pytest.mark.parametrize(
    ("filters", "action"),
    [
        (ProductFilter(include_inactive=True), "list inactive products"),
        (ProductFilter(low_stock=True), "list products low on stock"),
    ],
)
def test_admin_only_list_options_ask_who_is_calling(
    world: World, filters: ProductFilter, action: str
) -> None:
    with pytest.raises(AuthenticationFailed) as anonymous:
        list_products(filters, Window(), uow=world.uow, actor=None)
    assert str(anonymous.value) == f"log in as an admin to {action}"
    with pytest.raises(Forbidden) as customer:
        list_products(filters, Window(), uow=world.uow, actor=world.customer())
    assert str(customer.value) == f"only admins may {action}"
    assert list_products(filters, Window(), uow=world.uow, actor=world.admin).items == []


@pytest.mark.parametrize(
    ("use_case", "kind"),
    [
        (lambda w, ann, bob: get_user(bob.id, uow=w.uow, actor=ann), "user"),
        (lambda w, ann, bob: deactivate_user(bob.id, uow=w.uow, actor=ann, clock=w.clock), "user"),
        (
            lambda w, ann, bob: done(
                update_user(
                    bob.id,
                    UserPatch(name="Mallory"),
                    runner=w.run,
                    claims=_claims(ann),
                    hasher=w.hasher,
                    clock=w.clock,
                )
            ),
            "user",
        ),
    ],
)
def test_another_customers_account_is_reported_missing(world: World, use_case: Any, kind: str) -> None:
    ann, bob = world.customer(), world.customer("bob@shop.test")
    before = dump(world.uow.store)
    with pytest.raises(NotFound) as missing:
        use_case(world, ann, bob)
    assert (missing.value.kind, missing.value.entity_id, str(missing.value)) == (
        kind,
        bob.id,
        f"{kind} {bob.id} was not found",
    )
    assert dump(world.uow.store) == before


@pytest.mark.parametrize(
    "use_case",
    [
        lambda w, ann, i: get_order(i, uow=w.uow, actor=ann),
        lambda w, ann, i: order_events(i, uow=w.uow, actor=ann),
        lambda w, ann, i: cancel_order(i, uow=w.uow, actor=ann, clock=w.clock),
    ],
)
def test_another_customers_order_is_reported_missing(world: World, use_case: Any) -> None:
    ann = world.customer()
    order_id = world.record("order")
    before = dump(world.uow.store)
    with pytest.raises(NotFound) as missing:
        use_case(world, ann, order_id)
    assert (missing.value.kind, missing.value.entity_id) == ("order", order_id)
    assert dump(world.uow.store) == before


def test_only_admins_order_for_someone_else_and_the_buyer_is_read_back(world: World) -> None:
    ann, bob = world.customer(), world.customer("bob@shop.test")
    item = world.product(stock=5)
    before = dump(world.uow.store)
    with pytest.raises(Forbidden, match="^only admins may place orders for another user$"):
        place_order(PlaceOrder((OrderItem(item.id, 1),), bob.id), uow=world.uow, actor=ann, clock=world.clock)
    assert dump(world.uow.store) == before
    # The admin's order is bob's: his id, and his (stored) account checked for being active.
    order = place_order(
        PlaceOrder((OrderItem(item.id, 1),), bob.id), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert order.user_id == bob.id
    deactivate_user(bob.id, uow=world.uow, actor=world.admin, clock=world.clock)
    with pytest.raises(InactiveUser, match=f"^user {bob.id} is deactivated and cannot place orders$"):
        place_order(
            PlaceOrder((OrderItem(item.id, 1),), bob.id), uow=world.uow, actor=world.admin, clock=world.clock
        )


@pytest.mark.parametrize(
    ("status", "customer_may", "admin_may"),
    [
        (OrderStatus.PENDING, True, True),
        (OrderStatus.CONFIRMED, True, True),
        (OrderStatus.PROCESSING, False, True),
        (OrderStatus.SHIPPED, False, False),
    ],
)
def test_who_may_cancel_depends_on_the_status(
    world: World, status: OrderStatus, customer_may: bool, admin_may: bool
) -> None:
    ann = world.customer()
    for actor, may in [(ann, customer_may), (world.admin, admin_may)]:
        order = world.order(ann, (world.product(f"C-{actor.id}-{status}", stock=3), 1))
        path = {
            OrderStatus.PENDING: [],
            OrderStatus.CONFIRMED: [OrderStatus.CONFIRMED],
            OrderStatus.PROCESSING: [OrderStatus.CONFIRMED, OrderStatus.PROCESSING],
            OrderStatus.SHIPPED: [OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED],
        }[status]
        for step in path:
            change_order_status(order.id, step, uow=world.uow, actor=world.admin, clock=world.clock)
        world.clock.advance(timedelta(seconds=1))
        if may:
            assert (
                cancel_order(order.id, uow=world.uow, actor=actor, clock=world.clock).status
                is OrderStatus.CANCELLED
            )
            continue
        before = dump(world.uow.store)
        with pytest.raises(IllegalStatusChange) as refused:
            cancel_order(order.id, uow=world.uow, actor=actor, clock=world.clock)
        assert (refused.value.from_status, refused.value.to_status) == (status.value, "cancelled")
        said = f"cannot change order status from '{status.value}' to 'cancelled'"
        owners_rule = ": its owner may cancel it only while it is pending or confirmed"
        assert str(refused.value) == said + ("" if actor.is_admin else owners_rule)
        assert dump(world.uow.store) == before


def _claims(user: User) -> TokenClaims:
    return TokenClaims(user_id=user.id, credentials_version=user.credentials_version)
