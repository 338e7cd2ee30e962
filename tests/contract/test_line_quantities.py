"""The lines an order says moved (`Order.changed_lines`: a fulfilment, its cancellation, a return) are stored
with the order. (The database's CHECKs behind the domain's limits:
tests/integration/test_line_quantities_migration.py.)"""

import pytest

from domain.orders import Order
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_order, add_product, add_user


def _lines(make_uow: MakeUow, order: Order) -> list[tuple[int, int]]:
    with make_uow() as uow:
        stored = uow.orders.get(order.id)
    assert stored is not None
    return [(line.quantity_shipped, line.quantity_returned) for line in stored.lines]


@pytest.fixture
def order(make_uow: MakeUow) -> Order:
    ann = add_user(make_uow, "ann@shop.test")
    return add_order(
        make_uow, ann, (add_product(make_uow, "P-1", price="5.00"), 3), (add_product(make_uow, "P-2"), 2)
    )


def test_a_new_order_has_shipped_and_returned_nothing(make_uow: MakeUow, order: Order) -> None:
    assert _lines(make_uow, order) == [(0, 0), (0, 0)]


def test_saving_stores_the_changed_lines_only(make_uow: MakeUow, order: Order) -> None:
    with make_uow() as uow:
        loaded = uow.orders.get(order.id, for_update=True)
        assert loaded is not None
        first = loaded.lines[0]
        first.quantity_shipped, first.quantity_returned = 3, 1
        loaded.changed_lines.append(first)
        loaded.version += 1
        loaded.updated_at = T0
        uow.orders.save(loaded)
        assert loaded.changed_lines == []
        uow.commit()
    assert _lines(make_uow, order) == [(3, 1), (0, 0)]
