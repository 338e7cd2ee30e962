"""The payment repository and the orders' money sums, the same on the fake, SQLite and PostgreSQL: what goes
in comes out, references are unique, versions are checked, and each action moves the order's sums with it."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from application.errors import PaymentReferenceReused
from application.lists import EventFilter
from application.orders import cancel_order, expire_pending_orders
from application.payments import (
    RecordPayment,
    RefundPayment,
    capture_payment,
    list_payments,
    record_payment,
    refund_payment,
    void_payment,
)
from application.ports import DuplicateKey, StaleVersion
from domain.events import EventType, ResourceType
from domain.orders import Order, OrderStatus
from domain.payment_errors import PaymentOutstanding
from domain.payments import USD, Payment, PaymentAction, PaymentStatus, TransactionKind
from domain.users import User
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_order, add_product, add_user
from tests.doubles.clock import FixedClock

CLOCK = FixedClock(T0)


@pytest.fixture
def shop(make_uow: MakeUow) -> tuple[User, User, Order]:
    admin = add_user(make_uow, "admin@shop.test", is_admin=True)
    ann = add_user(make_uow, "ann@shop.test")
    order = add_order(make_uow, ann, (add_product(make_uow, "P-1", price="15.00"), 2))  # 30.00
    return admin, ann, order


def record(
    make_uow: MakeUow, admin: User, order: Order, amount: str, action=PaymentAction.AUTHORIZE, ref="pi_1"
):
    cmd = RecordPayment("stripe", ref, Decimal(amount), action)
    with make_uow() as uow:
        return record_payment(order.id, cmd, uow=uow, actor=admin, clock=CLOCK, currency=USD)


def order_of(make_uow: MakeUow, order: Order) -> Order:
    with make_uow() as uow:
        return uow.orders.get(order.id)


def test_a_payment_round_trips_with_its_transactions(make_uow: MakeUow, shop) -> None:
    admin, ann, order = shop
    recorded = record(make_uow, admin, order, "30.00")
    assert recorded.created and recorded.payment.id is not None
    with make_uow() as uow:
        loaded = uow.payments.get(recorded.payment.id)
        by_reference = uow.payments.get_by_reference("stripe", "pi_1")
        assert uow.payments.get_by_reference("adyen", "pi_1") is None
        assert uow.payments.get(99999) is None
    assert loaded is not None and by_reference is not None and by_reference.id == loaded.id
    assert (loaded.order_id, loaded.provider, loaded.reference, loaded.currency) == (
        order.id,
        "stripe",
        "pi_1",
        "USD",
    )
    assert (loaded.authorized, loaded.captured, loaded.refunded, loaded.voided, loaded.version) == (
        Decimal("30.00"), Decimal("0.00"), Decimal("0.00"), False, 1,
    )  # fmt: skip
    assert loaded.created_at == T0 and loaded.updated_at == T0 and loaded.created_at.tzinfo is not None
    [t] = loaded.transactions
    assert (t.kind, t.amount, t.reference, t.actor_id, t.at, t.reason) == (
        TransactionKind.AUTHORIZE, Decimal("30.00"), "pi_1", admin.id, T0, None,
    )  # fmt: skip
    assert t.id is not None and loaded.new_transactions == []
    stored = order_of(make_uow, order)
    assert (stored.authorized, stored.captured, stored.refunded) == (Decimal("30.00"), 0, 0)
    assert stored.payment_status is PaymentStatus.AUTHORIZED and stored.version == order.version + 1


def test_every_action_moves_the_payment_and_the_order_alike(make_uow: MakeUow, shop) -> None:
    admin, ann, order = shop
    payment = record(make_uow, admin, order, "30.00").payment
    with make_uow() as uow:
        capture_payment(payment.id, Decimal("10.00"), uow=uow, actor=admin, clock=CLOCK, currency=USD)
    with make_uow() as uow:
        capture_payment(payment.id, None, uow=uow, actor=admin, clock=CLOCK, currency=USD)
    with make_uow() as uow:
        refund = RefundPayment(Decimal("5.50"), "damaged", "re_1")
        refund_payment(payment.id, refund, uow=uow, actor=admin, clock=CLOCK, currency=USD)
    charged = record(make_uow, admin, order, "2.00", PaymentAction.CHARGE, "ch_2").payment
    with make_uow() as uow:
        [first, second] = list_payments(order.id, uow=uow, actor=ann)
    assert (first.id, second.id) == (payment.id, charged.id)
    assert (first.authorized, first.captured, first.refunded, first.version) == (30, 30, Decimal("5.50"), 4)
    assert [(t.kind, t.amount, t.reference, t.reason) for t in first.transactions] == [
        (TransactionKind.AUTHORIZE, Decimal("30.00"), "pi_1", None),
        (TransactionKind.CAPTURE, Decimal("10.00"), None, None),
        (TransactionKind.CAPTURE, Decimal("20.00"), None, None),
        (TransactionKind.REFUND, Decimal("5.50"), "re_1", "damaged"),
    ]
    assert [(t.kind, t.amount) for t in second.transactions] == [(TransactionKind.CHARGE, Decimal("2.00"))]
    stored = order_of(make_uow, order)
    assert (stored.authorized, stored.captured, stored.refunded) == (32, 32, Decimal("5.50"))
    assert stored.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    with make_uow() as uow:
        events = uow.events.feed(EventFilter(resource_type=ResourceType.PAYMENT), None, 100)
    assert [(e.type, e.resource_id, e.sequence) for e in events] == [
        (EventType.PAYMENT_AUTHORIZED, payment.id, 1),
        (EventType.PAYMENT_CAPTURED, payment.id, 2),
        (EventType.PAYMENT_CAPTURED, payment.id, 3),
        (EventType.PAYMENT_REFUNDED, payment.id, 4),
        (EventType.PAYMENT_CAPTURED, charged.id, 1),
    ]
    data = events[3].payload
    assert (data["order_id"], data["currency"], data["captured"], data["refunded"]) == (
        order.id, "USD", "30.00", "5.50",
    )  # fmt: skip
    assert events[3].actor_id == admin.id


def test_a_void_releases_what_is_not_captured(make_uow: MakeUow, shop) -> None:
    admin, _, order = shop
    payment = record(make_uow, admin, order, "30.00").payment
    with make_uow() as uow:
        capture_payment(payment.id, Decimal("10.00"), uow=uow, actor=admin, clock=CLOCK, currency=USD)
    with make_uow() as uow:
        voided = void_payment(payment.id, uow=uow, actor=admin, clock=CLOCK)
    with make_uow() as uow:
        loaded = uow.payments.get(payment.id)
    assert (loaded.authorized, loaded.captured, loaded.voided, loaded.version) == (
        10,
        10,
        True,
        voided.version,
    )
    assert loaded.transactions[-1].kind is TransactionKind.VOID and loaded.transactions[-1].amount == 20
    stored = order_of(make_uow, order)
    assert (stored.authorized, stored.captured, stored.refunded) == (10, 10, 0)


def test_a_providers_reference_is_unique(make_uow: MakeUow, shop) -> None:
    admin, ann, order = shop
    payment = record(make_uow, admin, order, "30.00").payment
    other = add_order(make_uow, ann, (add_product(make_uow, "P-2"), 1))
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.payments.add(Payment.record(
            order_id=other.id, provider="stripe", reference="pi_1", amount=Decimal(1),
            action=PaymentAction.CHARGE, currency=USD, actor_id=admin.id, at=T0,
        ))  # fmt: skip
    with pytest.raises(PaymentReferenceReused):  # through the use case: another body
        record(make_uow, admin, other, "1.00")
    repeat = record(make_uow, admin, order, "30.00")
    assert not repeat.created and repeat.payment.id == payment.id
    with make_uow() as uow:
        assert uow.payments.for_order(other.id) == []
        assert len(uow.payments.for_order(order.id)) == 1


def test_a_stale_version_and_a_repeated_refund_reference_are_refused(make_uow: MakeUow, shop) -> None:
    admin, _, order = shop
    payment = record(make_uow, admin, order, "30.00", PaymentAction.CHARGE).payment
    with make_uow() as uow:
        refund_payment(
            payment.id,
            RefundPayment(Decimal(1), "r", "re_1"),
            uow=uow,
            actor=admin,
            clock=CLOCK,
            currency=USD,
        )
    with make_uow() as uow:
        stale = uow.payments.get(payment.id)
    stale = replace(stale, version=stale.version - 1)
    stale.refund(Decimal(1), USD, reason="r", reference="re_2", actor_id=None, at=T0)
    with pytest.raises(StaleVersion) as refused, make_uow() as uow:
        uow.payments.save(stale)
    assert refused.value.current_version == 2
    with make_uow() as uow:
        fresh = uow.payments.get(payment.id)
    fresh.refund(Decimal(1), USD, reason="r", reference="re_1", actor_id=None, at=T0)
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.payments.save(fresh)
    with make_uow() as uow:
        kept = uow.payments.get(payment.id)
    assert (kept.refunded, kept.version, len(kept.transactions)) == (1, 2, 2)


def test_money_keeps_an_order_from_cancelling_and_expiring(make_uow: MakeUow, shop) -> None:
    admin, ann, order = shop
    free = add_order(make_uow, ann, (add_product(make_uow, "P-3"), 1))
    payment = record(make_uow, admin, order, "30.00").payment
    with pytest.raises(PaymentOutstanding), make_uow() as uow:
        cancel_order(order.id, uow=uow, actor=ann, clock=CLOCK)
    with make_uow() as uow:
        assert expire_pending_orders(timedelta(0), uow=uow, clock=FixedClock(T0 + timedelta(days=1))) == 1
    assert order_of(make_uow, order).status is OrderStatus.PENDING
    assert order_of(make_uow, free).status is OrderStatus.CANCELLED
    with make_uow() as uow:
        void_payment(payment.id, uow=uow, actor=admin, clock=CLOCK)
    with make_uow() as uow:
        assert cancel_order(order.id, uow=uow, actor=ann, clock=CLOCK).status is OrderStatus.CANCELLED
    stored = order_of(make_uow, order)
    assert (stored.status, stored.authorized, stored.payment_status) == (
        OrderStatus.CANCELLED,
        0,
        PaymentStatus.UNPAID,
    )
