"""Rules that live on the entities: money, pricing, stock, cancelling, slugs."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.catalog import MAX_ADJUSTMENT, MAX_STOCK, Category, Product, slugify
from domain.errors import (
    CategoryCycle,
    IllegalStatusChange,
    InactiveUser,
    InsufficientStock,
    InvalidEmail,
    InvalidOrder,
    InvalidStockChange,
    ProductUnavailable,
)
from domain.money import money
from domain.orders import EXPIRED, Order, OrderStatus, order_number
from domain.stock import MovementKind, StockMovement
from domain.users import User

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


def moves(movements: list[StockMovement]) -> list[tuple[object, ...]]:
    return [(m.product_id, m.delta, m.quantity, m.kind, m.actor_id, m.reason) for m in movements]


def product(pid: int, price: str = "49.99", stock: int = 5, active: bool = True) -> Product:
    p = Product.create(name=f"P{pid}", sku=f"sku-{pid}", price=Decimal(price), stock_quantity=stock, at=AT)
    p.id, p.is_active = pid, active
    return p


def buyer(active: bool = True) -> User:
    return User("Ann@Shop.test", "Ann", "h", AT, AT, is_active=active, id=1)


def admin(uid: int = 7) -> User:
    return User("boss@shop.test", "Boss", "h", AT, AT, is_admin=True, id=uid)


def place(*items: tuple[Product, int], who: User | None = None) -> Order:
    return Order.place(number="ORD-X", buyer=who or buyer(), items=list(items), actor_id=1, at=AT)


def test_money_is_quantized_to_cents() -> None:
    assert money(Decimal("1.005")) == Decimal("1.01")
    assert str(money(3)) == "3.00"
    assert str(money(0.1)) == "0.10"
    assert str(money("149.970")) == "149.97"


def test_placing_prices_lines_and_total_from_current_prices() -> None:
    order = place((product(1, "49.99"), 3), (product(2, "0.10"), 1))
    assert [(line.unit_price, line.line_total) for line in order.lines] == [
        (Decimal("49.99"), Decimal("149.97")),
        (Decimal("0.10"), Decimal("0.10")),
    ]
    assert order.total_amount == Decimal("150.07")
    assert order.status is OrderStatus.PENDING
    assert [(c.from_status, c.to_status) for c in order.new_status_changes] == [(None, OrderStatus.PENDING)]


def test_placing_takes_each_lines_units_from_its_product_and_bumps_its_version() -> None:
    first, second = product(1, stock=5), product(2, stock=1)
    order = Order.place(number="ORD-X", buyer=buyer(), items=[(first, 3), (second, 1)], actor_id=9, at=LATER)
    assert moves(order.stock_movements) == [
        (1, -3, 2, MovementKind.ORDER, 9, None),
        (2, -1, 0, MovementKind.ORDER, 9, None),
    ]
    assert {m.created_at for m in order.stock_movements} == {LATER}
    assert [(p.stock_quantity, p.version, p.updated_at) for p in (first, second)] == [
        (2, 2, LATER),
        (0, 2, LATER),
    ]
    assert not first.new_movements[1:]  # the order carries them, not the products


def test_a_product_cannot_supply_more_than_its_stock() -> None:
    with pytest.raises(InsufficientStock) as raised:
        place((product(4, stock=2), 3))
    assert (raised.value.product_id, raised.value.requested, raised.value.available) == (4, 3, 2)
    assert "insufficient stock" in str(raised.value) and "4" in str(raised.value)


def test_inactive_product_cannot_be_ordered() -> None:
    with pytest.raises(ProductUnavailable):
        place((product(1, active=False), 1))


def test_inactive_buyer_cannot_order() -> None:
    with pytest.raises(InactiveUser):
        place((product(1), 1), who=buyer(active=False))


@pytest.mark.parametrize(
    "items",
    [[], [(1, 0)], [(1, 1001)], [(1, 1), (1, 2)], [(i, 1) for i in range(1, 52)]],
    ids=["empty", "zero", "too-many-units", "repeated", "too-many-lines"],
)
def test_structurally_invalid_orders(items: list[tuple[int, int]]) -> None:
    with pytest.raises(InvalidOrder):
        place(*[(product(pid, stock=2000), q) for pid, q in items])


def test_cancelling_gives_every_lines_units_back() -> None:
    first, second = product(1, stock=5), product(2, stock=5)
    order = place((first, 3), (second, 1))
    order.cancel({1: first, 2: second}, by=admin(7), at=AT)
    assert order.status is OrderStatus.CANCELLED
    assert moves(order.stock_movements) == [
        (1, 3, 5, MovementKind.CANCELLATION, 7, None),
        (2, 1, 5, MovementKind.CANCELLATION, 7, None),
    ]
    assert [(p.stock_quantity, p.version) for p in (first, second)] == [(5, 3), (5, 3)]
    assert [(c.from_status, c.to_status, c.actor_id) for c in order.new_status_changes][-1] == (
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
        7,
    )


def test_returned_units_never_push_stock_past_the_maximum() -> None:
    full = product(1, stock=10)
    order = place((full, 4))
    full.update(at=AT, actor_id=1, stock_quantity=MAX_STOCK - 1, stock_reason="count")
    order.cancel({1: full}, by=buyer(), at=AT)
    assert full.stock_quantity == MAX_STOCK
    assert moves(order.stock_movements) == [(1, 1, MAX_STOCK, MovementKind.CANCELLATION, 1, None)]


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled"])
def test_an_order_past_processing_cannot_be_cancelled(status: str) -> None:
    item = product(1)
    order = place((item, 1))
    order.status = OrderStatus(status)
    with pytest.raises(IllegalStatusChange):
        order.cancel({1: item}, by=admin(), at=AT)
    assert (order.status, item.stock_quantity) == (OrderStatus(status), 4)


def test_stock_adjustment_rules() -> None:
    p = product(1, stock=3)
    p.adjust_stock(-3, at=LATER, actor_id=5, reason="broken in the warehouse")
    assert moves(p.new_movements[1:]) == [(1, -3, 0, MovementKind.ADJUSTMENT, 5, "broken in the warehouse")]
    assert (p.stock_quantity, p.version, p.updated_at) == (0, 2, LATER)
    for bad, reason, error in [
        (-1, "r", InsufficientStock),
        (0, "r", InvalidStockChange),
        (MAX_ADJUSTMENT + 1, "r", InvalidStockChange),
        (1, None, InvalidStockChange),
        (1, "  ", InvalidStockChange),
        (1, "x" * 201, InvalidStockChange),
    ]:
        with pytest.raises(error):
            p.adjust_stock(bad, at=AT, actor_id=5, reason=reason)
    p.update(at=AT, actor_id=5, stock_quantity=MAX_STOCK - 1, stock_reason="recount")
    with pytest.raises(InvalidStockChange):
        p.adjust_stock(2, at=AT, actor_id=5, reason="r")
    with pytest.raises(InvalidStockChange):
        p.update(at=AT, actor_id=5, stock_quantity=-1, stock_reason="r")
    assert (p.stock_quantity, p.version, len(p.new_movements)) == (MAX_STOCK - 1, 3, 3)


def test_a_new_product_opens_its_ledger_with_its_initial_stock() -> None:
    p = Product.create(name="P", sku="s", price=Decimal(1), stock_quantity=7, at=AT, actor_id=3)
    assert moves(p.new_movements) == [(0, 7, 7, MovementKind.INITIAL, 3, None)]
    with pytest.raises(InvalidStockChange):
        Product.create(name="P", sku="s", price=Decimal(1), stock_quantity=MAX_STOCK + 1, at=AT)


def test_a_correction_moves_the_difference_and_needs_a_reason() -> None:
    p = product(1, stock=10)
    p.update(at=LATER, actor_id=2, stock_quantity=4, stock_reason="shelf count")
    p.update(at=LATER, actor_id=2, stock_quantity=4, stock_reason="same again")  # no change, no movement
    assert moves(p.new_movements[1:]) == [(1, -6, 4, MovementKind.CORRECTION, 2, "shelf count")]
    with pytest.raises(InvalidStockChange):
        p.update(at=LATER, actor_id=2, stock_quantity=5)
    assert p.stock_quantity == 4


def test_an_expired_order_gives_its_units_back_by_nobody() -> None:
    item = product(1, stock=5)
    order = place((item, 2))
    order.expire({1: item}, at=LATER)
    assert order.status is OrderStatus.CANCELLED and item.stock_quantity == 5
    assert moves(order.stock_movements) == [(1, 2, 5, MovementKind.EXPIRY, None, EXPIRED)]
    last = order.new_status_changes[-1]
    assert (last.to_status, last.actor_id, last.reason, last.at) == (
        OrderStatus.CANCELLED,
        None,
        EXPIRED,
        LATER,
    )


@pytest.mark.parametrize("status", ["confirmed", "cancelled"])
def test_only_a_pending_order_expires(status: str) -> None:
    item = product(1, stock=5)
    order = place((item, 2))
    order.status = OrderStatus(status)
    with pytest.raises(IllegalStatusChange):
        order.expire({1: item}, at=LATER)
    assert (order.status, item.stock_quantity, order.stock_movements[0].kind) == (
        OrderStatus(status), 3, MovementKind.ORDER,
    )  # fmt: skip


def test_an_order_names_itself_in_its_movements_once_stored() -> None:
    order = place((product(1), 1))
    order.id = 42
    assert [m.order_id for m in order.movements()] == [42]


def test_product_normalizes_sku_and_price_and_bumps_version() -> None:
    p = product(1, price="5")
    assert (p.sku, p.price, p.version) == ("SKU-1", Decimal("5.00"), 1)
    p.update(at=LATER, actor_id=1, sku=" new-1 ", price=Decimal("2.5"))
    assert (p.sku, p.price, p.version, p.updated_at) == ("NEW-1", Decimal("2.50"), 2, LATER)


def test_category_cannot_become_its_own_ancestor() -> None:
    c = Category.create(name="Books", description=None, parent_id=None, at=AT)
    c.id = 1
    with pytest.raises(CategoryCycle):
        c.update(at=LATER, parent_id=3, parent_ancestry=[3, 2, 1])
    with pytest.raises(CategoryCycle):
        c.update(at=LATER, parent_id=1, parent_ancestry=[1])
    c.update(at=LATER, parent_id=2, parent_ancestry=[2])
    assert c.parent_id == 2


def test_slugs_and_emails_are_normalized() -> None:
    assert slugify("Home & Garden") == "home-garden"
    assert slugify("Café Crème") == "cafe-creme"
    created = User.create(email=" Ann@Shop.test ", name="Ann", password_hash="h", at=AT)
    assert created.email == "ann@shop.test"
    assert (
        User.create(email="\uff41nn@shop.test", name="Ann", password_hash="h", at=AT).email == "ann@shop.test"
    )
    with pytest.raises(InvalidEmail):
        User.create(email="ann\u200b@shop.test", name="Ann", password_hash="h", at=AT)


def test_order_number_format() -> None:
    assert order_number(AT, "7F3A9C") == "ORD-20261122-7F3A9C"


def test_entities_are_equal_by_id() -> None:
    assert product(1) == product(1, price="1.00")
    assert product(1) != product(2)
