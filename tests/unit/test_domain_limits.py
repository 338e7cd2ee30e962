"""The domain's limits at their edges (0, 1, max, max + 1) and the sentence each refusal reads as: the detail
a client gets, naming what to fix."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.catalog import (
    MAX_ADJUSTMENT,
    MAX_STOCK,
    Category,
    Product,
    check_adjustment,
    check_stock_figure,
    slugify,
)
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
from domain.events import EventType
from domain.orders import MAX_LINES, MAX_QUANTITY, Order, OrderStatus, check_lines
from domain.stock import MAX_REASON, MovementKind, StockMovement
from domain.users import User, normalize_email

AT = datetime(2026, 11, 22, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


def product(stock: int = 10, pid: int | None = 7) -> Product:
    p = Product.create(name="Tea", sku="t-1", price=Decimal("2.50"), at=AT, stock_quantity=stock)
    p.id = pid
    return p


def test_a_stock_adjustment_is_non_zero_and_at_most_the_limit_either_way() -> None:
    for delta in (1, -1, MAX_ADJUSTMENT, -MAX_ADJUSTMENT):
        check_adjustment(delta)
    with pytest.raises(InvalidStockChange, match="^a stock adjustment must not be zero$"):
        check_adjustment(0)
    for delta in (MAX_ADJUSTMENT + 1, -MAX_ADJUSTMENT - 1):
        with pytest.raises(InvalidStockChange) as refused:
            check_adjustment(delta)
        assert str(refused.value) == "a stock adjustment is at most 1,000,000,000 units either way"


def test_a_stock_figure_is_between_0_and_the_column_maximum() -> None:
    for quantity in (0, 1, MAX_STOCK):
        check_stock_figure(quantity)
    for quantity in (-1, MAX_STOCK + 1):
        with pytest.raises(InvalidStockChange, match=f"^stock must be between 0 and {MAX_STOCK}$"):
            check_stock_figure(quantity)
    with pytest.raises(InvalidStockChange, match="^stock cannot be negative$"):
        Product(
            name="T", slug="t", sku="T", price=Decimal(1), created_at=AT, updated_at=AT, stock_quantity=-1
        )


def test_an_adjustment_stops_at_zero_and_at_the_maximum_naming_what_is_there() -> None:
    p = product(stock=4)
    with pytest.raises(InsufficientStock) as short:
        p.adjust_stock(-5, at=LATER, actor_id=1, reason="count")
    assert (short.value.product_id, short.value.requested, short.value.available) == (7, 5, 4)
    assert str(short.value) == "insufficient stock for product 7: requested 5, available 4"
    p.adjust_stock(-4, at=LATER, actor_id=1, reason="count")
    assert p.stock_quantity == 0
    p.adjust_stock(MAX_ADJUSTMENT, at=LATER, actor_id=1, reason="delivery")
    full = product(stock=MAX_STOCK - 1)
    full.adjust_stock(1, at=LATER, actor_id=1, reason="found one")
    assert full.stock_quantity == MAX_STOCK
    with pytest.raises(InvalidStockChange, match=f"^stock cannot exceed {MAX_STOCK} units$"):
        full.adjust_stock(1, at=LATER, actor_id=1, reason="one more")
    # An unsaved product is named as product 0.
    with pytest.raises(InsufficientStock, match="^insufficient stock for product 0:"):
        product(stock=0, pid=None).adjust_stock(-1, at=LATER, actor_id=1, reason="count")


def test_a_reason_is_needed_for_changes_by_hand_and_is_at_most_200_characters() -> None:
    for kind in (MovementKind.ADJUSTMENT, MovementKind.CORRECTION):
        with pytest.raises(InvalidStockChange, match=f"^a stock {kind.value} needs a reason$"):
            StockMovement(1, 1, 1, kind, AT, 1, "  ")
    StockMovement(1, 1, 1, MovementKind.ADJUSTMENT, AT, 1, "r" * MAX_REASON)
    with pytest.raises(InvalidStockChange, match=f"^a reason has at most {MAX_REASON} characters$"):
        StockMovement(1, 1, 1, MovementKind.ADJUSTMENT, AT, 1, "r" * (MAX_REASON + 1))


def test_order_lines_are_1_to_50_each_product_once_1_to_1000_units() -> None:
    check_lines([(1, 1)])
    check_lines([(i, MAX_QUANTITY) for i in range(MAX_LINES)])
    with pytest.raises(InvalidOrder, match=f"^an order has between 1 and {MAX_LINES} lines$"):
        check_lines([])
    with pytest.raises(InvalidOrder, match=f"^an order has between 1 and {MAX_LINES} lines$"):
        check_lines([(i, 1) for i in range(MAX_LINES + 1)])
    with pytest.raises(InvalidOrder, match="^each product may appear only once in an order$"):
        check_lines([(1, 1), (1, 2)])
    for quantity in (0, MAX_QUANTITY + 1):
        with pytest.raises(
            InvalidOrder, match=f"^quantity for product 3 must be between 1 and {MAX_QUANTITY}$"
        ):
            check_lines([(1, 1), (3, quantity)])


def test_placing_names_the_product_or_buyer_that_stops_it() -> None:
    buyer = User.create(email="b@shop.test", name="B", password_hash="x", at=AT)
    buyer.id = 4
    off = product()
    off.update(at=AT, actor_id=1, is_active=False)
    with pytest.raises(ProductUnavailable, match="^product 7 is not available for sale$") as unavailable:
        Order.place(number="ORD-1", buyer=buyer, items=[(off, 1)], actor_id=4, at=AT)
    assert unavailable.value.product_id == 7
    off.update(at=AT, actor_id=1, is_active=True)
    assert off.is_active is True
    buyer.deactivate(LATER)
    with pytest.raises(InactiveUser, match="^user 4 is deactivated and cannot place orders$") as inactive:
        Order.place(number="ORD-1", buyer=buyer, items=[(off, 1)], actor_id=4, at=AT)
    assert inactive.value.user_id == 4
    buyer.reactivate(LATER + timedelta(minutes=1))
    assert (buyer.is_active, buyer.updated_at) == (True, LATER + timedelta(minutes=1))


def test_an_order_total_is_a_decimal_of_cents() -> None:
    buyer = User.create(email="b@shop.test", name="B", password_hash="x", at=AT)
    buyer.id = 4
    order = Order.place(number="ORD-1", buyer=buyer, items=[(product(), 3)], actor_id=4, at=AT)
    assert isinstance(order.total_amount, Decimal) and str(order.total_amount) == "7.50"


def test_only_a_pending_order_expires_and_the_refusal_names_both_statuses() -> None:
    buyer = User.create(email="b@shop.test", name="B", password_hash="x", at=AT)
    buyer.id = 4
    tea = product()
    order = Order.place(number="ORD-1", buyer=buyer, items=[(tea, 2)], actor_id=4, at=AT)
    order.id = 9
    order.change_status(OrderStatus.CONFIRMED, actor_id=1, at=LATER)
    with pytest.raises(IllegalStatusChange) as refused:
        order.expire({tea.id: tea}, at=LATER)
    assert (refused.value.from_status, refused.value.to_status) == ("confirmed", "expired")
    assert str(refused.value) == "cannot change order status from 'confirmed' to 'expired'"
    pending = Order.place(number="ORD-2", buyer=buyer, items=[(tea, 2)], actor_id=4, at=AT)
    pending.expire({tea.id: tea}, at=LATER)
    assert [(m.kind, m.delta, m.created_at, m.actor_id) for m in pending.stock_movements] == [
        (MovementKind.EXPIRY, 2, LATER, None)
    ]
    assert tea.updated_at == LATER


def test_refusals_carry_what_they_name() -> None:
    cycle = CategoryCycle(3, 5)
    assert (cycle.category_id, cycle.parent_id) == (3, 5)
    assert str(cycle) == "category 5 cannot be the parent of category 3: that would make a cycle"
    stuck = IllegalStatusChange("shipped", "cancelled", "why not")
    assert (stuck.from_status, stuck.to_status) == ("shipped", "cancelled")
    assert str(stuck) == "cannot change order status from 'shipped' to 'cancelled': why not"


def test_a_category_cannot_move_under_itself_or_its_descendants() -> None:
    books = Category.create(name="Books", description="Paper", parent_id=None, at=AT)
    books.id = 3
    assert (books.description, books.created_at, books.updated_at) == ("Paper", AT, AT)
    with pytest.raises(CategoryCycle) as refused:
        books.update(at=LATER, parent_id=5, parent_ancestry=[5, 3])
    assert (refused.value.category_id, refused.value.parent_id) == (3, 5)
    assert (books.parent_id, books.updated_at) == (None, AT)
    books.update(at=LATER, parent_id=6, parent_ancestry=[6, 1])
    assert (books.parent_id, books.updated_at) == (6, LATER)


def test_a_product_keeps_what_it_was_created_with() -> None:
    p = Product.create(name="Tea", sku=" t-1 ", price=Decimal("2.5"), at=AT, description="Green")
    assert (p.sku, p.price, p.description, p.stock_quantity, p.created_at, p.updated_at) == (
        "T-1",
        Decimal("2.50"),
        "Green",
        0,
        AT,
        AT,
    )
    p.update(at=LATER, actor_id=1, name="Black Tea")
    assert (p.name, p.slug) == ("Black Tea", "black-tea")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Home & Garden", "home-garden"),
        ("--Déjà vu!--", "deja-vu"),
        ("Ärger", "arger"),
        ("***", "item"),
        ("", "item"),
    ],
)
def test_a_slug_is_lower_case_ascii_words_joined_by_hyphens(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_an_email_with_invisible_characters_is_refused_with_a_reason() -> None:
    assert normalize_email("  Ann@Shop.TEST ") == "ann@shop.test"
    for email in ("ann @shop.test", "ann\u200b@shop.test", "ann\x00@shop.test"):
        with pytest.raises(InvalidEmail) as refused:
            normalize_email(email)
        assert (
            str(refused.value) == "an e-mail address may not contain spaces, control or invisible characters"
        )


def test_stock_events_fire_when_a_product_runs_out_or_comes_back() -> None:
    tea = product(stock=2)
    tea.take_events()
    tea.supply(2, at=LATER, actor_id=5)  # out
    tea.restock(2, MovementKind.CANCELLATION, at=LATER, actor_id=5)  # back
    tea.supply(1, at=LATER, actor_id=5)  # still some
    tea.adjust_stock(1, at=LATER, actor_id=6, reason="r")  # by hand; it was not out
    tea.restock(0, MovementKind.EXPIRY, at=LATER, actor_id=None)  # no change
    assert [(e.type, e.subject, e.at, e.actor_id) for e in tea.take_events()] == [
        (EventType.PRODUCT_OUT_OF_STOCK, tea, LATER, 5),
        (EventType.PRODUCT_BACK_IN_STOCK, tea, LATER, 5),
        (EventType.STOCK_ADJUSTED, tea, LATER, 6),
    ]


def test_entities_are_equal_by_kind_and_id_and_unsaved_ones_only_to_themselves() -> None:
    a, b = product(pid=1), product(pid=1)
    assert a == b and hash(a) == hash(b)
    assert a != product(pid=2)
    new, other_new = product(pid=None), product(pid=None)
    assert new == new and new != other_new and new != a and a != new
    assert hash(new) == id(new) and len({new, other_new}) == 2
    books = Category.create(name="Books", description=None, parent_id=None, at=AT)
    books.id = 1
    assert hash(books) != hash(a) and books != a
