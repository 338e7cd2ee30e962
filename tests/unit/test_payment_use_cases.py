"""The payment use cases over the fakes: the locks they take and in which order, what a racing duplicate
becomes, and the expiry's skipping of an order the storage still handed it with money."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from application.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from application.orders import expire_pending_orders
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
from domain.orders import OrderStatus
from domain.payments import USD, PaymentAction
from tests.doubles.memory import InMemoryUnitOfWork
from tests.unit.conftest import World, dump


@pytest.fixture
def placed(world: World):  # type: ignore[no-untyped-def]
    ann = world.customer()
    return ann, world.order(ann, (world.product(price="15.00"), 2))


def authorise(world: World, order_id: int, reference: str = "pi_1", amount: str = "30.00"):  # type: ignore[no-untyped-def]
    cmd = RecordPayment("psp", reference, Decimal(amount), PaymentAction.AUTHORIZE)
    return record_payment(order_id, cmd, uow=world.uow, actor=world.admin, clock=world.clock, currency=USD)


def test_a_new_payment_locks_its_order_and_an_action_the_payment_then_the_order(world: World, placed) -> None:
    _, order = placed
    locks = world.uow.store.locks
    locks.clear()
    payment = authorise(world, order.id).payment
    assert locks == [("order", order.id)]
    for act in (
        lambda: capture_payment(
            payment.id, Decimal(1), uow=world.uow, actor=world.admin, clock=world.clock, currency=USD
        ),
        lambda: void_payment(payment.id, uow=world.uow, actor=world.admin, clock=world.clock),
        lambda: refund_payment(
            payment.id,
            RefundPayment(Decimal(1), "r", "re"),
            uow=world.uow,
            actor=world.admin,
            clock=world.clock,
            currency=USD,
        ),
    ):
        locks.clear()
        act()
        assert locks == [("payment", payment.id), ("order", order.id)]


def test_a_duplicate_that_races_in_is_a_conflict_to_retry(world: World, placed, monkeypatch) -> None:
    _, order = placed
    before = dump(world.uow.store)

    def taken(payment: object) -> None:
        raise DuplicateKey("payments.provider, payments.reference")

    monkeypatch.setattr(world.uow.payments, "add", taken)
    with pytest.raises(Conflict, match="^payment reference 'pi_1' was just recorded; retry$"):
        authorise(world, order.id)
    assert dump(world.uow.store) == before


def test_a_refund_reference_that_races_in_is_a_conflict_to_retry(world: World, placed, monkeypatch) -> None:
    _, order = placed
    payment = authorise(world, order.id).payment
    capture_payment(payment.id, None, uow=world.uow, actor=world.admin, clock=world.clock, currency=USD)
    before = dump(world.uow.store)

    def taken(payment: object) -> None:
        raise DuplicateKey("payment_transactions.reference")

    monkeypatch.setattr(world.uow.payments, "save", taken)
    with pytest.raises(Conflict, match="^a refund of this reference was just recorded; retry$"):
        refund_payment(
            payment.id,
            RefundPayment(Decimal(1), "r", "re"),
            uow=world.uow,
            actor=world.admin,
            clock=world.clock,
            currency=USD,
        )
    assert dump(world.uow.store) == before


def test_only_admins_act_and_owners_read(world: World, placed) -> None:
    ann, order = placed
    with pytest.raises(Forbidden, match="^only admins may record payments$"):
        record_payment(
            order.id,
            RecordPayment("psp", "x", Decimal(1), PaymentAction.CHARGE),
            uow=world.uow,
            actor=ann,
            clock=world.clock,
            currency=USD,
        )
    payment = authorise(world, order.id).payment
    for action, call in (
        (
            "capture",
            lambda: capture_payment(
                payment.id, None, uow=world.uow, actor=ann, clock=world.clock, currency=USD
            ),
        ),
        ("void", lambda: void_payment(payment.id, uow=world.uow, actor=ann, clock=world.clock)),
        (
            "refund",
            lambda: refund_payment(
                payment.id,
                RefundPayment(Decimal(1), "r", "re"),
                uow=world.uow,
                actor=ann,
                clock=world.clock,
                currency=USD,
            ),
        ),
    ):
        with pytest.raises(Forbidden, match=f"^only admins may {action} payments$"):
            call()
    assert [p.id for p in list_payments(order.id, uow=world.uow, actor=ann)] == [payment.id]
    bob = world.customer("bob@shop.test")
    with pytest.raises(NotFound, match=f"^order {order.id} was not found$"):
        list_payments(order.id, uow=world.uow, actor=bob)
    with pytest.raises(NotFound, match="^payment 999 was not found$"):
        void_payment(999, uow=world.uow, actor=world.admin, clock=world.clock)
    with pytest.raises(NotFound, match="^order 999 was not found$"):
        list_payments(999, uow=world.uow, actor=world.admin)


def test_the_expiry_skips_and_logs_an_order_that_still_holds_money(world: World, placed, caplog) -> None:
    ann, held = placed
    free = world.order(ann, (world.product("SKU-2"), 1))
    authorise(world, held.id)
    uow: InMemoryUnitOfWork = world.uow

    def everything_pending(cutoff: object, limit: int) -> list:
        return [uow.orders.get(held.id), uow.orders.get(free.id)]

    uow.orders.pending_before = everything_pending  # type: ignore[method-assign]  # a storage that forgot the rule
    world.clock.advance(timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="application.orders"):
        assert expire_pending_orders(timedelta(minutes=1), uow=uow, clock=world.clock) == 1
    stored = uow.store.tables.orders
    assert (stored[held.id].status, stored[free.id].status) == (OrderStatus.PENDING, OrderStatus.CANCELLED)
    assert [r.getMessage() for r in caplog.records] == [
        f"not expiring order {held.id}: order {held.id} holds money: 0.00 captured and not refunded, 30.00 "
        "authorised and not captured; refund and void it before cancelling"
    ]


def test_a_payment_changed_meanwhile_is_a_precondition_failure(world: World, placed, monkeypatch) -> None:
    _, order = placed
    payment = authorise(world, order.id).payment
    before = dump(world.uow.store)

    def stale(payment: object) -> None:
        raise StaleVersion(5)

    monkeypatch.setattr(world.uow.payments, "save", stale)
    with pytest.raises(PreconditionFailed, match=f"^payment {payment.id} has changed \\(now at version 5\\)"):
        void_payment(payment.id, uow=world.uow, actor=world.admin, clock=world.clock)
    assert dump(world.uow.store) == before
