"""The stock property of tests/unit/test_properties.py over every storage: any mix of orders, cancels and
adjustments keeps each product's stock equal to the sum of its ledger, never below zero, and a refused
operation writes nothing."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.errors import ApplicationError
from application.orders import cancel_order
from application.products import adjust_stock, check_stock
from domain.errors import DomainError
from domain.orders import Order
from tests.contract.conftest import MakeUow
from tests.contract.helpers import stock_of
from tests.contract.test_stock_ledger import Shop
from tests.unit.test_properties import changes

_skus = itertools.count(1)


@pytest.fixture
def shop(make_uow: MakeUow) -> Shop:
    return Shop(make_uow)


# The storage outlives the examples: each example makes products of its own.
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(initial=st.lists(st.integers(0, 10), min_size=2, max_size=2), operations=changes(2))
def test_stock_stays_equal_to_its_ledger_under_any_mix_of_changes(
    shop: Shop, initial: list[int], operations: list[tuple[str, int, int]]
) -> None:
    products = [shop.product(f"H-{next(_skus)}", stock=n) for n in initial]
    orders: list[Order] = []
    for kind, which, amount in operations:
        ledgers = [shop.ledger(p) for p in products]
        try:
            if kind == "order":
                orders.append(shop.order((products[which], amount)))
            elif kind == "cancel" and orders:
                cancel_order(
                    orders[which % len(orders)].id, uow=shop.make_uow(), actor=shop.admin, clock=shop.clock
                )
            elif kind == "adjust":
                adjust_stock(
                    products[which].id,
                    amount,
                    "count",
                    uow=shop.make_uow(),
                    actor=shop.admin,
                    clock=shop.clock,
                )
        except (DomainError, ApplicationError):
            assert [shop.ledger(p) for p in products] == ledgers  # refused: nothing written
    for product in products:
        stock = stock_of(shop.make_uow, product)
        assert stock == sum(delta for _, delta, *_ in shop.ledger(product)) >= 0
    assert check_stock(uow=shop.make_uow()) == []
