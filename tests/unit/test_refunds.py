"""Refunds of an order (domain.refunds, Order.refund): drawn from its payments oldest first, each at most
what it holds, the order's sums moved as with any payment action, and refused whole beyond what all hold."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.events import EventType
from domain.orders import Order, OrderStatus
from domain.payment_errors import InvalidPaymentAmount
from domain.payments import USD, MoneyTotals, Payment, PaymentAction, PaymentStatus, TransactionKind
from domain.refunds import MAX_REFUND_REASON, draw, refund_order
from domain.return_errors import InvalidReturn, RefundLimit

AT = datetime(2026, 12, 2, tzinfo=UTC)
D = Decimal


def charged(payment_id: int, captured: str, refunded: str = "0.00") -> Payment:
    payment = Payment.record(
        order_id=7,
        provider="psp",
        reference=f"pi_{payment_id}",
        amount=D(captured),
        action=PaymentAction.CHARGE,
        currency=USD,
        actor_id=1,
        at=AT,
    )
    payment.id = payment_id
    if D(refunded):
        payment.refund(D(refunded), USD, reason="r", reference="old", actor_id=1, at=AT)
    payment.domain_events.clear()
    payment.new_transactions.clear()
    return payment


def order() -> Order:
    o = Order("ORD-1", 2, OrderStatus.DELIVERED, D("50.00"), AT, AT, [], version=3, id=7)
    o.captured = D("50.00")
    o.authorized = D("50.00")
    return o


def test_draws_oldest_first_each_at_most_what_it_holds() -> None:
    newer, older = charged(9, "30.00"), charged(4, "20.00", refunded="5.00")
    assert [(p.id, part) for p, part in draw(7, [newer, older], D("20.00"))] == [
        (4, D("15.00")),
        (9, D("5.00")),
    ]
    assert [(p.id, part) for p, part in draw(7, [newer, older], D("15.00"))] == [(4, D("15.00"))]
    assert [(p.id, part) for p, part in draw(7, [newer, older], D("45.00"))] == [
        (4, D("15.00")),
        (9, D("30.00")),
    ]


def test_a_payment_with_nothing_left_is_skipped() -> None:
    spent, fresh = charged(1, "10.00", refunded="10.00"), charged(2, "10.00")
    assert [(p.id, part) for p, part in draw(7, [spent, fresh], D("1.00"))] == [(2, D("1.00"))]


def test_beyond_what_all_hold_is_refused_whole() -> None:
    payments = [charged(1, "20.00", refunded="5.00"), charged(2, "30.00")]
    with pytest.raises(RefundLimit) as over:
        draw(7, payments, D("45.01"))
    assert (over.value.order_id, over.value.requested, over.value.available) == (7, D("45.01"), D("45.00"))
    assert over.value.extensions() == {"requested": "45.01", "available": "45.00"}
    assert (
        str(over.value) == "order 7: cannot refund 45.01: its payments hold 45.00 captured and not refunded"
    )
    with pytest.raises(RefundLimit):
        draw(7, [], D("0.01"))


def test_refund_order_moves_payments_and_order_and_raises_their_events() -> None:
    o, payments = order(), [charged(1, "20.00"), charged(2, "30.00")]
    refund = refund_order(
        o, payments, D("25.00"), USD, reason="goodwill", reference="re_9", actor_id=1, at=AT, return_id=5
    )
    assert (
        refund.order_id,
        refund.amount,
        refund.reason,
        refund.reference,
        refund.actor_id,
        refund.at,
        refund.return_id,
    ) == (
        7,
        D("25.00"),
        "goodwill",
        "re_9",
        1,
        AT,
        5,
    )
    assert [(p.refunded, p.version) for p in payments] == [(D("20.00"), 2), (D("5.00"), 2)]
    assert [(t.kind, t.amount, t.reference, t.reason) for p in payments for t in p.new_transactions] == [
        (TransactionKind.REFUND, D("20.00"), "re_9", "goodwill"),
        (TransactionKind.REFUND, D("5.00"), "re_9", "goodwill"),
    ]
    assert o.money == MoneyTotals(D("50.00"), D("50.00"), D("25.00"))
    assert (o.version, o.payment_status) == (4, PaymentStatus.PARTIALLY_REFUNDED)
    assert [e.type for e in o.domain_events] == [EventType.ORDER_REFUNDED]
    assert [e.type for p in payments for e in p.domain_events] == [EventType.PAYMENT_REFUNDED] * 2
    assert o.domain_events[0].raised > payments[1].domain_events[0].raised  # the payments' first


@pytest.mark.parametrize("reason", ["", " ", "x" * (MAX_REFUND_REASON + 1)])
def test_a_refund_names_its_reason(reason: str) -> None:
    o, payments = order(), [charged(1, "20.00")]
    with pytest.raises(InvalidReturn, match="^a refund needs a reason of 1 to 500 characters$"):
        refund_order(o, payments, D("1.00"), USD, reason=reason, reference="r", actor_id=1, at=AT)
    assert (o.refunded, o.version, payments[0].refunded) == (D("0.00"), 3, D("0.00"))


def test_a_reason_of_500_characters_and_an_amount_in_the_currency() -> None:
    o = order()
    refund_order(o, [charged(1, "20.00")], D("1.00"), USD, reason="x" * 500, reference="r", actor_id=1, at=AT)
    with pytest.raises(InvalidPaymentAmount):
        refund_order(
            order(), [charged(1, "20.00")], D("0.001"), USD, reason="r", reference="r", actor_id=1, at=AT
        )


def test_refund_order_beyond_the_payments_moves_nothing() -> None:
    o, payments = order(), [charged(1, "20.00")]
    with pytest.raises(RefundLimit):
        refund_order(o, payments, D("20.01"), USD, reason="r", reference="r", actor_id=1, at=AT)
    assert (o.refunded, o.version, o.domain_events, payments[0].new_transactions) == (D("0.00"), 3, [], [])
