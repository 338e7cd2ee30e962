"""Returns and refunds of orders, the same on the fakes, SQLite and PostgreSQL: a return and its lines round
trip and keep their versions, refunds keep their references once per order and a return refunded once, the
payments of an order lock for a refund, and the use cases leave stock, ledger, lines and money that
`shop check-stock` reconciles after returns with and without restock, while a real drift is still found."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from application.lists import MovementFilter, Window
from application.orders import OrderItem, PlaceOrder, place_order
from application.payments import RecordPayment, record_payment
from application.ports import DuplicateKey, StaleVersion
from application.products import check_stock
from application.refunds import RefundOrder, RefundReturn, refund_goodwill, refund_return
from application.returns import CreateReturn, accept_return, create_return, reject_return
from domain.orders import Order, ReturnStatus
from domain.payments import USD, PaymentAction, PaymentStatus
from domain.refunds import OrderRefund
from domain.return_errors import RefundLimit, ReturnLimit
from domain.returns import Return, ReturnItem, ReturnState
from domain.stock import MovementKind
from domain.users import User
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_product, add_user, stock_of
from tests.doubles.clock import FixedClock
from tests.support.shipping import ship_all

D = Decimal


@pytest.fixture
def shop(make_uow: MakeUow):  # type: ignore[no-untyped-def]
    admin = add_user(make_uow, "admin@shop.test", is_admin=True)
    ann = add_user(make_uow, "ann@shop.test")
    p1, p2 = add_product(make_uow, "P-1", price="10.00", stock=3), add_product(make_uow, "P-2", price="4.50")
    items = (OrderItem(p1.id, 3), OrderItem(p2.id, 2))  # placed as the service does: stock and ledger move
    order = place_order(PlaceOrder(items), uow=make_uow(), actor=ann, clock=FixedClock(T0))
    ship_all(make_uow, order.id)
    return admin, ann, order, p1, p2


def charge(make_uow: MakeUow, admin: User, order: Order, reference: str, amount: str) -> None:
    cmd = RecordPayment("psp", reference, D(amount), PaymentAction.CHARGE)
    record_payment(order.id, cmd, uow=make_uow(), actor=admin, clock=FixedClock(T0), currency=USD)


def opened(make_uow: MakeUow, actor: User, order: Order, *items: ReturnItem) -> Return:
    return create_return(
        order.id,
        CreateReturn(items),
        uow=make_uow(),
        actor=actor,
        clock=FixedClock(T0),
        window=timedelta(days=30),
        currency=USD,
    )


def test_a_return_round_trips_with_its_lines(make_uow: MakeUow, shop) -> None:
    _, ann, order, p1, p2 = shop
    with make_uow() as uow:
        order = uow.orders.get(order.id)  # as shipped
    ret = Return.open(
        order,
        [ReturnItem(order.lines[0].id, 2, "too big", True), ReturnItem(order.lines[1].id, 1)],
        others=[],
        by=ann,
        at=T0,
        refund_extra=D("1.50"),
    )
    with make_uow() as uow:
        uow.returns.add(ret)
        uow.commit()
    assert ret.id is not None and all(line.id is not None for line in ret.lines)
    with make_uow() as uow:
        loaded = uow.returns.get(ret.id)
        assert uow.returns.get(999_999) is None
    assert loaded is not None
    assert (loaded.order_id, loaded.status, loaded.requested_by, loaded.created_at, loaded.version) == (
        order.id,
        ReturnState.REQUESTED,
        ann.id,
        T0,
        1,
    )
    assert (loaded.refund_extra, loaded.refunded, loaded.proposed_refund) == (
        D("1.50"),
        D("0.00"),
        D("26.00"),
    )
    assert [
        (ln.order_line_id, ln.product_id, ln.quantity, ln.unit_price, ln.restock, ln.reason)
        for ln in loaded.lines
    ] == [
        (order.lines[0].id, p1.id, 2, D("10.00"), True, "too big"),
        (order.lines[1].id, p2.id, 1, D("4.50"), False, None),
    ]


def test_saving_moves_the_version_and_refuses_a_stale_one(make_uow: MakeUow, shop) -> None:
    admin, ann, order, _, _ = shop
    first = opened(make_uow, ann, order, ReturnItem(order.lines[0].id, 1))
    second = opened(make_uow, ann, order, ReturnItem(order.lines[1].id, 1))
    with make_uow() as uow:
        loaded = uow.returns.get(first.id, for_update=True)
        loaded.reject("worn", by=admin, at=T0 + timedelta(hours=1))
        uow.returns.save(loaded)
        uow.commit()
    with make_uow() as uow:
        stale = replace(uow.returns.get(first.id), version=2)  # as if loaded before the rejection
        stale.status = ReturnState.ACCEPTED
        with pytest.raises(StaleVersion) as error:
            uow.returns.save(stale)
        assert error.value.current_version == 2
    with make_uow() as uow:
        found = uow.returns.for_order(order.id)
    assert [(r.id, r.status, r.version, r.rejection_reason, r.decided_by) for r in found] == [
        (first.id, ReturnState.REJECTED, 2, "worn", admin.id),
        (second.id, ReturnState.REQUESTED, 1, None, None),
    ]
    assert found[0].decided_at == T0 + timedelta(hours=1)
    with make_uow() as uow:
        assert uow.returns.for_order(999_999) == []


def test_refunds_keep_a_reference_once_per_order_and_a_return_refunded_once(make_uow: MakeUow, shop) -> None:
    admin, _, order, _, _ = shop
    ret = opened(make_uow, admin, order, ReturnItem(order.lines[0].id, 1))
    first = OrderRefund(order.id, D("10.00"), "return", "re_1", T0, admin.id, ret.id)
    with make_uow() as uow:
        uow.refunds.add(first)
        uow.refunds.add(OrderRefund(order.id, D("1.00"), "late", "gw_1", T0, admin.id))
        uow.commit()
    for duplicate in (
        OrderRefund(order.id, D("2.00"), "again", "re_1", T0, admin.id),
        OrderRefund(order.id, D("2.00"), "again", "re_9", T0, admin.id, ret.id),
    ):
        with make_uow() as uow, pytest.raises(DuplicateKey):
            uow.refunds.add(duplicate)
    with make_uow() as uow:
        found = uow.refunds.for_order(order.id)
    assert [(r.id, r.amount, r.reason, r.reference, r.return_id, r.actor_id, r.at) for r in found] == [
        (first.id, D("10.00"), "return", "re_1", ret.id, admin.id, T0),
        (found[1].id, D("1.00"), "late", "gw_1", None, admin.id, T0),
    ]


def test_an_accepted_return_stores_lines_stock_and_ledger(make_uow: MakeUow, shop) -> None:
    admin, _, order, p1, p2 = shop
    ret = opened(
        make_uow,
        admin,
        order,
        ReturnItem(order.lines[0].id, 2, restock=True),
        ReturnItem(order.lines[1].id, 2),
    )
    with make_uow() as uow:
        stored = uow.orders.get(order.id)
        page = uow.products.movements(p1.id, MovementFilter(kind=MovementKind.RETURN), Window(limit=10))
    assert [(ln.quantity_shipped, ln.quantity_returned) for ln in stored.lines] == [(3, 2), (2, 2)]
    assert stored.return_status is ReturnStatus.PARTIALLY_RETURNED
    [movement] = page.items
    assert (movement.delta, movement.quantity, movement.order_id, movement.return_id, movement.actor_id) == (
        2,
        2,
        order.id,
        ret.id,
        admin.id,
    )
    assert (stock_of(make_uow, p1), stock_of(make_uow, p2)) == (2, 8)
    with make_uow() as uow:
        assert uow.returns.get(ret.id).status is ReturnState.ACCEPTED


def test_over_the_limit_changes_nothing(make_uow: MakeUow, shop) -> None:
    admin, ann, order, p1, _ = shop
    opened(make_uow, ann, order, ReturnItem(order.lines[0].id, 2, restock=True))
    with pytest.raises(ReturnLimit):
        opened(make_uow, admin, order, ReturnItem(order.lines[0].id, 2, restock=True))
    with make_uow() as uow:
        assert [ln.quantity_returned for ln in uow.orders.get(order.id).lines] == [0, 0]
        assert len(uow.returns.for_order(order.id)) == 1
    assert stock_of(make_uow, p1) == 0


def test_payments_lock_for_a_refund_and_refunds_move_the_money(make_uow: MakeUow, shop) -> None:
    admin, _, order, _, _ = shop
    charge(make_uow, admin, order, "pi_1", "20.00")
    charge(make_uow, admin, order, "pi_2", "19.00")
    with make_uow() as uow:
        locked = uow.payments.for_order(order.id, for_update=True)
    assert [p.reference for p in locked] == ["pi_1", "pi_2"]
    ret = opened(make_uow, admin, order, ReturnItem(order.lines[0].id, 3, restock=True))
    clock = FixedClock(T0)
    done = refund_return(
        ret.id, RefundReturn("re_1", D("1.00")), uow=make_uow(), actor=admin, clock=clock, currency=USD
    )
    assert done.refund.amount == D("31.00")
    with pytest.raises(RefundLimit):
        refund_goodwill(
            order.id,
            RefundOrder(D("8.01"), "late", "gw_1"),
            uow=make_uow(),
            actor=admin,
            clock=clock,
            currency=USD,
        )
    refund_goodwill(
        order.id,
        RefundOrder(D("8.00"), "late", "gw_1"),
        uow=make_uow(),
        actor=admin,
        clock=clock,
        currency=USD,
    )
    with make_uow() as uow:
        stored, payments = uow.orders.get(order.id), uow.payments.for_order(order.id)
        refunds = uow.refunds.for_order(order.id)
    assert [(p.captured, p.refunded) for p in payments] == [
        (D("20.00"), D("20.00")),
        (D("19.00"), D("19.00")),
    ]
    assert (stored.captured, stored.refunded, stored.payment_status) == (
        D("39.00"),
        D("39.00"),
        PaymentStatus.REFUNDED,
    )
    assert [(r.reference, r.amount, r.return_id) for r in refunds] == [
        ("re_1", D("31.00"), ret.id),
        ("gw_1", D("8.00"), None),
    ]


def test_the_stock_check_reconciles_returns_and_still_finds_a_drift(make_uow: MakeUow, shop) -> None:
    admin, ann, order, p1, p2 = shop
    clock = FixedClock(T0)
    opened(make_uow, admin, order, ReturnItem(order.lines[0].id, 1, restock=True))
    opened(make_uow, admin, order, ReturnItem(order.lines[1].id, 1))
    asked = opened(make_uow, ann, order, ReturnItem(order.lines[0].id, 1, restock=True))
    accept_return(asked.id, uow=make_uow(), actor=admin, clock=clock)
    declined = opened(make_uow, ann, order, ReturnItem(order.lines[1].id, 1, restock=True))
    reject_return(declined.id, "worn", uow=make_uow(), actor=admin, clock=clock)
    assert (stock_of(make_uow, p1), stock_of(make_uow, p2)) == (2, 8)
    assert check_stock(uow=make_uow()) == []
    with make_uow() as uow:  # units back on the shelf without a movement: a drift the check must see
        product = uow.products.get(p2.id, for_update=True)
        product.stock_quantity += 1
        product.version += 1
        uow.products.save(product)
        uow.commit()
    [drift] = check_stock(uow=make_uow())
    assert (drift.product_id, drift.stock, drift.ledger, drift.ordered, drift.live) == (p2.id, 9, 8, 2, 2)
