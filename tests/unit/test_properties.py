"""Property-based rules (Hypothesis) over the in-memory fakes: any sequence of status moves follows
ALLOWED_CHANGES or is refused with nothing changed, and a cancel gives the stock back once; money is exact
for any prices and quantities in range; any mix of orders, cancels and adjustments keeps every product's
stock equal to its ledger and never below zero."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import ApplicationError
from application.orders import OrderItem, PlaceOrder, cancel_order, change_order_status, place_order
from application.products import CreateProduct, adjust_stock, check_stock, create_product
from application.users import ensure_admin
from domain.catalog import Product
from domain.errors import DomainError, IllegalStatusChange
from domain.money import MAX_AMOUNT
from domain.orders import ALLOWED_CHANGES, MAX_LINES, MAX_QUANTITY, Order, OrderStatus, can_change
from domain.stock import MovementKind
from domain.users import User
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWork, InMemoryUnitOfWorkRunner
from tests.doubles.security import FastPasswordHasher
from tests.unit.conftest import done, dump

AT = datetime(2026, 11, 22, tzinfo=UTC)


class Shop:
    """A fresh store per example, with an admin and a customer."""

    def __init__(self) -> None:
        self.store, self.clock = InMemoryStore(), FixedClock(AT)
        runner = InMemoryUnitOfWorkRunner(self.store)
        self.admin = done(
            ensure_admin(
                "a@shop.test",
                "quartz-lantern-7",
                "A",
                runner=runner,
                hasher=FastPasswordHasher(),
                clock=self.clock,
            )
        )
        self.buyer = User.create(email="b@shop.test", name="B", password_hash="x", at=AT)
        with self.uow() as uow:
            uow.users.add(self.buyer)
            uow.commit()

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def product(self, sku: str, stock: int) -> Product:
        cmd = CreateProduct(f"Item {sku}", sku, Decimal("3.50"), stock_quantity=stock)
        return create_product(cmd, uow=self.uow(), actor=self.admin, clock=self.clock)

    def order(self, *lines: tuple[Product, int]) -> Order:
        cmd = PlaceOrder(tuple(OrderItem(p.id, q) for p, q in lines))  # type: ignore[arg-type]
        return place_order(cmd, uow=self.uow(), actor=self.buyer, clock=self.clock)

    def stock(self, product: Product) -> int:
        return self.store.tables.products[product.id].stock_quantity  # type: ignore[index]

    def ledger(self, product: Product) -> list[tuple[MovementKind, int]]:
        return [(m.kind, m.delta) for m in self.store.tables.movements if m.product_id == product.id]


@given(moves=st.lists(st.sampled_from(list(OrderStatus)), max_size=8))
def test_any_sequence_of_moves_follows_the_rules_or_changes_nothing(moves: list[OrderStatus]) -> None:
    shop = Shop()
    item = shop.product("P-1", stock=5)
    order = shop.order((item, 2))
    status = OrderStatus.PENDING
    for target in moves:
        before = dump(shop.store)
        if can_change(status, target):
            changed = change_order_status(
                order.id, target, uow=shop.uow(), actor=shop.admin, clock=shop.clock
            )
            assert changed.status is target and target in ALLOWED_CHANGES[status]
            status = target
        else:
            with pytest.raises(IllegalStatusChange):
                change_order_status(order.id, target, uow=shop.uow(), actor=shop.admin, clock=shop.clock)
            assert dump(shop.store) == before
    assert shop.store.tables.orders[order.id].status is status  # type: ignore[index]
    returned = [delta for kind, delta in shop.ledger(item) if kind is MovementKind.CANCELLATION]
    assert returned == ([2] if status is OrderStatus.CANCELLED else [])
    assert shop.stock(item) == (5 if status is OrderStatus.CANCELLED else 3)


@given(repeats=st.integers(min_value=1, max_value=4))
def test_a_cancel_gives_the_stock_back_once_however_often_it_is_asked(repeats: int) -> None:
    shop = Shop()
    item = shop.product("P-1", stock=4)
    order = shop.order((item, 3))
    for _ in range(repeats):
        cancel_order(order.id, uow=shop.uow(), actor=shop.buyer, clock=shop.clock)
    assert shop.stock(item) == 4
    assert [k for k, _ in shop.ledger(item)].count(MovementKind.CANCELLATION) == 1


cents = st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100) // MAX_QUANTITY)
line = st.tuples(cents, st.integers(min_value=1, max_value=MAX_QUANTITY))


@given(lines=st.lists(line, min_size=1, max_size=MAX_LINES))
def test_line_totals_and_the_order_total_are_exact_for_any_prices_and_quantities(
    lines: list[tuple[int, int]],
) -> None:
    buyer = User.create(email="b@shop.test", name="B", password_hash="x", at=AT)
    buyer.id = 1
    items = []
    for i, (price_cents, quantity) in enumerate(lines):
        product = Product.create(
            name=f"P{i}", sku=f"P-{i}", price=Decimal(price_cents) / 100, stock_quantity=MAX_QUANTITY, at=AT
        )
        product.id = i + 1
        items.append((product, quantity))
    order = Order.place(number="ORD-1", buyer=buyer, items=items, actor_id=1, at=AT)
    for (price_cents, quantity), order_line in zip(lines, order.lines, strict=True):
        assert isinstance(order_line.line_total, Decimal) and order_line.line_total.as_tuple().exponent == -2
        assert order_line.line_total * 100 == price_cents * quantity
    assert isinstance(order.total_amount, Decimal)
    assert order.total_amount * 100 == sum(p * q for p, q in lines)


def changes(products: int) -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """Sequences of (what, which product or order, how much): orders, cancels and adjustments (also the ones
    the rules refuse: more than is in stock, a zero adjustment)."""
    operation = st.one_of(
        st.tuples(st.just("order"), st.integers(0, products - 1), st.integers(1, 6)),
        st.tuples(st.just("cancel"), st.integers(0, 9), st.just(0)),
        st.tuples(st.just("adjust"), st.integers(0, products - 1), st.integers(-8, 8)),
    )
    return st.lists(operation, max_size=15)


@given(initial=st.lists(st.integers(0, 10), min_size=3, max_size=3), operations=changes(3))
def test_any_mix_of_orders_cancels_and_adjustments_keeps_stock_equal_to_its_ledger(
    initial: list[int], operations: list[tuple[str, int, int]]
) -> None:
    shop = Shop()
    products = [shop.product(f"P-{i}", stock=n) for i, n in enumerate(initial)]
    orders: list[Order] = []
    for kind, which, amount in operations:
        before = dump(shop.store)
        try:
            if kind == "order":
                orders.append(shop.order((products[which], amount)))
            elif kind == "cancel" and orders:
                cancel_order(
                    orders[which % len(orders)].id, uow=shop.uow(), actor=shop.admin, clock=shop.clock
                )
            elif kind == "adjust":
                adjust_stock(
                    products[which].id, amount, "count", uow=shop.uow(), actor=shop.admin, clock=shop.clock
                )
        except (DomainError, ApplicationError):
            assert dump(shop.store) == before  # a refused operation changes nothing
    for product, start in zip(products, initial, strict=True):
        ledger = shop.ledger(product)
        assert shop.stock(product) == sum(delta for _, delta in ledger) >= 0
        assert ledger[0] == (MovementKind.INITIAL, start)
    assert check_stock(uow=shop.uow()) == []
