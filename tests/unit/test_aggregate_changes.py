"""Every change of an aggregate checks its rule, bumps the version once and records the domain events it
implies; a refused change changes nothing and records nothing."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from application.seen import SeenAggregates
from domain.catalog import MAX_STOCK, Category, Product
from domain.errors import (
    CategoryCycle,
    IllegalStatusChange,
    InsufficientStock,
    InvalidEmail,
    InvalidStockChange,
)
from domain.events import DomainEvent, EventType, ResourceType
from domain.orders import Order, OrderStatus
from domain.stock import MovementKind
from domain.users import User
from domain.webhooks import Attempt, RetryPolicy, Webhook

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
OWNER = User("ann@shop.test", "Ann", "h", AT, AT, id=1)
STRANGER = User("bob@shop.test", "Bob", "h", AT, AT, id=2)
ADMIN = User("boss@shop.test", "Boss", "h", AT, AT, is_admin=True, id=9)


def raised(*aggregates: Product | Order) -> list[tuple[EventType, object, datetime, int | None]]:
    seen = SeenAggregates()
    seen.add(*aggregates)
    return [(e.type, e.subject, e.at, e.actor_id) for e in seen.take_events()]


def product(pid: int = 1, stock: int = 5) -> Product:
    p = Product.create(name="Tea", sku="t-1", price=Decimal("2.50"), stock_quantity=stock, at=AT, actor_id=9)
    p.id = pid
    p.take_events()
    p.new_movements.clear()  # as stored
    return p


def order_in(status: OrderStatus, *items: tuple[Product, int]) -> Order:
    order = Order.place(number="ORD-X", buyer=OWNER, items=list(items), actor_id=1, at=AT)
    order.id, order.status = 40, status
    for p in (*(p for p, _ in items), order):
        p.take_events()
    return order


class TestOrder:
    def test_placing_raises_order_placed_before_the_products_it_empties(self) -> None:
        emptied, kept = product(1, stock=2), product(2, stock=5)
        order = Order.place(
            number="ORD-X", buyer=OWNER, items=[(kept, 1), (emptied, 2)], actor_id=9, at=LATER
        )
        assert (order.version, emptied.version, kept.version) == (1, 2, 2)
        assert raised(emptied, kept, order) == [
            (EventType.ORDER_PLACED, order, LATER, 9),
            (EventType.PRODUCT_OUT_OF_STOCK, emptied, LATER, 9),
        ]

    @pytest.mark.parametrize(
        ("status", "owner_may", "admin_may"),
        [
            (OrderStatus.PENDING, True, True),
            (OrderStatus.CONFIRMED, True, True),
            (OrderStatus.PROCESSING, False, True),
            (OrderStatus.SHIPPED, False, False),
            (OrderStatus.DELIVERED, False, False),
            (OrderStatus.CANCELLED, False, False),
        ],
    )
    def test_who_may_cancel_from_which_status(
        self, status: OrderStatus, owner_may: bool, admin_may: bool
    ) -> None:
        order = order_in(status, (product(), 1))
        assert [order.may_be_cancelled_by(u) for u in (OWNER, ADMIN, STRANGER)] == [
            owner_may,
            admin_may,
            False,
        ]

    def test_a_cancel_moves_once_gives_the_units_back_and_raises_cancelled_then_back_in_stock(self) -> None:
        emptied, kept = product(1, stock=2), product(2, stock=5)
        order = order_in(OrderStatus.CONFIRMED, (emptied, 2), (kept, 1))
        order.cancel({1: emptied, 2: kept}, by=OWNER, at=LATER)
        assert (order.status, order.version, order.updated_at) == (OrderStatus.CANCELLED, 2, LATER)
        assert [(c.from_status, c.to_status, c.actor_id) for c in order.new_status_changes[1:]] == [
            (OrderStatus.CONFIRMED, OrderStatus.CANCELLED, 1)
        ]
        assert [(m.kind, m.delta) for m in order.stock_movements] == [
            (MovementKind.CANCELLATION, 2),
            (MovementKind.CANCELLATION, 1),
        ]
        assert (emptied.stock_quantity, kept.stock_quantity) == (2, 5)
        assert raised(kept, emptied, order) == [
            (EventType.ORDER_CANCELLED, order, LATER, 1),
            (EventType.PRODUCT_BACK_IN_STOCK, emptied, LATER, 1),
        ]

    @pytest.mark.parametrize(
        ("status", "who", "why"),
        [
            (
                OrderStatus.PROCESSING,
                OWNER,
                ": its owner may cancel it only while it is pending or confirmed",
            ),
            (
                OrderStatus.PENDING,
                STRANGER,
                ": its owner may cancel it only while it is pending or confirmed",
            ),
            (OrderStatus.SHIPPED, ADMIN, ""),
            (OrderStatus.CANCELLED, ADMIN, ""),
        ],
    )
    def test_a_refused_cancel_is_an_illegal_status_change_and_changes_nothing(
        self, status: OrderStatus, who: User, why: str
    ) -> None:
        item = product(1, stock=5)
        order = order_in(status, (item, 2))
        with pytest.raises(IllegalStatusChange) as refused:
            order.cancel({1: item}, by=who, at=LATER)
        assert str(refused.value) == f"cannot change order status from '{status.value}' to 'cancelled'{why}"
        assert (order.status, order.version, order.updated_at, len(order.new_status_changes)) == (
            status,
            1,
            AT,
            1,
        )
        assert (item.stock_quantity, item.version, order.stock_movements[0].kind) == (
            3,
            2,
            MovementKind.ORDER,
        )
        assert raised(item, order) == []

    def test_an_expiry_is_a_cancel_by_nobody(self) -> None:
        item = product(1, stock=2)
        order = order_in(OrderStatus.PENDING, (item, 2))
        order.expire({1: item}, at=LATER)
        assert (order.status, order.version) == (OrderStatus.CANCELLED, 2)
        assert raised(item, order) == [
            (EventType.ORDER_CANCELLED, order, LATER, None),
            (EventType.PRODUCT_BACK_IN_STOCK, item, LATER, None),
        ]

    def test_a_status_change_raises_status_changed_and_never_cancels(self) -> None:
        order = order_in(OrderStatus.PENDING, (product(), 1))
        order.change_status(OrderStatus.CONFIRMED, actor_id=9, at=LATER)
        assert (order.version, raised(order)) == (2, [(EventType.ORDER_STATUS_CHANGED, order, LATER, 9)])
        with pytest.raises(AssertionError, match=r"^cancel\(\) gives the units back$"):
            order.change_status(OrderStatus.CANCELLED, actor_id=9, at=LATER)
        assert (order.status, order.version, raised(order)) == (OrderStatus.CONFIRMED, 2, [])


class TestProduct:
    def test_creating_raises_product_created_at_version_1(self) -> None:
        p = Product.create(name="Tea", sku="t", price=Decimal(1), stock_quantity=0, at=AT, actor_id=9)
        assert (p.version, raised(p)) == (1, [(EventType.PRODUCT_CREATED, p, AT, 9)])
        with pytest.raises(InvalidStockChange):
            Product.create(name="Tea", sku="t", price=Decimal(1), at=AT, low_stock_threshold=-1)

    def test_an_update_changes_every_field_sent_as_one_version_and_one_event(self) -> None:
        p = product(stock=5)
        assert p.update(
            at=LATER,
            actor_id=9,
            name="Green Tea",
            sku=" g-1 ",
            description="Sencha",
            price=Decimal("3.5"),
            category_id=4,
            low_stock_threshold=2,
            is_active=False,
        )
        assert (p.name, p.slug, p.sku, p.description, p.price, p.category_id, p.low_stock_threshold) == (
            "Green Tea",
            "green-tea",
            "G-1",
            "Sencha",
            Decimal("3.50"),
            4,
            2,
        )
        assert (p.is_active, p.version, p.updated_at, p.stock_quantity, p.new_movements) == (
            False,
            2,
            LATER,
            5,
            [],
        )
        assert raised(p) == [(EventType.PRODUCT_UPDATED, p, LATER, 9)]
        p.update(at=LATER, actor_id=9, is_active=True, description=None, low_stock_threshold=None)
        assert (p.is_active, p.description, p.low_stock_threshold, p.version) == (True, None, None, 3)

    def test_a_new_stock_figure_is_a_correction_raising_stock_adjusted_and_out_or_back(self) -> None:
        p = product(stock=5)
        p.update(at=LATER, actor_id=9, stock_quantity=0, stock_reason="stolen")
        assert (p.stock_quantity, p.version) == (0, 2)
        assert [(m.kind, m.delta, m.quantity, m.reason) for m in p.new_movements] == [
            (MovementKind.CORRECTION, -5, 0, "stolen")
        ]
        assert raised(p) == [
            (EventType.PRODUCT_UPDATED, p, LATER, 9),
            (EventType.STOCK_ADJUSTED, p, LATER, 9),
            (EventType.PRODUCT_OUT_OF_STOCK, p, LATER, 9),
        ]
        p.update(at=LATER, actor_id=8, stock_quantity=3, stock_reason="found")
        assert [e[0] for e in raised(p)] == [
            EventType.PRODUCT_UPDATED,
            EventType.STOCK_ADJUSTED,
            EventType.PRODUCT_BACK_IN_STOCK,
        ]
        p.update(at=LATER, actor_id=8, stock_quantity=3)  # the same figure: no movement, no reason needed
        assert (p.version, len(p.new_movements), [e[0] for e in raised(p)]) == (
            4,
            2,
            [EventType.PRODUCT_UPDATED],
        )

    def test_an_empty_update_changes_nothing(self) -> None:
        p = product()
        assert p.update(at=LATER, actor_id=9) is False
        assert (p.version, p.updated_at, raised(p)) == (1, AT, [])

    @pytest.mark.parametrize(
        "change",
        [
            {"stock_quantity": -1, "stock_reason": "r"},
            {"stock_quantity": MAX_STOCK + 1, "stock_reason": "r"},
            {"stock_quantity": 2},
            {"stock_quantity": 2, "stock_reason": " "},
            {"low_stock_threshold": -1},
        ],
    )
    def test_a_refused_update_changes_nothing(self, change: dict[str, object]) -> None:
        p = product(stock=5)
        with pytest.raises(InvalidStockChange):
            p.update(at=LATER, actor_id=9, name="Other", **change)  # type: ignore[arg-type]
        assert (p.name, p.stock_quantity, p.low_stock_threshold, p.version, p.new_movements) == (
            "Tea",
            5,
            None,
            1,
            [],
        )
        assert raised(p) == []

    def test_withdrawing_raises_product_deleted_once(self) -> None:
        p = product()
        assert p.withdraw(at=LATER, actor_id=9) is True
        assert (p.is_active, p.version, p.updated_at, raised(p)) == (
            False,
            2,
            LATER,
            [(EventType.PRODUCT_DELETED, p, LATER, 9)],
        )
        assert p.withdraw(at=LATER, actor_id=9) is False
        assert (p.version, raised(p)) == (2, [])

    def test_an_adjustment_raises_stock_adjusted_and_out_of_stock(self) -> None:
        p = product(stock=3)
        p.adjust_stock(-3, at=LATER, actor_id=9, reason="broken")
        assert (p.stock_quantity, p.version, p.updated_at) == (0, 2, LATER)
        assert raised(p) == [
            (EventType.STOCK_ADJUSTED, p, LATER, 9),
            (EventType.PRODUCT_OUT_OF_STOCK, p, LATER, 9),
        ]
        with pytest.raises(InsufficientStock):
            p.adjust_stock(-1, at=LATER, actor_id=9, reason="r")
        with pytest.raises(InvalidStockChange):
            p.adjust_stock(1, at=LATER, actor_id=9, reason=None)
        assert (p.stock_quantity, p.version, raised(p)) == (0, 2, [])

    def test_supplying_and_restocking_bump_the_version_and_raise_only_at_the_edges(self) -> None:
        p = product(stock=3)
        p.supply(1, at=LATER, actor_id=9)
        assert (p.stock_quantity, p.version, p.updated_at, raised(p)) == (2, 2, LATER, [])
        p.supply(2, at=LATER, actor_id=9)
        p.restock(1, MovementKind.CANCELLATION, at=LATER, actor_id=8)
        p.restock(1, MovementKind.CANCELLATION, at=LATER, actor_id=8)
        assert (p.stock_quantity, p.version) == (2, 5)
        assert raised(p) == [
            (EventType.PRODUCT_OUT_OF_STOCK, p, LATER, 9),
            (EventType.PRODUCT_BACK_IN_STOCK, p, LATER, 8),
        ]
        with pytest.raises(InsufficientStock):
            p.supply(3, at=LATER, actor_id=9)
        assert (p.stock_quantity, p.version, raised(p)) == (2, 5, [])
        empty = product(stock=0)
        empty.restock(0, MovementKind.EXPIRY, at=LATER, actor_id=None)  # nothing came back: still out
        assert (empty.stock_quantity, raised(empty)) == (0, [])


class TestOthers:
    def test_a_category_update_stamps_it_and_refuses_a_cycle_changing_nothing(self) -> None:
        c = Category.create(name="Books", description="Paper", parent_id=None, at=AT)
        c.id = 3
        with pytest.raises(CategoryCycle):
            c.update(at=LATER, name="Tomes", parent_id=5, parent_ancestry=[5, 3])
        assert (c.name, c.parent_id, c.updated_at) == ("Books", None, AT)
        c.update(at=LATER, name="Home & Garden", description=None, parent_id=5, parent_ancestry=[5])
        assert (c.name, c.slug, c.description, c.parent_id, c.updated_at) == (
            "Home & Garden",
            "home-garden",
            None,
            5,
            LATER,
        )

    def test_a_user_update_goes_through_its_rules(self) -> None:
        u = User("ann@shop.test", "Ann", "h", AT, AT, id=1)
        with pytest.raises(InvalidEmail):
            u.update(at=LATER, email="a nn@shop.test", name="Other")
        assert (u.email, u.name, u.updated_at) == ("ann@shop.test", "Ann", AT)
        u.update(at=LATER, email=" Ann2@Shop.TEST ", name="Annie", is_admin=True, password_hash="h2")
        assert (u.email, u.name, u.is_admin, u.password_hash, u.credentials_version, u.updated_at) == (
            "ann2@shop.test",
            "Annie",
            True,
            "h2",
            2,
            LATER,
        )
        u.update(at=LATER, is_active=False)
        assert (u.is_active, u.credentials_version) == (False, 3)
        u.update(at=LATER, is_active=True)
        assert (u.is_active, u.credentials_version) == (True, 3)

    def test_a_webhook_update_is_one_version_and_an_empty_one_none(self) -> None:
        w = Webhook("https://a.test/h", frozenset({EventType.ORDER_PLACED}), "s", AT, AT)
        assert w.update(at=LATER) is False and (w.version, w.updated_at) == (1, AT)
        w.consecutive_failures = 3
        assert w.update(at=LATER, url="https://b.test/h", event_types=frozenset({EventType.ORDER_CANCELLED}))
        assert (w.url, w.event_types, w.version, w.updated_at) == (
            "https://b.test/h",
            frozenset({EventType.ORDER_CANCELLED}),
            2,
            LATER,
        )
        w.update(at=LATER, enabled=True)  # already on: its failures stand
        assert (w.enabled, w.consecutive_failures, w.version) == (True, 3, 3)
        w.update(at=LATER, enabled=False)
        assert (w.enabled, w.disabled_reason, w.consecutive_failures, w.version) == (False, None, 3, 4)

    def test_a_webhooks_attempts_are_recorded_as_one_version(self) -> None:
        w = Webhook("https://a.test/h", frozenset({EventType.ORDER_PLACED}), "s", AT, AT)
        policy = RetryPolicy(disable_after=2)
        w.record_attempts(
            [Attempt(1, LATER, 5, status_code=500), Attempt(2, LATER, 5, error="timeout")], policy, at=LATER
        )
        assert (w.enabled, w.consecutive_failures, w.version, w.updated_at) == (False, 2, 2, LATER)
        assert w.disabled_reason == "switched off after 2 failed attempts in a row; last: timeout"
        w.record_attempts([Attempt(3, LATER, 5, status_code=500)], policy, at=LATER)
        assert (w.consecutive_failures, w.disabled_reason) == (
            3,
            "switched off after 2 failed attempts in a row; last: timeout",
        )


class TestCollection:
    def test_events_are_taken_once_in_the_order_raised_whatever_the_order_seen(self) -> None:
        first, second = product(1), product(2)
        a = DomainEvent(EventType.PRODUCT_UPDATED, second, AT)
        b = DomainEvent(EventType.PRODUCT_UPDATED, first, AT)
        c = DomainEvent(EventType.PRODUCT_DELETED, second, AT)
        second.domain_events += [a, c]
        first.domain_events.append(b)
        seen = SeenAggregates()
        seen.add(first, second, first)
        assert seen.take_events() == [a, b, c]
        assert seen.take_events() == [] and first.domain_events == second.domain_events == []
        second.domain_events.append(a)
        seen.clear()
        assert seen.take_events() == [] and second.domain_events == [a]

    def test_an_event_names_its_resource_by_its_type(self) -> None:
        p, order = product(7), order_in(OrderStatus.PENDING, (product(), 1))
        user = User.create(email="u@shop.test", name="U", password_hash="x", at=AT)
        user.id = 9
        for kind in EventType:
            prefix = kind.value.split(".")[0]
            if prefix in ("payment", "fulfillment", "return"):
                continue  # their own tests: tests/unit/test_payments.py, ...
            subject = {"order": order, "user": user}.get(prefix, p)
            expected = {"order": ResourceType.ORDER, "user": ResourceType.USER}.get(
                prefix, ResourceType.PRODUCT
            )
            event = DomainEvent(kind, subject, AT)
            assert (event.resource_type, event.resource_id) == (expected, subject.id)
        assert [t.value for t in EventType if t.resource_type is ResourceType.FULFILLMENT] == [
            "fulfillment.created",
            "fulfillment.cancelled",
        ]
        assert [t.value for t in EventType if t.resource_type is ResourceType.RETURN] == [
            "return.requested",
            "return.accepted",
            "return.rejected",
        ]
        assert EventType.ORDER_REFUNDED.resource_type is ResourceType.ORDER
        assert [t.value for t in EventType if t.resource_type is ResourceType.USER] == [
            "user.deactivated",
            "user.reactivated",
            "user.erased",
        ]
        with pytest.raises(AssertionError, match="^events are collected once the resource is stored$"):
            _ = DomainEvent(
                EventType.PRODUCT_CREATED, Product.create(name="N", sku="n", price=Decimal(1), at=AT), AT
            ).resource_id
