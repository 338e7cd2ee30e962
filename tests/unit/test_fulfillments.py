"""The fulfilment rules (domain.fulfillments, domain.orders), each at its boundary: what is left unshipped may
ship and one unit more is refused with the line named; the order's status moves through its own rules, with
one new version per change; a refusal moves nothing."""

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.addresses import Address
from domain.errors import IllegalStatusChange
from domain.events import EventType, ResourceType
from domain.fulfillment_errors import (
    FulfillmentLimit,
    FulfillmentNotCancellable,
    InvalidFulfillment,
    OrderFulfilled,
    OrderNotFulfillable,
    ShippingAddressRequired,
)
from domain.fulfillments import (
    MAX_CARRIER,
    MAX_FULFILLMENT_LINES,
    MAX_TRACKING_NUMBER,
    MAX_TRACKING_URL,
    Fulfillment,
    FulfillmentLine,
    FulfillmentState,
    Tracking,
    check_fulfillment_lines,
    check_shipment,
    unshipped,
)
from domain.orders import FulfillmentStatus, Order, OrderLine, OrderStatus
from domain.users import User

AT = datetime(2026, 12, 2, tzinfo=UTC)
LATER = AT + timedelta(hours=1)
HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")


def an_order(status: OrderStatus = OrderStatus.CONFIRMED, *quantities: int, address: bool = True) -> Order:
    lines = [
        OrderLine(product_id=i, product_name=f"P{i}", quantity=q, unit_price=Decimal("1.00"),
                  line_total=Decimal(q), id=10 + i)
        for i, q in enumerate(quantities or (3, 2), start=1)
    ]  # fmt: skip
    return Order(
        order_number="ORD-1", user_id=2, status=status, total_amount=Decimal(5), created_at=AT,
        updated_at=AT, lines=lines, version=4, id=7, shipping_address=HOME if address else None,
    )  # fmt: skip


def fulfil(order: Order, *units: tuple[int, int], fulfillment_id: int = 21, **kw) -> Fulfillment:
    fulfillment = Fulfillment.create(order, list(units), actor_id=1, at=LATER, **kw)
    fulfillment.id = fulfillment_id
    fulfillment.ship(order)
    return fulfillment


def moves(order: Order) -> list[tuple]:
    return [(c.from_status, c.to_status, c.reason, c.actor_id, c.at) for c in order.new_status_changes]


def state(x: Order | Fulfillment) -> tuple:
    """What a change moves (events refer back to their subject, so no asdict)."""
    if isinstance(x, Fulfillment):
        return (x.status, x.version, x.updated_at, x.cancelled_at, x.cancelled_by, len(x.domain_events))
    return (
        x.status, x.version, x.updated_at,
        [(line.quantity_shipped, line.quantity_returned) for line in x.lines],
        len(x.new_status_changes), len(x.domain_events), len(x.changed_lines),
    )  # fmt: skip


def shipped(order: Order) -> list[int]:
    return [line.quantity_shipped for line in order.lines]


class TestCreate:
    def test_a_first_partial_fulfilment_moves_a_confirmed_order_to_processing(self) -> None:
        order = an_order()
        fulfillment = Fulfillment.create(
            order, [(11, 2)], Tracking("DHL", "JD01", "https://dhl.test/JD01"), actor_id=1, at=LATER
        )
        assert (fulfillment.order_id, fulfillment.lines) == (7, [FulfillmentLine(11, 2)])
        assert (fulfillment.carrier, fulfillment.tracking_number, fulfillment.tracking_url) == (
            "DHL", "JD01", "https://dhl.test/JD01",
        )  # fmt: skip
        assert (fulfillment.status, fulfillment.version, fulfillment.created_by) == (
            FulfillmentState.FULFILLED, 1, 1,
        )  # fmt: skip
        assert (fulfillment.created_at, fulfillment.updated_at, fulfillment.cancelled_at) == (
            LATER,
            LATER,
            None,
        )
        assert shipped(order) == [0, 0] and order.version == 4  # nothing moves before it is stored
        [event] = fulfillment.domain_events
        assert (event.type, event.subject, event.actor_id, event.at) == (
            EventType.FULFILLMENT_CREATED, fulfillment, 1, LATER,
        )  # fmt: skip
        assert event.type.resource_type is ResourceType.FULFILLMENT
        fulfillment.id = 21
        fulfillment.ship(order)
        assert shipped(order) == [2, 0] and order.changed_lines == [order.lines[0]]
        assert order.status is OrderStatus.PROCESSING
        assert order.fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED
        assert (order.version, order.updated_at) == (5, LATER)
        assert moves(order) == [(OrderStatus.CONFIRMED, OrderStatus.PROCESSING, "fulfillment 21", 1, LATER)]
        assert [(e.type, e.subject) for e in order.domain_events] == [(EventType.ORDER_STATUS_CHANGED, order)]

    def test_the_one_that_ships_the_last_unit_moves_it_to_shipped(self) -> None:
        order = an_order()
        fulfil(order, (11, 2), fulfillment_id=21)
        order.new_status_changes.clear()
        order.domain_events.clear()
        order.changed_lines.clear()
        fulfil(order, (11, 1), (12, 2), fulfillment_id=22)
        assert shipped(order) == [3, 2] and order.status is OrderStatus.SHIPPED
        assert order.fulfillment_status is FulfillmentStatus.FULFILLED
        assert moves(order) == [(OrderStatus.PROCESSING, OrderStatus.SHIPPED, "fulfillment 22", 1, LATER)]
        assert order.version == 6
        assert order.changed_lines == order.lines

    def test_one_fulfilment_of_everything_moves_a_confirmed_order_twice_in_one_version(self) -> None:
        order = an_order()
        fulfil(order, (12, 2), (11, 3))
        assert moves(order) == [
            (OrderStatus.CONFIRMED, OrderStatus.PROCESSING, "fulfillment 21", 1, LATER),
            (OrderStatus.PROCESSING, OrderStatus.SHIPPED, "fulfillment 21", 1, LATER),
        ]
        assert [e.type for e in order.domain_events] == [EventType.ORDER_STATUS_CHANGED] * 2
        assert order.version == 5 and order.status is OrderStatus.SHIPPED

    def test_a_processing_order_that_still_has_units_left_stays_processing(self) -> None:
        order = an_order(OrderStatus.PROCESSING)
        fulfil(order, (11, 3), (12, 1))
        assert order.status is OrderStatus.PROCESSING and moves(order) == [] and order.version == 5
        assert order.fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED

    def test_exactly_what_is_left_ships_and_one_unit_more_is_refused(self) -> None:
        order = an_order()
        fulfil(order, (11, 1))
        before = copy.deepcopy(order)
        with pytest.raises(FulfillmentLimit) as refused:
            Fulfillment.create(order, [(12, 1), (11, 3)], actor_id=1, at=LATER)
        assert str(refused.value) == "order line 11: cannot ship 3: 2 left unshipped"
        assert refused.value.extensions() == {"order_line_id": 11, "requested": 3, "available": 2}
        assert state(order) == state(before)
        fulfil(order, (11, 2))
        assert shipped(order) == [3, 0]

    @pytest.mark.parametrize(
        ("status", "message"),
        [
            (OrderStatus.PENDING, "order 7 is pending: confirm it first"),
            (OrderStatus.SHIPPED, "order 7 is shipped: only a confirmed or processing order ships"),
            (OrderStatus.DELIVERED, "order 7 is delivered: only a confirmed or processing order ships"),
            (OrderStatus.CANCELLED, "order 7 is cancelled: only a confirmed or processing order ships"),
        ],
    )
    def test_only_a_confirmed_or_processing_order_ships(self, status: OrderStatus, message: str) -> None:
        order = an_order(status)
        with pytest.raises(OrderNotFulfillable, match=f"^{message}$") as refused:
            Fulfillment.create(order, [(11, 1)], actor_id=1, at=LATER)
        assert (refused.value.order_id, refused.value.status) == (7, status.value)
        with pytest.raises(OrderNotFulfillable):
            check_shipment(order, [(11, 1)])
        assert shipped(order) == [0, 0] and order.version == 4

    def test_a_shipping_address_is_needed(self) -> None:
        order = an_order(address=False)
        with pytest.raises(
            ShippingAddressRequired, match="^order 7 has no shipping address; set one before shipping$"
        ):
            Fulfillment.create(order, [(11, 1)], actor_id=1, at=LATER)

    def test_a_line_of_another_order_is_invalid(self) -> None:
        order = an_order()
        with pytest.raises(InvalidFulfillment, match="^order line 13 is not a line of order 7$"):
            Fulfillment.create(order, [(11, 1), (13, 1)], actor_id=1, at=LATER)
        assert shipped(order) == [0, 0]

    @pytest.mark.parametrize(
        ("lines", "message"),
        [
            ([], f"a fulfillment has between 1 and {MAX_FULFILLMENT_LINES} lines"),
            ([(i, 1) for i in range(MAX_FULFILLMENT_LINES + 1)], "a fulfillment has between 1 and 50 lines"),
            ([(11, 1), (11, 1)], "each order line may appear only once in a fulfillment"),
            ([(11, 0)], "quantity for order line 11 must be at least 1"),
            ([(12, 1), (11, -1)], "quantity for order line 11 must be at least 1"),
        ],
    )
    def test_the_lines_structure(self, lines: list[tuple[int, int]], message: str) -> None:
        with pytest.raises(InvalidFulfillment, match=f"^{message}$"):
            check_fulfillment_lines(lines)
        with pytest.raises(InvalidFulfillment, match=f"^{message}$"):
            Fulfillment.create(an_order(), lines, actor_id=1, at=LATER)

    def test_the_lines_structure_at_its_bounds(self) -> None:
        check_fulfillment_lines([(11, 1)])
        check_fulfillment_lines([(i, 1) for i in range(MAX_FULFILLMENT_LINES)])
        assert MAX_FULFILLMENT_LINES == 50

    def test_tracking_limits(self) -> None:
        assert (MAX_CARRIER, MAX_TRACKING_NUMBER, MAX_TRACKING_URL) == (100, 100, 2000)
        url = "https://t.test/" + "x" * (MAX_TRACKING_URL - 15)
        Tracking("c" * MAX_CARRIER, "n" * MAX_TRACKING_NUMBER, url).check()
        Tracking("c", "n", "http://t.test").check()
        Tracking().check()
        for tracking, message in (
            (Tracking(carrier="c" * 101), "carrier has between 1 and 100 characters"),
            (Tracking(carrier=""), "carrier has between 1 and 100 characters"),
            (Tracking(tracking_number="n" * 101), "tracking_number has between 1 and 100 characters"),
            (Tracking(tracking_url=url + "x"), "tracking_url has between 1 and 2000 characters"),
            (Tracking(tracking_url="ftp://t.test/1"), "tracking_url must be an http or https URL"),
            (Tracking(tracking_url="https://"), "tracking_url must be an http or https URL"),
        ):
            with pytest.raises(InvalidFulfillment, match=f"^{message}$"):
                tracking.check()
            with pytest.raises(InvalidFulfillment, match=f"^{message}$"):
                Fulfillment.create(an_order(), [(11, 1)], tracking, actor_id=1, at=LATER)


class TestTheRest:
    def test_a_manual_change_to_shipped_ships_what_is_left_without_address_or_reason(self) -> None:
        order = an_order(OrderStatus.PROCESSING, address=False)
        fulfil(order, (11, 1), address_required=False)
        order.new_status_changes.clear()
        rest = Fulfillment.of_the_rest(order, actor_id=1, at=LATER)
        assert rest.units == [(11, 2), (12, 2)]
        assert (rest.carrier, rest.tracking_number, rest.tracking_url) == (None, None, None)
        rest.id = 22
        rest.ship(order, announce=False)
        assert order.status is OrderStatus.SHIPPED and shipped(order) == [3, 2]
        assert moves(order) == [(OrderStatus.PROCESSING, OrderStatus.SHIPPED, None, 1, LATER)]

    @pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.SHIPPED])
    def test_only_where_the_status_rules_allow_the_move(self, status: OrderStatus) -> None:
        order = an_order(status)
        with pytest.raises(
            IllegalStatusChange, match=f"^cannot change order status from '{status.value}' to 'shipped'$"
        ):
            Fulfillment.of_the_rest(order, actor_id=1, at=LATER)


class TestCancel:
    def test_its_units_go_back_and_a_shipped_order_back_to_processing(self) -> None:
        order = an_order()
        first = fulfil(order, (11, 1), fulfillment_id=21)
        second = fulfil(order, (11, 2), (12, 2), fulfillment_id=22)
        assert order.status is OrderStatus.SHIPPED and order.version == 6
        order.new_status_changes.clear()
        order.domain_events.clear()
        order.changed_lines.clear()
        second.domain_events.clear()
        assert second.cancel(order, actor_id=3, at=LATER + timedelta(1)) is True
        assert shipped(order) == [1, 0] and order.changed_lines == order.lines
        assert order.status is OrderStatus.PROCESSING and order.version == 7
        assert order.fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED
        assert moves(order) == [
            (OrderStatus.SHIPPED, OrderStatus.PROCESSING, "fulfillment 22 cancelled", 3, LATER + timedelta(1))
        ]
        assert [e.type for e in order.domain_events] == [EventType.ORDER_STATUS_CHANGED]
        assert state(second) == (
            FulfillmentState.CANCELLED, 2, LATER + timedelta(1), LATER + timedelta(1), 3, 1,
        )  # fmt: skip
        [event] = second.domain_events
        assert (event.type, event.subject, event.actor_id) == (EventType.FULFILLMENT_CANCELLED, second, 3)
        order.new_status_changes.clear()
        assert first.cancel(order, actor_id=3, at=LATER) is True
        assert shipped(order) == [0, 0] and order.status is OrderStatus.PROCESSING and moves(order) == []
        assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED and order.version == 8

    def test_cancelling_twice_changes_nothing(self) -> None:
        order = an_order()
        fulfillment = fulfil(order, (11, 1))
        fulfillment.cancel(order, actor_id=3, at=LATER)
        before, fulfilled = copy.deepcopy(order), copy.deepcopy(fulfillment)
        assert fulfillment.cancel(order, actor_id=3, at=LATER) is False
        assert state(order) == state(before) and state(fulfillment) == state(fulfilled)

    def test_not_once_the_order_is_delivered(self) -> None:
        order = an_order()
        fulfillment = fulfil(order, (11, 3), (12, 2))
        order.status = OrderStatus.DELIVERED
        before = copy.deepcopy(order)
        with pytest.raises(
            FulfillmentNotCancellable, match="^fulfillment 21 cannot be cancelled: order 7 was delivered$"
        ):
            fulfillment.cancel(order, actor_id=3, at=LATER)
        assert state(order) == state(before) and fulfillment.status is FulfillmentState.FULFILLED

    def test_returned_units_stay_shipped(self) -> None:
        order = an_order()
        first = fulfil(order, (11, 2), fulfillment_id=21)
        fulfil(order, (11, 1), fulfillment_id=22)
        order.lines[0].quantity_returned = 1  # shipped 3, returned 1: 2 may be unshipped, not 3
        allowed, allowed_order = copy.deepcopy(first), copy.deepcopy(order)
        assert allowed.cancel(allowed_order, actor_id=3, at=LATER) is True  # 3 - 2 = 1 >= 1 returned
        assert shipped(allowed_order) == [1, 0]
        order.lines[0].quantity_returned = 2
        before = copy.deepcopy(order)
        with pytest.raises(
            FulfillmentNotCancellable,
            match="^fulfillment 21 cannot be cancelled: 2 units of order line 11 were returned$",
        ):
            first.cancel(order, actor_id=3, at=LATER)
        assert state(order) == state(before) and first.status is FulfillmentState.FULFILLED


class TestOrder:
    def test_fulfillment_status_from_the_lines(self) -> None:
        order = an_order()
        assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED
        order.lines[1].quantity_shipped = 1
        assert order.fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED
        order.lines[1].quantity_shipped = 2
        assert order.fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED
        order.lines[0].quantity_shipped = 3
        assert order.fulfillment_status is FulfillmentStatus.FULFILLED
        assert unshipped(order) == []
        order.lines[0].quantity_shipped = 2
        assert unshipped(order) == [(11, 1)]
        assert [v.value for v in FulfillmentStatus] == ["unfulfilled", "partially_fulfilled", "fulfilled"]
        assert [v.value for v in FulfillmentState] == ["fulfilled", "cancelled"]

    def test_an_order_with_shipped_units_cannot_be_cancelled_as_a_whole(self) -> None:
        admin = User.create(email="a@shop.test", name="A", password_hash="h", at=AT)
        admin.id, admin.is_admin = 1, True
        order = an_order(OrderStatus.PROCESSING)
        order.lines[1].quantity_shipped = 1
        before = copy.deepcopy(order)
        with pytest.raises(OrderFulfilled) as refused:
            order.cancel({}, by=admin, at=LATER)
        assert str(refused.value) == (
            "order 7 has 1 shipped units: it cannot be cancelled; cancel its fulfilments, or take the units "
            "back with a return"
        )
        assert (refused.value.order_id, refused.value.shipped) == (7, 1)
        assert state(order) == state(before)


def test_more_than_is_left_is_the_refusal_even_once_the_order_shipped() -> None:
    order = an_order()
    fulfil(order, (11, 3), (12, 2))
    with pytest.raises(FulfillmentLimit, match="^order line 12: cannot ship 1: 0 left unshipped$"):
        Fulfillment.create(order, [(12, 1)], actor_id=1, at=LATER)
