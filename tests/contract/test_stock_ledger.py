"""The stock ledger over every storage: each kind of movement is written with its actor and reason in the
same transaction as the change, a refused change writes none, the ledger pages and filters like the other
lists, reconciliation finds no drift, expiry gives stock back once, and the low-stock list."""

from datetime import timedelta
from decimal import Decimal

import pytest

from application.errors import AuthenticationFailed, Forbidden, NotFound
from application.lists import MovementFilter, ProductFilter, Window
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    expire_pending_orders,
    place_order,
)
from application.products import (
    CreateProduct,
    ProductPatch,
    adjust_stock,
    check_stock,
    create_product,
    list_products,
    stock_movements,
    update_product,
)
from domain.catalog import Product
from domain.errors import InsufficientStock, InvalidStockChange
from domain.orders import EXPIRED, OrderStatus
from domain.stock import MovementKind
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_user, stock_of
from tests.doubles.clock import FixedClock

Row = tuple[object, ...]


class Shop:
    def __init__(self, make_uow: MakeUow) -> None:
        self.make_uow = make_uow
        self.clock = FixedClock(T0)
        self.admin = add_user(make_uow, "admin@shop.test", is_admin=True)
        self.buyer = add_user(make_uow, "ann@shop.test")

    def product(self, sku: str = "L-1", stock: int = 10, threshold: int | None = None) -> Product:
        cmd = CreateProduct(
            f"Item {sku}", sku, Decimal("5.00"), stock_quantity=stock, low_stock_threshold=threshold
        )
        return create_product(cmd, uow=self.make_uow(), actor=self.admin, clock=self.clock)

    def order(self, *lines: tuple[Product, int]):  # type: ignore[no-untyped-def]
        cmd = PlaceOrder(tuple(OrderItem(p.id, q) for p, q in lines))  # type: ignore[arg-type]
        return place_order(cmd, uow=self.make_uow(), actor=self.buyer, clock=self.clock)

    def ledger(self, product: Product, **filters: object) -> list[Row]:
        """(kind, delta, quantity, actor, reason, order), oldest first."""
        page = stock_movements(
            product.id,  # type: ignore[arg-type]
            MovementFilter(**filters),  # type: ignore[arg-type]
            Window(100),
            uow=self.make_uow(),
            actor=self.admin,
        )
        return [(m.kind, m.delta, m.quantity, m.actor_id, m.reason, m.order_id) for m in reversed(page.items)]


@pytest.fixture
def shop(make_uow: MakeUow) -> Shop:
    return Shop(make_uow)


def test_every_kind_of_movement_is_written_with_its_actor_and_reason(shop: Shop) -> None:
    admin, buyer = shop.admin.id, shop.buyer.id
    item = shop.product(stock=10)
    placed = shop.order((item, 3))
    shop.clock.advance(timedelta(minutes=1))
    cancel_order(placed.id, uow=shop.make_uow(), actor=shop.buyer, clock=shop.clock)
    adjust_stock(item.id, 5, "delivery 42", uow=shop.make_uow(), actor=shop.admin, clock=shop.clock)
    patch = ProductPatch(stock_quantity=12, stock_reason="shelf count")
    update_product(item.id, patch, uow=shop.make_uow(), actor=shop.admin, clock=shop.clock)
    kept = shop.order((item, 2))
    shop.clock.advance(timedelta(hours=1))
    assert expire_pending_orders(timedelta(minutes=30), uow=shop.make_uow(), clock=shop.clock) == 1

    assert shop.ledger(item) == [
        (MovementKind.INITIAL, 10, 10, admin, None, None),
        (MovementKind.ORDER, -3, 7, buyer, None, placed.id),
        (MovementKind.CANCELLATION, 3, 10, buyer, None, placed.id),
        (MovementKind.ADJUSTMENT, 5, 15, admin, "delivery 42", None),
        (MovementKind.CORRECTION, -3, 12, admin, "shelf count", None),
        (MovementKind.ORDER, -2, 10, buyer, None, kept.id),
        (MovementKind.EXPIRY, 2, 12, None, EXPIRED, kept.id),
    ]
    assert stock_of(shop.make_uow, item) == 12
    assert check_stock(uow=shop.make_uow()) == []
    with shop.make_uow() as uow:
        product = uow.products.get(item.id)
        history = uow.orders.status_history(kept.id)
    assert product.updated_at == shop.clock.now()  # stock moves move the update time too
    assert [(c.to_status, c.actor_id, c.reason) for c in history] == [
        (OrderStatus.PENDING, buyer, None),
        (OrderStatus.CANCELLED, None, EXPIRED),
    ]


def test_a_multi_line_order_moves_each_product_once(shop: Shop) -> None:
    a, b = shop.product("A-1", stock=4), shop.product("B-1", stock=9)
    order = shop.order((a, 4), (b, 1))
    assert shop.ledger(a)[-1] == (MovementKind.ORDER, -4, 0, shop.buyer.id, None, order.id)
    assert shop.ledger(b)[-1] == (MovementKind.ORDER, -1, 8, shop.buyer.id, None, order.id)


def test_refused_changes_write_no_movement(shop: Shop) -> None:
    a, b = shop.product("A-1", stock=4), shop.product("B-1", stock=1)
    before = (shop.ledger(a), shop.ledger(b))
    with pytest.raises(InsufficientStock):
        shop.order((a, 1), (b, 2))
    with pytest.raises(InsufficientStock):
        adjust_stock(a.id, -5, "lost", uow=shop.make_uow(), actor=shop.admin, clock=shop.clock)
    with pytest.raises(InvalidStockChange):
        adjust_stock(a.id, 1, " ", uow=shop.make_uow(), actor=shop.admin, clock=shop.clock)
    with pytest.raises(InvalidStockChange):
        patch = ProductPatch(stock_quantity=2)  # no reason
        update_product(a.id, patch, uow=shop.make_uow(), actor=shop.admin, clock=shop.clock)
    assert (shop.ledger(a), shop.ledger(b)) == before
    assert [stock_of(shop.make_uow, p) for p in (a, b)] == [4, 1]


def test_the_ledger_filters_by_kind_and_time_and_pages_newest_first(shop: Shop) -> None:
    item = shop.product(stock=50)
    for units in (1, 2, 3):
        shop.clock.advance(timedelta(minutes=1))
        shop.order((item, units))
    assert [row[1] for row in shop.ledger(item, kind=MovementKind.ORDER)] == [-1, -2, -3]
    since = T0 + timedelta(minutes=2)
    assert [row[1] for row in shop.ledger(item, created_from=since)] == [-2, -3]
    assert [row[1] for row in shop.ledger(item, created_to=since)] == [50, -1, -2]
    with shop.make_uow() as uow:
        first = uow.products.movements(item.id, MovementFilter(), Window(2))
        rest = uow.products.movements(item.id, MovementFilter(), Window(2, after=first.next))
    assert first.total == 4 and [m.delta for m in first.items] == [-3, -2]
    assert [m.delta for m in rest.items] == [-1, 50] and rest.next is None


def test_expiry_takes_only_pending_orders_past_their_time_and_gives_stock_back_once(shop: Shop) -> None:
    item = shop.product(stock=10)
    old, confirmed = shop.order((item, 1)), shop.order((item, 2))
    change_order_status(
        confirmed.id, OrderStatus.CONFIRMED, uow=shop.make_uow(), actor=shop.admin, clock=shop.clock
    )
    shop.clock.advance(timedelta(minutes=20))
    young = shop.order((item, 3))
    shop.clock.advance(timedelta(minutes=15))
    ttl = timedelta(minutes=30)
    assert expire_pending_orders(ttl, uow=shop.make_uow(), clock=shop.clock) == 1
    assert expire_pending_orders(ttl, uow=shop.make_uow(), clock=shop.clock) == 0
    with shop.make_uow() as uow:
        statuses = [uow.orders.get(o.id).status for o in (old, confirmed, young)]
    assert statuses == [OrderStatus.CANCELLED, OrderStatus.CONFIRMED, OrderStatus.PENDING]
    assert stock_of(shop.make_uow, item) == 10 - 2 - 3
    assert [row[0] for row in shop.ledger(item)].count(MovementKind.EXPIRY) == 1
    assert check_stock(uow=shop.make_uow()) == []


def test_expiry_works_in_batches(shop: Shop) -> None:
    item = shop.product(stock=10)
    orders = [shop.order((item, 1)) for _ in range(3)]
    shop.clock.advance(timedelta(hours=1))
    expired = [expire_pending_orders(timedelta(minutes=1), uow=shop.make_uow(), clock=shop.clock, batch=2)]
    expired.append(
        expire_pending_orders(timedelta(minutes=1), uow=shop.make_uow(), clock=shop.clock, batch=2)
    )
    assert expired == [2, 1] and stock_of(shop.make_uow, item) == 10
    with shop.make_uow() as uow:
        assert {uow.orders.get(o.id).status for o in orders} == {OrderStatus.CANCELLED}


def test_drift_is_reported_per_product(shop: Shop) -> None:
    """A stock changed behind the ledger's back, and an order stored without its movements."""
    a, b, fine = shop.product("A-1", stock=5), shop.product("B-1", stock=5), shop.product("C-1", stock=5)
    a.adjust_stock(2, at=T0, actor_id=shop.admin.id, reason="r")
    a.new_movements.clear()  # the change, but not its movement
    with shop.make_uow() as uow:
        uow.products.save(a)
        uow.commit()
    shop.order((fine, 1))
    sneaky = shop.order((b, 1))
    with shop.make_uow() as uow:  # cancelled without giving stock back
        stored = uow.orders.get(sneaky.id)
        stored.status, stored.version = OrderStatus.CANCELLED, stored.version + 1  # past the order's rules
        uow.orders.save(stored)
        uow.commit()
    drift = [(d.product_id, d.stock, d.ledger, d.ordered, d.live) for d in check_stock(uow=shop.make_uow())]
    assert drift == [(a.id, 7, 5, 0, 0), (b.id, 4, 4, 1, 0)]


def test_low_stock_lists_products_at_or_below_their_threshold(shop: Shop) -> None:
    low = shop.product("LOW-1", stock=3, threshold=3)
    shop.product("OK-1", stock=4, threshold=3)
    shop.product("NONE-1", stock=0)
    zero = shop.product("ZERO-1", stock=1, threshold=0)
    shop.order((zero, 1))
    page = list_products(ProductFilter(low_stock=True), Window(10), uow=shop.make_uow(), actor=shop.admin)
    assert ([p.sku for p in page.items], page.total) == (["LOW-1", "ZERO-1"], 2)
    patch = ProductPatch(low_stock_threshold=None)
    update_product(low.id, patch, uow=shop.make_uow(), actor=shop.admin, clock=shop.clock)
    page = list_products(ProductFilter(low_stock=True), Window(10), uow=shop.make_uow(), actor=shop.admin)
    assert [p.sku for p in page.items] == ["ZERO-1"]


def test_only_admins_read_the_ledger_and_the_low_stock_list(shop: Shop) -> None:
    item = shop.product()
    with pytest.raises(Forbidden):
        stock_movements(item.id, MovementFilter(), Window(), uow=shop.make_uow(), actor=shop.buyer)
    with pytest.raises(NotFound):
        stock_movements(99999, MovementFilter(), Window(), uow=shop.make_uow(), actor=shop.admin)
    with pytest.raises(Forbidden):
        list_products(ProductFilter(low_stock=True), Window(), uow=shop.make_uow(), actor=shop.buyer)
    with pytest.raises(AuthenticationFailed):
        list_products(ProductFilter(low_stock=True), Window(), uow=shop.make_uow(), actor=None)
