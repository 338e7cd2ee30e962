"""The return rules (domain.returns, Order.receive_return / return_status), each pinned at its boundary:
what is allowed at the limit, what one over is refused with, its message, and that nothing moved."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.catalog import Product
from domain.events import EventType
from domain.money import MAX_AMOUNT
from domain.orders import Order, OrderLine, OrderStatus, ReturnStatus
from domain.return_errors import (
    IllegalReturnChange,
    InvalidReturn,
    ReturnAlreadyRefunded,
    ReturnLimit,
    ReturnWindowClosed,
)
from domain.returns import (
    MAX_RETURN_LINES,
    MAX_RETURN_REASON,
    Return,
    ReturnItem,
    ReturnState,
    check_items,
    check_window,
    open_units,
)
from domain.stock import MovementKind
from domain.users import User

AT = datetime(2026, 12, 2, tzinfo=UTC)
LATER = AT + timedelta(hours=1)
D = Decimal
ADMIN = User(
    email="admin@shop.test", name="A", password_hash="h", created_at=AT, updated_at=AT, is_admin=True, id=1
)
ANN = User(email="ann@shop.test", name="Ann", password_hash="h", created_at=AT, updated_at=AT, id=2)


def order(
    shipped: tuple[int, int] = (3, 2), returned: tuple[int, int] = (0, 0), status=OrderStatus.SHIPPED
) -> Order:
    lines = [
        OrderLine(
            10,
            "P10",
            3,
            D("5.00"),
            D("15.00"),
            id=100,
            quantity_shipped=shipped[0],
            quantity_returned=returned[0],
        ),
        OrderLine(
            11,
            "P11",
            2,
            D("7.25"),
            D("14.50"),
            id=101,
            quantity_shipped=shipped[1],
            quantity_returned=returned[1],
        ),
    ]
    return Order("ORD-1", ANN.id, status, D("29.50"), AT, AT, lines, version=4, id=7)


def products() -> dict[int, Product]:
    found = {}
    for pid, stock in ((10, 0), (11, 4)):
        product = Product(
            name=f"P{pid}",
            slug=f"p{pid}",
            sku=f"P{pid}",
            price=D("1.00"),
            created_at=AT,
            updated_at=AT,
            stock_quantity=stock,
            id=pid,
        )
        found[pid] = product
    return found


def opened(o: Order, *items: ReturnItem, by: User = ANN, others=(), extra=None) -> Return:
    ret = Return.open(o, items, others=others, by=by, at=AT, refund_extra=extra)
    return ret


def stored(ret: Return, return_id: int = 5) -> Return:
    ret.id = return_id
    ret.domain_events.clear()
    return ret


class TestItems:
    def test_one_to_fifty_lines(self) -> None:
        with pytest.raises(InvalidReturn, match=f"^a return has between 1 and {MAX_RETURN_LINES} lines$"):
            check_items([], None)
        check_items([ReturnItem(i, 1) for i in range(MAX_RETURN_LINES)], None)
        with pytest.raises(InvalidReturn, match="between 1 and 50 lines"):
            check_items([ReturnItem(i, 1) for i in range(MAX_RETURN_LINES + 1)], None)

    def test_each_line_once(self) -> None:
        with pytest.raises(InvalidReturn, match="^each order line may appear only once in a return$"):
            check_items([ReturnItem(100, 1), ReturnItem(100, 2)], None)

    def test_at_least_one_unit(self) -> None:
        check_items([ReturnItem(100, 1)], None)
        with pytest.raises(InvalidReturn, match="^order line 100: a return takes at least 1 unit$"):
            check_items([ReturnItem(100, 0)], None)

    def test_a_reason_of_at_most_500_characters(self) -> None:
        check_items([ReturnItem(100, 1, "x" * MAX_RETURN_REASON)], None)
        with pytest.raises(InvalidReturn, match="^a reason has at most 500 characters$"):
            check_items([ReturnItem(100, 1, "x" * (MAX_RETURN_REASON + 1))], None)

    def test_an_extra_amount_above_zero_and_at_most_the_maximum(self) -> None:
        for fine in (D("0.01"), MAX_AMOUNT):
            check_items([ReturnItem(100, 1)], fine)
        for refused in (D("0.00"), D("-1.00"), MAX_AMOUNT + D("0.01")):
            with pytest.raises(
                InvalidReturn, match=f"^an extra amount must be greater than 0 and at most {MAX_AMOUNT}$"
            ):
                check_items([ReturnItem(100, 1)], refused)


class TestWindow:
    WINDOW = timedelta(days=30)

    def test_a_shipped_order_whenever(self) -> None:
        check_window(order(), None, self.WINDOW, AT + timedelta(days=400))

    def test_a_delivered_order_up_to_the_windows_last_instant(self) -> None:
        delivered = order(status=OrderStatus.DELIVERED)
        check_window(delivered, AT, self.WINDOW, AT + self.WINDOW)
        with pytest.raises(ReturnWindowClosed) as closed:
            check_window(delivered, AT, self.WINDOW, AT + self.WINDOW + timedelta(microseconds=1))
        assert str(closed.value) == (
            "order 7 is delivered: a return may be requested while it is shipped, or within 30 days of its "
            "delivery"
        )
        assert (closed.value.order_id, closed.value.status, closed.value.days) == (7, "delivered", 30)

    def test_a_window_of_zero_days_closes_at_delivery(self) -> None:
        delivered = order(status=OrderStatus.DELIVERED)
        check_window(delivered, AT, timedelta(0), AT)
        with pytest.raises(ReturnWindowClosed, match="within 0 days"):
            check_window(delivered, AT, timedelta(0), AT + timedelta(seconds=1))

    @pytest.mark.parametrize(
        "status", [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.CANCELLED]
    )
    def test_no_other_status(self, status: OrderStatus) -> None:
        with pytest.raises(ReturnWindowClosed, match=f"^order 7 is {status.value}: "):
            check_window(order(status=status), AT, self.WINDOW, AT)

    def test_a_delivered_order_without_its_delivery_in_the_history(self) -> None:
        with pytest.raises(ReturnWindowClosed):
            check_window(order(status=OrderStatus.DELIVERED), None, self.WINDOW, AT)


class TestOpen:
    def test_a_customers_request_copies_product_and_price_and_is_requested(self) -> None:
        o = order()
        ret = opened(o, ReturnItem(100, 2, "too big", True), ReturnItem(101, 1))
        assert (ret.order_id, ret.status, ret.requested_by, ret.created_at, ret.updated_at) == (
            7,
            ReturnState.REQUESTED,
            ANN.id,
            AT,
            AT,
        )
        assert [
            (ln.order_line_id, ln.product_id, ln.quantity, ln.unit_price, ln.restock, ln.reason)
            for ln in ret.lines
        ] == [
            (100, 10, 2, D("5.00"), True, "too big"),
            (101, 11, 1, D("7.25"), False, None),
        ]
        assert [(e.type, e.actor_id, e.at) for e in ret.domain_events] == [
            (EventType.RETURN_REQUESTED, ANN.id, AT)
        ]
        assert (ret.refund_extra, ret.refunded, ret.version) == (D("0.00"), D("0.00"), 1)
        assert (o.version, o.changed_lines) == (4, [])  # a request moves nothing on the order

    def test_an_admins_return_raises_no_request(self) -> None:
        assert opened(order(), ReturnItem(100, 1), by=ADMIN).domain_events == []

    def test_at_most_shipped_less_returned(self) -> None:
        o = order(shipped=(3, 2), returned=(1, 0))
        assert opened(o, ReturnItem(100, 2)).lines[0].quantity == 2
        with pytest.raises(ReturnLimit) as over:
            opened(o, ReturnItem(100, 3))
        assert (over.value.order_line_id, over.value.requested, over.value.available) == (100, 3, 2)
        assert over.value.extensions() == {"order_line_id": 100, "requested": "3", "available": "2"}
        assert str(over.value) == (
            "order line 100: cannot return 3 units: 2 shipped and not returned (nor asked back by another "
            "open request)"
        )

    def test_less_what_the_orders_open_requests_ask_back(self) -> None:
        o = order()
        first = stored(opened(o, ReturnItem(100, 2)))
        rejected = replace(stored(opened(o, ReturnItem(100, 3)), 6), status=ReturnState.REJECTED)
        accepted = replace(stored(opened(o, ReturnItem(100, 3)), 8), status=ReturnState.ACCEPTED)
        others = [first, rejected, accepted]
        assert open_units(others) == {100: 2}
        assert opened(o, ReturnItem(100, 1), others=others).lines[0].quantity == 1
        with pytest.raises(ReturnLimit) as over:
            opened(o, ReturnItem(100, 2), others=others)
        assert over.value.available == 1

    def test_open_units_add_up_over_requests(self) -> None:
        o = order()
        a, b = (
            stored(opened(o, ReturnItem(100, 1), ReturnItem(101, 1))),
            stored(opened(o, ReturnItem(100, 2)), 6),
        )
        assert open_units([a, b]) == {100: 3, 101: 1}

    def test_nothing_shipped_nothing_to_return(self) -> None:
        with pytest.raises(ReturnLimit, match="cannot return 1 units: 0 shipped"):
            opened(order(shipped=(0, 0)), ReturnItem(100, 1))

    def test_a_line_of_another_order(self) -> None:
        with pytest.raises(InvalidReturn, match="^order line 999 is not a line of order 7$"):
            opened(order(), ReturnItem(999, 1))

    def test_the_proposed_refund(self) -> None:
        ret = opened(order(), ReturnItem(100, 3), ReturnItem(101, 2), by=ADMIN, extra=D("4.99"))
        assert ret.refund_extra == D("4.99")
        assert ret.proposed_refund == D("34.49")  # 3 × 5.00 + 2 × 7.25 + 4.99
        assert opened(order(), ReturnItem(101, 1)).proposed_refund == D("7.25")


class TestAccept:
    def test_moves_the_lines_restocks_and_raises_accepted(self) -> None:
        o, shelf = order(returned=(1, 0)), products()
        ret = stored(opened(o, ReturnItem(100, 2, restock=True), ReturnItem(101, 1)))
        ret.accept(o, shelf, by=ADMIN, at=LATER)
        assert [(ln.quantity_shipped, ln.quantity_returned) for ln in o.lines] == [(3, 3), (2, 1)]
        assert [ln.id for ln in o.changed_lines] == [100, 101]
        assert (o.version, o.updated_at, o.status) == (5, LATER, OrderStatus.SHIPPED)
        assert (ret.status, ret.decided_by, ret.decided_at, ret.updated_at, ret.version) == (
            ReturnState.ACCEPTED,
            ADMIN.id,
            LATER,
            LATER,
            2,
        )
        assert [(e.type, e.actor_id, e.at) for e in ret.domain_events] == [
            (EventType.RETURN_ACCEPTED, ADMIN.id, LATER)
        ]
        [movement] = ret.movements()
        assert (
            movement.product_id,
            movement.delta,
            movement.quantity,
            movement.kind,
            movement.order_id,
            movement.return_id,
            movement.actor_id,
            movement.created_at,
        ) == (
            10,
            2,
            2,
            MovementKind.RETURN,
            7,
            5,
            ADMIN.id,
            LATER,
        )
        assert (shelf[10].stock_quantity, shelf[11].stock_quantity) == (2, 4)
        assert [e.type for e in shelf[10].domain_events] == [EventType.PRODUCT_BACK_IN_STOCK]
        assert ret.product_ids() == [10]

    def test_an_admins_return_accepted_at_once_stays_at_version_one(self) -> None:
        o = order()
        ret = opened(o, ReturnItem(101, 2), by=ADMIN)
        ret.accept(o, products(), by=ADMIN, at=AT)
        assert (ret.status, ret.version, [e.type for e in ret.domain_events]) == (
            ReturnState.ACCEPTED,
            1,
            [EventType.RETURN_ACCEPTED],
        )
        assert ret.stock_movements == []

    def test_only_a_requested_return(self) -> None:
        o = order()
        ret = stored(opened(o, ReturnItem(100, 1)))
        ret.accept(o, products(), by=ADMIN, at=LATER)
        with pytest.raises(IllegalReturnChange, match="^return 5 is accepted: it cannot be accepted$"):
            ret.accept(o, products(), by=ADMIN, at=LATER)
        assert o.lines[0].quantity_returned == 1

    def test_beyond_the_lines_limit_moves_nothing(self) -> None:
        o = order()
        ret = stored(opened(o, ReturnItem(100, 1), ReturnItem(101, 2)))
        o.lines[1].quantity_returned = 1  # another return was accepted meanwhile
        shelf = products()
        with pytest.raises(ReturnLimit, match="order line 101: cannot return 2 units: 1 shipped"):
            ret.accept(o, shelf, by=ADMIN, at=LATER)
        assert ([ln.quantity_returned for ln in o.lines], o.version, o.changed_lines) == ([0, 1], 4, [])
        assert (ret.status, ret.version, ret.domain_events, ret.stock_movements) == (
            ReturnState.REQUESTED,
            1,
            [],
            [],
        )

    def test_receive_return_up_to_the_limit(self) -> None:
        o = order(returned=(1, 0))
        o.receive_return({100: 2}, at=LATER)
        assert o.lines[0].quantity_returned == 3


class TestReject:
    def test_with_a_reason(self) -> None:
        ret = stored(opened(order(), ReturnItem(100, 1)))
        ret.reject("x" * MAX_RETURN_REASON, by=ADMIN, at=LATER)
        assert (ret.status, ret.rejection_reason, ret.decided_by, ret.decided_at, ret.version) == (
            ReturnState.REJECTED,
            "x" * 500,
            ADMIN.id,
            LATER,
            2,
        )
        assert [e.type for e in ret.domain_events] == [EventType.RETURN_REJECTED]

    @pytest.mark.parametrize("reason", ["", "  ", "x" * (MAX_RETURN_REASON + 1)])
    def test_refused_without_a_fitting_reason(self, reason: str) -> None:
        ret = stored(opened(order(), ReturnItem(100, 1)))
        with pytest.raises(InvalidReturn, match="^a rejection needs a reason of 1 to 500 characters$"):
            ret.reject(reason, by=ADMIN, at=LATER)
        assert (ret.status, ret.version, ret.domain_events) == (ReturnState.REQUESTED, 1, [])

    def test_only_a_requested_return(self) -> None:
        ret = stored(opened(order(), ReturnItem(100, 1)))
        ret.reject("no", by=ADMIN, at=LATER)
        with pytest.raises(IllegalReturnChange, match="^return 5 is rejected: it cannot be rejected$"):
            ret.reject("no", by=ADMIN, at=LATER)
        with pytest.raises(IllegalReturnChange, match="^return 5 is rejected: it cannot be accepted$"):
            ret.accept(order(), products(), by=ADMIN, at=LATER)


class TestRefund:
    def accepted(self) -> Return:
        o = order()
        ret = stored(opened(o, ReturnItem(100, 2), ReturnItem(101, 1), by=ADMIN, extra=D("1.00")))
        ret.status = ReturnState.ACCEPTED
        return ret

    def test_the_proposal_plus_the_extra_once(self) -> None:
        ret = self.accepted()
        assert ret.refund(D("0.50"), reference=None, at=LATER) == D("18.75")  # 2 × 5 + 7.25 + 1 + 0.50
        assert (ret.refunded, ret.version, ret.updated_at) == (D("18.75"), 2, LATER)
        with pytest.raises(ReturnAlreadyRefunded) as again:
            ret.refund(None, reference="re_1", at=LATER)
        assert str(again.value) == "return 5 was already refunded (reference 're_1')"
        assert (ret.refunded, ret.version) == (D("18.75"), 2)

    def test_without_an_extra(self) -> None:
        assert self.accepted().refund(None, reference=None, at=LATER) == D("18.25")

    def test_an_extra_of_zero_is_refused(self) -> None:
        ret = self.accepted()
        with pytest.raises(InvalidReturn, match="greater than 0"):
            ret.refund(D("0.00"), reference=None, at=LATER)
        assert (ret.refunded, ret.version) == (D("0.00"), 1)

    @pytest.mark.parametrize("state", [ReturnState.REQUESTED, ReturnState.REJECTED])
    def test_only_an_accepted_return(self, state: ReturnState) -> None:
        ret = replace(self.accepted(), status=state)
        with pytest.raises(IllegalReturnChange, match=f"^return 5 is {state.value}: it cannot be refunded$"):
            ret.refund(None, reference=None, at=LATER)


class TestOrderReturnStatus:
    @pytest.mark.parametrize(
        ("shipped", "returned", "status"),
        [
            ((3, 2), (0, 0), ReturnStatus.NONE),
            ((0, 0), (0, 0), ReturnStatus.NONE),
            ((3, 2), (1, 0), ReturnStatus.PARTIALLY_RETURNED),
            ((3, 2), (3, 1), ReturnStatus.PARTIALLY_RETURNED),
            ((3, 2), (3, 2), ReturnStatus.RETURNED),
            ((1, 0), (1, 0), ReturnStatus.RETURNED),  # all that was shipped came back
        ],
    )
    def test_from_its_lines(self, shipped, returned, status: ReturnStatus) -> None:
        assert order(shipped, returned).return_status is status

    def test_returnable(self) -> None:
        o = order(shipped=(3, 2), returned=(1, 2))
        assert (o.returnable(100), o.returnable(101)) == (2, 0)


def test_the_products_to_lock_are_the_restocked_lines_in_id_order() -> None:
    ret = opened(order(), ReturnItem(101, 1, restock=True), ReturnItem(100, 1, restock=True))
    assert ret.product_ids() == [10, 11]
    assert ret.units() == {101: 1, 100: 1}
    assert opened(order(), ReturnItem(101, 1), ReturnItem(100, 1)).product_ids() == []
