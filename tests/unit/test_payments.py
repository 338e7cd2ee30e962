"""The payment rules (domain.payments), each pinned at its boundary: equal is allowed, one cent over is
refused with the limit named, and nothing moves; the order's payment_status and its confirm and cancel rules
read the sums of its payments."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.errors import IllegalStatusChange
from domain.events import EventType, ResourceType
from domain.orders import Order, OrderStatus
from domain.payment_errors import (
    InvalidPaymentAmount,
    OrderNotPayable,
    PaymentLimit,
    PaymentOutstanding,
    PaymentRequired,
    PaymentVoided,
)
from domain.payments import (
    USD,
    ConfirmRequires,
    Currency,
    MoneyTotals,
    Payment,
    PaymentAction,
    PaymentStatus,
    TransactionKind,
)
from domain.users import User

AT = datetime(2026, 12, 2, tzinfo=UTC)
LATER = AT + timedelta(hours=1)
JPY = Currency("JPY", 0)
D = Decimal


def paid(amount: str = "30.00", action: PaymentAction = PaymentAction.AUTHORIZE) -> Payment:
    payment = Payment.record(
        order_id=7, provider="stripe", reference="pi_1", amount=D(amount), action=action,
        currency=USD, actor_id=1, at=AT,
    )  # fmt: skip
    payment.id = 3
    payment.domain_events.clear()
    payment.new_transactions.clear()
    return payment


def state(p: Payment) -> tuple:
    return (
        p.authorized,
        p.captured,
        p.refunded,
        p.voided,
        p.version,
        len(p.transactions),
        len(p.domain_events),
    )


class TestRecording:
    def test_an_authorisation_holds_money_and_raises_its_event(self) -> None:
        p = Payment.record(
            order_id=7, provider="stripe", reference="pi_1", amount=D("30"), action=PaymentAction.AUTHORIZE,
            currency=USD, actor_id=1, at=AT,
        )  # fmt: skip
        assert (p.authorized, p.captured, p.refunded, p.voided, p.version) == (D("30.00"), 0, 0, False, 1)
        assert (p.order_id, p.provider, p.reference, p.currency, p.created_at, p.updated_at) == (
            7, "stripe", "pi_1", "USD", AT, AT,
        )  # fmt: skip
        [t] = p.transactions
        assert (t.kind, t.amount, t.reference, t.actor_id, t.at) == (
            TransactionKind.AUTHORIZE,
            D("30.00"),
            "pi_1",
            1,
            AT,
        )
        assert p.new_transactions == [t] and (p.capturable, p.refundable) == (D("30.00"), 0)
        [event] = p.domain_events
        assert (event.type, event.subject, event.actor_id, event.at) == (
            EventType.PAYMENT_AUTHORIZED,
            p,
            1,
            AT,
        )
        assert event.resource_type is ResourceType.PAYMENT
        assert p.moved() == MoneyTotals(D("30.00"), D(0), D(0))

    def test_a_charge_is_authorised_and_captured_at_once(self) -> None:
        p = paid("12.34", PaymentAction.CHARGE)
        assert (p.authorized, p.captured, p.version, p.capturable, p.refundable) == (
            D("12.34"), D("12.34"), 1, 0, D("12.34"),
        )  # fmt: skip
        assert p.transactions[0].kind is TransactionKind.CHARGE

    def test_a_charge_raises_payment_captured(self) -> None:
        p = Payment.record(
            order_id=7, provider="s", reference="r", amount=D(1), action=PaymentAction.CHARGE,
            currency=USD, actor_id=None, at=AT,
        )  # fmt: skip
        assert [e.type for e in p.domain_events] == [EventType.PAYMENT_CAPTURED]
        assert p.moved() == MoneyTotals(D(1), D(1), D(0))

    @pytest.mark.parametrize(
        ("amount", "message"),
        [
            ("0", "an amount must be greater than 0, not 0"),
            ("-0.01", "an amount must be greater than 0, not -0.01"),
            ("100000000.00", "an amount may be at most 99999999.99, not 100000000.00"),
            ("1.001", "1.001 has more decimal places than USD has (2)"),
            ("NaN", "an amount must be greater than 0, not NaN"),
        ],
    )
    def test_amounts_are_positive_in_range_and_in_the_minor_unit(self, amount: str, message: str) -> None:
        with pytest.raises(InvalidPaymentAmount) as refused:
            USD.amount(D(amount))
        assert str(refused.value) == message

    def test_the_boundaries_of_an_amount(self) -> None:
        assert USD.amount(D("0.01")) == D("0.01") and str(USD.amount(D("0.01"))) == "0.01"
        assert USD.amount(D("99999999.99")) == D("99999999.99")
        assert str(USD.amount(D("5"))) == "5.00" and str(USD.amount(D("5.1"))) == "5.10"
        assert JPY.amount(D("1000")) == D("1000.00") and JPY.amount(D("1")) == D(1)
        with pytest.raises(InvalidPaymentAmount, match=r"^1.5 has more decimal places than JPY has \(0\)$"):
            JPY.amount(D("1.5"))
        assert JPY.amount(D("1.00")) == D(1)  # trailing zeros are whole yen


class TestCapture:
    def test_all_that_is_authorised_may_be_captured_and_not_a_cent_more(self) -> None:
        p = paid("30.00")
        with pytest.raises(PaymentLimit) as refused:
            p.capture(D("30.01"), USD, actor_id=2, at=LATER)
        assert str(refused.value) == (
            "payment 3: cannot capture 30.01: the amount authorised and not yet captured is 30.00"
        )
        assert (refused.value.limit, refused.value.requested, refused.value.available) == (
            "capture",
            D("30.01"),
            D("30.00"),
        )
        assert refused.value.extensions() == {"limit": "capture", "requested": "30.01", "available": "30.00"}
        assert state(p) == (D("30.00"), 0, 0, False, 1, 1, 0)
        p.capture(D("30.00"), USD, actor_id=2, at=LATER)
        assert state(p) == (D("30.00"), D("30.00"), 0, False, 2, 2, 1)
        assert p.updated_at == LATER and p.capturable == 0 and p.refundable == D("30.00")
        t = p.transactions[-1]
        assert (t.kind, t.amount, t.actor_id, t.at, t.reference) == (
            TransactionKind.CAPTURE,
            D("30.00"),
            2,
            LATER,
            None,
        )
        assert p.domain_events[0].type is EventType.PAYMENT_CAPTURED and p.domain_events[0].actor_id == 2

    def test_partial_captures_add_up_to_the_authorisation(self) -> None:
        p = paid("30.00")
        p.capture(D("10.00"), USD, actor_id=2, at=LATER)
        assert p.capturable == D("20.00")
        with pytest.raises(PaymentLimit, match="cannot capture 20.01: .* is 20.00$"):
            p.capture(D("20.01"), USD, actor_id=2, at=LATER)
        p.capture(None, USD, actor_id=2, at=LATER)  # the rest
        assert (p.captured, p.capturable, p.version) == (D("30.00"), 0, 3)
        assert p.moved() == MoneyTotals(D(0), D("30.00"), D(0))
        with pytest.raises(PaymentLimit, match="cannot capture 0.00: .* is 0.00$"):
            p.capture(None, USD, actor_id=2, at=LATER)

    def test_a_capture_amount_is_checked_as_any_amount(self) -> None:
        p = paid()
        with pytest.raises(InvalidPaymentAmount):
            p.capture(D("0"), USD, actor_id=2, at=LATER)
        assert state(p) == (D("30.00"), 0, 0, False, 1, 1, 0)


class TestVoid:
    def test_a_void_releases_the_authorisation_and_nothing_follows_it(self) -> None:
        p = paid()
        p.void(actor_id=2, at=LATER)
        assert state(p) == (D(0), 0, 0, True, 2, 2, 1) and p.capturable == 0
        assert (p.transactions[-1].kind, p.transactions[-1].amount) == (TransactionKind.VOID, D("30.00"))
        assert p.domain_events[0].type is EventType.PAYMENT_VOIDED
        assert p.moved() == MoneyTotals(D("-30.00"), D(0), D(0))
        with pytest.raises(PaymentVoided, match="^payment 3 was voided: it cannot capture any more$"):
            p.capture(D("1"), USD, actor_id=2, at=LATER)
        with pytest.raises(PaymentVoided, match="^payment 3 was voided: it cannot void any more$"):
            p.void(actor_id=2, at=LATER)
        with pytest.raises(PaymentLimit, match="cannot refund 0.01: .* is 0.00$"):
            p.refund(D("0.01"), USD, reason="r", reference="re", actor_id=2, at=LATER)
        assert state(p) == (D(0), 0, 0, True, 2, 2, 1)

    def test_a_void_after_a_partial_capture_releases_the_rest_and_leaves_refunds_possible(self) -> None:
        p = paid()
        p.capture(D("10.00"), USD, actor_id=2, at=LATER)
        p.void(actor_id=2, at=LATER)
        assert (p.authorized, p.captured, p.voided, p.transactions[-1].amount) == (
            D("10.00"),
            D("10.00"),
            True,
            D("20.00"),
        )
        p.refund(D("10.00"), USD, reason="r", reference="re", actor_id=2, at=LATER)
        assert p.refunded == D("10.00")

    def test_nothing_left_to_void_is_refused(self) -> None:
        p = paid("5.00", PaymentAction.CHARGE)
        with pytest.raises(PaymentLimit) as refused:
            p.void(actor_id=2, at=LATER)
        assert refused.value.limit == "void" and refused.value.available == 0
        assert "the amount authorised and not captured, which a void releases, is 0.00" in str(refused.value)
        assert state(p) == (D("5.00"), D("5.00"), 0, False, 1, 1, 0)


class TestRefund:
    def test_all_that_was_captured_may_be_refunded_and_not_a_cent_more(self) -> None:
        p = paid("20.00", PaymentAction.CHARGE)
        p.refund(D("5.00"), USD, reason="damaged", reference="re_1", actor_id=2, at=LATER)
        with pytest.raises(PaymentLimit) as refused:
            p.refund(D("15.01"), USD, reason="more", reference="re_2", actor_id=2, at=LATER)
        assert str(refused.value) == (
            "payment 3: cannot refund 15.01: the amount captured and not yet refunded is 15.00"
        )
        assert refused.value.available == D("15.00")
        p.refund(D("15.00"), USD, reason="more", reference="re_2", actor_id=2, at=LATER)
        assert (p.refunded, p.refundable, p.version) == (D("20.00"), 0, 3)
        t = p.transactions[-1]
        assert (t.kind, t.amount, t.reason, t.reference) == (
            TransactionKind.REFUND,
            D("15.00"),
            "more",
            "re_2",
        )
        assert [e.type for e in p.domain_events] == [EventType.PAYMENT_REFUNDED] * 2
        assert p.refund_by_reference("re_1") is p.transactions[1] and p.refund_by_reference("pi_1") is None
        assert p.refund_by_reference("nope") is None

    def test_an_authorisation_not_captured_refunds_nothing(self) -> None:
        p = paid()
        with pytest.raises(PaymentLimit, match="cannot refund 0.01: .* is 0.00$"):
            p.refund(D("0.01"), USD, reason="r", reference="re", actor_id=2, at=LATER)


class TestStatus:
    @pytest.mark.parametrize(
        ("authorized", "captured", "refunded", "status"),
        [
            ("0", "0", "0", PaymentStatus.UNPAID),
            ("0.01", "0", "0", PaymentStatus.AUTHORIZED),
            ("30", "0", "0", PaymentStatus.AUTHORIZED),
            ("30", "29.99", "0", PaymentStatus.PARTIALLY_PAID),
            ("30", "0.01", "0", PaymentStatus.PARTIALLY_PAID),
            ("30", "30", "0", PaymentStatus.PAID),
            ("30.01", "30.01", "0", PaymentStatus.OVERPAID),
            ("40", "40", "10", PaymentStatus.PARTIALLY_REFUNDED),  # a refund shows, even of an overpayment
            ("40", "40", "9.99", PaymentStatus.OVERPAID),
            ("30", "30", "0.01", PaymentStatus.PARTIALLY_REFUNDED),
            ("30", "30", "29.99", PaymentStatus.PARTIALLY_REFUNDED),
            ("30", "30", "30", PaymentStatus.REFUNDED),
            ("10", "10", "10", PaymentStatus.REFUNDED),
        ],
    )
    def test_the_status_of_an_order_of_30(
        self, authorized: str, captured: str, refunded: str, status: PaymentStatus
    ) -> None:
        assert MoneyTotals(D(authorized), D(captured), D(refunded)).status(D("30.00")) is status

    def test_a_free_order(self) -> None:
        assert MoneyTotals().status(D(0)) is PaymentStatus.UNPAID
        assert MoneyTotals().covers(D(0), ConfirmRequires.PAYMENT) is None

    @pytest.mark.parametrize(
        ("money", "requires", "answer"),
        [
            (MoneyTotals(), ConfirmRequires.NOTHING, None),
            (MoneyTotals(D("29.99")), ConfirmRequires.AUTHORIZATION, D("29.99")),
            (MoneyTotals(D("30")), ConfirmRequires.AUTHORIZATION, None),
            (MoneyTotals(D("30"), D("10")), ConfirmRequires.AUTHORIZATION, None),
            (MoneyTotals(D("30"), D("30"), D("0.01")), ConfirmRequires.AUTHORIZATION, D("29.99")),
            (MoneyTotals(D("30")), ConfirmRequires.PAYMENT, D(0)),
            (MoneyTotals(D("30"), D("29.99")), ConfirmRequires.PAYMENT, D("29.99")),
            (MoneyTotals(D("30"), D("30")), ConfirmRequires.PAYMENT, None),
            (MoneyTotals(D("31"), D("31"), D("1.01")), ConfirmRequires.PAYMENT, D("29.99")),
        ],
    )
    def test_what_covers_an_order_of_30(self, money: MoneyTotals, requires: ConfirmRequires, answer) -> None:
        assert money.covers(D("30"), requires) == answer

    def test_what_is_outstanding(self) -> None:
        assert not MoneyTotals().outstanding()
        assert MoneyTotals(D("0.01")).outstanding() and MoneyTotals(D(1), D(1)).outstanding()
        assert not MoneyTotals(D(1), D(1), D(1)).outstanding()
        assert MoneyTotals(D(2), D(1), D(1)).open_authorization == D(1)
        assert MoneyTotals(D(2), D(2), D("0.5")).held == D("1.5")


def order(total: str = "30.00", **money: Decimal) -> Order:
    o = Order(
        order_number="ORD-1", user_id=5, status=OrderStatus.PENDING, total_amount=D(total),
        created_at=AT, updated_at=AT, id=9,
    )  # fmt: skip
    return replace(o, **money)


ADMIN = User(
    email="a@shop.test", name="A", password_hash="x", created_at=AT, updated_at=AT, is_admin=True, id=1
)


class TestOrderMoney:
    def test_an_order_takes_its_payments_sums_with_a_new_version(self) -> None:
        o = order()
        o.take_payment(MoneyTotals(D("30"), D("10")), at=LATER)
        assert (o.authorized, o.captured, o.refunded, o.version, o.updated_at) == (30, 10, 0, 2, LATER)
        assert o.payment_status is PaymentStatus.PARTIALLY_PAID and o.money == MoneyTotals(D(30), D(10), D(0))
        o.take_payment(MoneyTotals(D(0), D(0), D("10")), at=LATER)
        assert o.payment_status is PaymentStatus.REFUNDED and o.version == 3

    @pytest.mark.parametrize("requires", [ConfirmRequires.AUTHORIZATION, ConfirmRequires.PAYMENT])
    def test_confirming_needs_what_the_setting_names(self, requires: ConfirmRequires) -> None:
        o = order(authorized=D("29.99"))
        with pytest.raises(PaymentRequired) as refused:
            o.change_status(OrderStatus.CONFIRMED, actor_id=1, at=LATER, requires=requires)
        has = "29.99" if requires is ConfirmRequires.AUTHORIZATION else "0.00"
        what = "authorised or captured" if requires is ConfirmRequires.AUTHORIZATION else "captured"
        assert str(refused.value) == (
            f"order 9 cannot be confirmed before it is covered by a {requires.value}: "
            f"30.00 needed, {has} {what}"
        )
        assert refused.value.extensions() == {"requires": requires.value, "needed": "30.00", "covered": has}
        assert (o.status, o.version, o.new_status_changes, o.domain_events) == (
            OrderStatus.PENDING,
            1,
            [],
            [],
        )
        o.take_payment(MoneyTotals(D("0.01"), D("30.00")), at=LATER)
        o.change_status(OrderStatus.CONFIRMED, actor_id=1, at=LATER, requires=requires)
        assert o.status is OrderStatus.CONFIRMED

    def test_without_a_requirement_an_unpaid_order_is_confirmed_as_before(self) -> None:
        o = order()
        o.change_status(OrderStatus.CONFIRMED, actor_id=1, at=LATER)
        assert o.status is OrderStatus.CONFIRMED

    def test_the_requirement_is_only_for_confirming(self) -> None:
        o = replace(order(), status=OrderStatus.CONFIRMED)
        o.change_status(OrderStatus.PROCESSING, actor_id=1, at=LATER, requires=ConfirmRequires.PAYMENT)
        assert o.status is OrderStatus.PROCESSING
        with pytest.raises(IllegalStatusChange):  # an illegal move is refused as such, before the money
            order().change_status(OrderStatus.SHIPPED, actor_id=1, at=LATER, requires=ConfirmRequires.PAYMENT)

    @pytest.mark.parametrize(
        ("money", "held", "open_"),
        [
            ({"authorized": D("0.01")}, "0.00", "0.01"),
            ({"authorized": D(5), "captured": D(5)}, "5.00", "0"),
            ({"authorized": D(5), "captured": D(5), "refunded": D("4.99")}, "0.01", "0"),
        ],
    )
    def test_an_order_holding_money_is_neither_cancelled_nor_expired(
        self, money: dict, held: str, open_: str
    ) -> None:
        o = order(**money)
        with pytest.raises(PaymentOutstanding) as refused:
            o.cancel({}, by=ADMIN, at=LATER)
        assert (refused.value.held, refused.value.authorized) == (D(held), D(open_))
        assert str(refused.value).startswith("order 9 holds money: ")
        assert str(refused.value).endswith("refund and void it before cancelling")
        assert refused.value.extensions() == {
            "captured_not_refunded": str(D(held)),
            "authorized_not_captured": str(D(open_)),
        }
        with pytest.raises(PaymentOutstanding):
            o.expire({}, at=LATER)
        assert (o.status, o.version, o.new_status_changes, o.domain_events, o.stock_movements) == (
            OrderStatus.PENDING, 1, [], [], [],
        )  # fmt: skip

    def test_settled_money_lets_it_go(self) -> None:
        o = order(authorized=D(5), captured=D(5), refunded=D(5))
        o.cancel({}, by=ADMIN, at=LATER)
        assert o.status is OrderStatus.CANCELLED

    def test_a_cancelled_order_takes_no_new_money(self) -> None:
        order().check_payable()
        replace(order(), status=OrderStatus.SHIPPED).check_payable()
        with pytest.raises(
            OrderNotPayable, match="^order 9 is cancelled: it takes no new payment or capture$"
        ):
            replace(order(), status=OrderStatus.CANCELLED).check_payable()
