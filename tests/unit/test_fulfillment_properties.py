"""Property-based fulfilment rules (Hypothesis), on the domain: for any sequence of fulfilments and their
cancellations, each succeeds exactly when a plain model says so (a refusal changes nothing), every line keeps
0 <= shipped <= ordered, its shipped units are what the fulfilments not cancelled shipped, and the order's
status and fulfillment_status follow."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.addresses import Address
from domain.errors import DomainError
from domain.fulfillments import Fulfillment, FulfillmentState
from domain.orders import FulfillmentStatus, Order, OrderLine, OrderStatus
from tests.unit.test_fulfillments import AT, LATER, state

HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")
QUANTITIES = (3, 1, 2)
Create = st.tuples(st.just("create"), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), max_size=3))
Cancel = st.tuples(st.just("cancel"), st.integers(0, 5))
Deliver = st.tuples(st.just("deliver"), st.none())


def confirmed() -> Order:
    lines = [
        OrderLine(
            product_id=i, product_name="P", quantity=q, unit_price=Decimal(1), line_total=Decimal(q), id=i
        )
        for i, q in enumerate(QUANTITIES, start=1)
    ]
    return Order(
        order_number="ORD-1", user_id=2, status=OrderStatus.CONFIRMED, total_amount=Decimal(6), created_at=AT,
        updated_at=AT, lines=lines, id=7, shipping_address=HOME,
    )  # fmt: skip


@given(st.lists(st.one_of(Create, Cancel, Deliver), max_size=12))
def test_any_sequence_keeps_shipped_within_ordered(steps) -> None:  # type: ignore[no-untyped-def]
    order = confirmed()
    made: list[Fulfillment] = []
    shipped = dict.fromkeys(range(1, 4), 0)  # the model
    changes = 0  # each a new version of the order
    for kind, arg in steps:
        before = state(order)
        if kind == "create":
            units = [(line_id, quantity) for line_id, quantity in arg]
            ids = [i for i, _ in units]
            allowed = (
                len(units) > 0
                and len(set(ids)) == len(ids)
                and all(1 <= i <= 3 and 1 <= q <= QUANTITIES[i - 1] - shipped[i] for i, q in units)
                and order.status in (OrderStatus.CONFIRMED, OrderStatus.PROCESSING)
            )
            try:
                fulfillment = Fulfillment.create(order, units, actor_id=1, at=LATER)
            except DomainError:
                assert not allowed and state(order) == before
                continue
            assert allowed
            fulfillment.id = len(made) + 1
            fulfillment.ship(order)
            made.append(fulfillment)
            changes += 1
            for i, q in units:
                shipped[i] += q
        elif kind == "cancel" and made:
            fulfillment = made[arg % len(made)]
            was = fulfillment.status
            try:
                changed = fulfillment.cancel(order, actor_id=1, at=LATER)
            except DomainError:
                assert order.status is OrderStatus.DELIVERED and state(order) == before
                continue
            assert changed is (was is FulfillmentState.FULFILLED)
            if changed:
                changes += 1
                for i, q in fulfillment.units:
                    shipped[i] -= q
        elif kind == "deliver" and order.status is OrderStatus.SHIPPED:
            order.change_status(OrderStatus.DELIVERED, actor_id=1, at=LATER)
            changes += 1
        lines = {line.id: line.quantity_shipped for line in order.lines}
        assert lines == shipped
        assert all(0 <= line.quantity_shipped <= line.quantity for line in order.lines)
        live = [f for f in made if f.status is FulfillmentState.FULFILLED]
        assert {i: sum(q for f in live for j, q in f.units if j == i) for i in shipped} == shipped
        everything = all(shipped[i] == q for i, q in enumerate(QUANTITIES, start=1))
        if not any(shipped.values()):
            assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED
        elif everything:
            assert order.fulfillment_status is FulfillmentStatus.FULFILLED
            assert order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
        else:
            assert order.fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED
            assert order.status is OrderStatus.PROCESSING
        assert order.version == 1 + changes
