"""The return and refund use cases over the fakes: who may do what, the locks they take and in which order,
what they store (lines, stock, ledger, payments, the order's sums, events), and that every refusal changes
nothing at all."""

from datetime import timedelta
from decimal import Decimal

import pytest

from application.errors import Conflict, Forbidden, NotFound, PaymentReferenceReused, PreconditionFailed
from application.orders import change_order_status
from application.payments import RecordPayment, RefundPayment, record_payment, refund_payment
from application.ports import DuplicateKey, StaleVersion
from application.products import check_stock
from application.refunds import RefundOrder, RefundReturn, list_refunds, refund_goodwill, refund_return
from application.returns import (
    CreateReturn,
    accept_return,
    create_return,
    get_return,
    list_returns,
    reject_return,
)
from domain.orders import Order, OrderStatus, ReturnStatus
from domain.payment_errors import InvalidPaymentAmount
from domain.payments import USD, PaymentAction, PaymentStatus
from domain.return_errors import (
    IllegalReturnChange,
    RefundLimit,
    ReturnAlreadyRefunded,
    ReturnLimit,
    ReturnWindowClosed,
)
from domain.returns import ReturnItem, ReturnState
from domain.stock import MovementKind
from domain.users import User
from tests.support.shipping import ship_all
from tests.unit.conftest import World, dump

WINDOW = timedelta(days=30)
D = Decimal


@pytest.fixture
def shipped(world: World):  # type: ignore[no-untyped-def]
    """Ann's order of 3 × P-1 (10.00, stock 3 → 0) and 2 × P-2 (4.50), shipped, paid in two charges."""
    ann = world.customer()
    p1, p2 = world.product("P-1", price="10.00", stock=3), world.product("P-2", price="4.50")
    order = world.order(ann, (p1, 3), (p2, 2))
    charge(world, order.id, "pi_1", "20.00")
    charge(world, order.id, "pi_2", "19.00")
    ship_all(world.uow, order.id)
    return ann, order, p1, p2


def charge(world: World, order_id: int, reference: str, amount: str) -> None:
    cmd = RecordPayment("psp", reference, D(amount), PaymentAction.CHARGE)
    record_payment(order_id, cmd, uow=world.uow, actor=world.admin, clock=world.clock, currency=USD)


def open_return(world: World, actor: User, order_id: int, *items: ReturnItem, extra: str | None = None):  # type: ignore[no-untyped-def]
    cmd = CreateReturn(items, D(extra) if extra else None)
    return create_return(
        order_id, cmd, uow=world.uow, actor=actor, clock=world.clock, window=WINDOW, currency=USD
    )


def lines(world: World, order: Order) -> list[tuple[int, int]]:
    stored = world.uow.store.tables.orders[order.id]
    return [(line.quantity_shipped, line.quantity_returned) for line in stored.lines]


def outbox(world: World) -> list[str]:
    return [e.type.value for e in world.uow.store.tables.outbox]


class TestCreate:
    def test_a_customers_request_moves_nothing_but_raises_requested(self, world: World, shipped) -> None:
        ann, order, p1, _ = shipped
        before = len(outbox(world))
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 2, "broken", restock=True))
        assert (ret.status, ret.requested_by, ret.proposed_refund) == (
            ReturnState.REQUESTED,
            ann.id,
            D("20.00"),
        )
        assert lines(world, order) == [(3, 0), (2, 0)]
        assert world.stock(p1) == 0
        assert outbox(world)[before:] == ["return.requested"]
        assert world.uow.store.tables.returns[ret.id].status is ReturnState.REQUESTED

    def test_an_admins_return_is_accepted_at_once_and_restocks(self, world: World, shipped) -> None:
        _, order, p1, p2 = shipped
        before, locks = len(outbox(world)), world.uow.store.locks
        locks.clear()
        ret = open_return(
            world,
            world.admin,
            order.id,
            ReturnItem(order.lines[0].id, 2, restock=True),
            ReturnItem(order.lines[1].id, 1),
            extra="3.00",
        )
        assert locks == [("order", order.id), ("product", p1.id)]
        assert (ret.status, ret.decided_by, ret.version, ret.proposed_refund) == (
            ReturnState.ACCEPTED,
            world.admin.id,
            1,
            D("27.50"),
        )
        assert lines(world, order) == [(3, 2), (2, 1)]
        stored = world.uow.store.tables.orders[order.id]
        assert (stored.return_status, stored.status, stored.version) == (
            ReturnStatus.PARTIALLY_RETURNED, OrderStatus.SHIPPED, order.version + 6,
        )  # fmt: skip  # 2 charges, 3 status moves (the last ships every line), then this return
        assert (world.stock(p1), world.stock(p2)) == (2, 8)
        [movement] = [m for m in world.uow.store.tables.movements if m.kind is MovementKind.RETURN]
        assert (
            movement.product_id,
            movement.delta,
            movement.quantity,
            movement.order_id,
            movement.return_id,
        ) == (
            p1.id,
            2,
            2,
            order.id,
            ret.id,
        )
        assert outbox(world)[before:] == ["return.accepted", "product.back_in_stock"]
        assert check_stock(uow=world.uow) == []

    def test_another_customers_order_does_not_exist(self, world: World, shipped) -> None:
        _, order, _, _ = shipped
        bob = world.customer("bob@shop.test")
        before = dump(world.uow.store)
        with pytest.raises(NotFound, match=f"order {order.id} was not found"):
            open_return(world, bob, order.id, ReturnItem(order.lines[0].id, 1))
        with pytest.raises(NotFound):
            open_return(world, world.admin, 999_999, ReturnItem(1, 1))
        assert dump(world.uow.store) == before

    def test_only_admins_add_an_extra_amount(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        before = dump(world.uow.store)
        with pytest.raises(Forbidden, match="only admins may add an extra amount"):
            open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 1), extra="1.00")
        assert dump(world.uow.store) == before

    def test_the_window_after_delivery(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        change_order_status(
            order.id, OrderStatus.DELIVERED, uow=world.uow, actor=world.admin, clock=world.clock
        )
        world.clock.advance(WINDOW)
        open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 1))  # the window's last instant
        world.clock.advance(timedelta(seconds=1))
        before = dump(world.uow.store)
        with pytest.raises(ReturnWindowClosed, match="within 30 days of its delivery"):
            open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 1))
        assert dump(world.uow.store) == before
        open_return(world, world.admin, order.id, ReturnItem(order.lines[0].id, 1))  # an admin any time

    def test_a_customer_cannot_request_before_shipping(self, world: World) -> None:
        ann = world.customer()
        order = world.order(ann, (world.product(), 1))
        with pytest.raises(ReturnWindowClosed, match="is pending"):
            open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 1))

    def test_over_the_limit_with_open_requests_moves_nothing(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        line = order.lines[0].id
        open_return(world, ann, order.id, ReturnItem(line, 2))
        before = dump(world.uow.store)
        with pytest.raises(ReturnLimit) as over:
            open_return(world, world.admin, order.id, ReturnItem(line, 2, restock=True))
        assert (over.value.requested, over.value.available) == (2, 1)
        assert dump(world.uow.store) == before


class TestDecide:
    def test_accept_locks_order_return_products_and_restocks(self, world: World, shipped) -> None:
        ann, order, p1, _ = shipped
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 3, restock=True))
        locks, before = world.uow.store.locks, len(outbox(world))
        locks.clear()
        accepted = accept_return(ret.id, uow=world.uow, actor=world.admin, clock=world.clock)
        assert locks == [("order", order.id), ("return", ret.id), ("product", p1.id)]
        assert (accepted.status, accepted.version, accepted.decided_by) == (
            ReturnState.ACCEPTED,
            2,
            world.admin.id,
        )
        assert lines(world, order) == [(3, 3), (2, 0)]
        assert world.stock(p1) == 3
        assert outbox(world)[before:] == ["return.accepted", "product.back_in_stock"]
        assert check_stock(uow=world.uow) == []

    def test_reject_then_nothing_more(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[1].id, 1))
        rejected = reject_return(ret.id, "worn", uow=world.uow, actor=world.admin, clock=world.clock)
        assert (rejected.status, rejected.rejection_reason) == (ReturnState.REJECTED, "worn")
        assert outbox(world)[-1] == "return.rejected"
        before = dump(world.uow.store)
        with pytest.raises(IllegalReturnChange, match="is rejected: it cannot be accepted"):
            accept_return(ret.id, uow=world.uow, actor=world.admin, clock=world.clock)
        with pytest.raises(IllegalReturnChange, match="is rejected: it cannot be rejected"):
            reject_return(ret.id, "again", uow=world.uow, actor=world.admin, clock=world.clock)
        assert dump(world.uow.store) == before
        assert lines(world, order) == [(3, 0), (2, 0)]

    def test_only_admins_decide_and_owners_read(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[1].id, 1))
        before = dump(world.uow.store)
        with pytest.raises(Forbidden):
            accept_return(ret.id, uow=world.uow, actor=ann, clock=world.clock)
        with pytest.raises(Forbidden):
            reject_return(ret.id, "no", uow=world.uow, actor=ann, clock=world.clock)
        with pytest.raises(NotFound, match="return 999999"):
            accept_return(999_999, uow=world.uow, actor=world.admin, clock=world.clock)
        assert dump(world.uow.store) == before
        assert [r.id for r in list_returns(order.id, uow=world.uow, actor=ann)] == [ret.id]
        assert get_return(ret.id, uow=world.uow, actor=ann).id == ret.id
        bob = world.customer("bob@shop.test")
        with pytest.raises(NotFound, match=f"return {ret.id} was not found"):
            get_return(ret.id, uow=world.uow, actor=bob)
        with pytest.raises(NotFound, match=f"order {order.id} was not found"):
            list_returns(order.id, uow=world.uow, actor=bob)
        with pytest.raises(NotFound):
            list_returns(999_999, uow=world.uow, actor=world.admin)


def refund(world: World, return_id: int, reference: str = "re_1", extra: str | None = None):  # type: ignore[no-untyped-def]
    cmd = RefundReturn(reference, D(extra) if extra else None)
    return refund_return(return_id, cmd, uow=world.uow, actor=world.admin, clock=world.clock, currency=USD)


def goodwill(world: World, order_id: int, amount: str, reference: str = "gw_1", reason: str = "late"):  # type: ignore[no-untyped-def]
    cmd = RefundOrder(D(amount), reason, reference)
    return refund_goodwill(order_id, cmd, uow=world.uow, actor=world.admin, clock=world.clock, currency=USD)


class TestRefunds:
    def test_a_returns_refund_draws_oldest_payment_first_once(self, world: World, shipped) -> None:
        _, order, _, _ = shipped
        ret = open_return(world, world.admin, order.id, ReturnItem(order.lines[0].id, 2), extra="1.00")
        locks, before = world.uow.store.locks, len(outbox(world))
        locks.clear()
        done = refund(world, ret.id, extra="4.00")  # 2 × 10.00 + 1.00 + 4.00
        payment_ids = sorted(world.uow.store.tables.payments)
        assert locks == [*(("payment", i) for i in payment_ids), ("order", order.id), ("return", ret.id)]
        assert (done.created, done.refund.amount, done.refund.return_id, done.refund.reason) == (
            True,
            D("25.00"),
            ret.id,
            f"return {ret.id}",
        )
        payments = world.uow.store.tables.payments
        assert [(payments[i].refunded, payments[i].transactions[-1].reference) for i in payment_ids] == [
            (D("20.00"), "re_1"),
            (D("5.00"), "re_1"),
        ]
        stored = world.uow.store.tables.orders[order.id]
        assert (stored.refunded, stored.payment_status) == (D("25.00"), PaymentStatus.PARTIALLY_REFUNDED)
        assert world.uow.store.tables.returns[ret.id].refunded == D("25.00")
        assert outbox(world)[before:] == ["payment.refunded", "payment.refunded", "order.refunded"]
        state = dump(world.uow.store)
        again = refund(world, ret.id, extra="9.00")
        assert (again.created, again.refund.id) == (False, done.refund.id)
        with pytest.raises(ReturnAlreadyRefunded, match="reference 're_1'"):
            refund(world, ret.id, reference="re_2")
        assert dump(world.uow.store) == state

    def test_only_an_accepted_return_is_refunded(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 1))
        before = dump(world.uow.store)
        with pytest.raises(IllegalReturnChange, match="is requested: it cannot be refunded"):
            refund(world, ret.id)
        with pytest.raises(NotFound):
            refund(world, 999_999)
        with pytest.raises(Forbidden):
            refund_return(
                ret.id, RefundReturn("r"), uow=world.uow, actor=ann, clock=world.clock, currency=USD
            )
        assert dump(world.uow.store) == before

    def test_beyond_what_the_payments_hold_records_nothing(self, world: World, shipped) -> None:
        _, order, _, _ = shipped
        ret = open_return(world, world.admin, order.id, ReturnItem(order.lines[0].id, 3), extra="9.01")
        before = dump(world.uow.store)
        with pytest.raises(RefundLimit) as over:
            refund(world, ret.id)  # 30.00 + 9.01 > 39.00 captured
        assert (over.value.requested, over.value.available) == (D("39.01"), D("39.00"))
        assert dump(world.uow.store) == before

    def test_goodwill_replays_its_reference_and_refuses_another_body(self, world: World, shipped) -> None:
        ann, order, _, _ = shipped
        first = goodwill(world, order.id, "5.00")
        assert (first.created, first.refund.return_id, first.refund.reason) == (True, None, "late")
        assert world.uow.store.tables.orders[order.id].refunded == D("5.00")
        state = dump(world.uow.store)
        assert goodwill(world, order.id, "5.00").created is False
        for amount, reason in (("6.00", "late"), ("5.00", "other")):
            with pytest.raises(PaymentReferenceReused):
                goodwill(world, order.id, amount, reason=reason)
        with pytest.raises(Forbidden):
            refund_goodwill(
                order.id,
                RefundOrder(D(1), "r", "x"),
                uow=world.uow,
                actor=ann,
                clock=world.clock,
                currency=USD,
            )
        with pytest.raises(NotFound):
            goodwill(world, 999_999, "1.00")
        with pytest.raises(RefundLimit):
            goodwill(world, order.id, "34.01", reference="gw_2")
        assert dump(world.uow.store) == state
        assert [r.reference for r in list_refunds(order.id, uow=world.uow, actor=ann)] == ["gw_1"]
        with pytest.raises(NotFound):
            list_refunds(order.id, uow=world.uow, actor=world.customer("bob@shop.test"))

    def test_a_reference_a_payment_refund_used_is_refused(self, world: World, shipped) -> None:
        _, order, _, _ = shipped
        payment_id = min(world.uow.store.tables.payments)
        refund_payment(
            payment_id,
            RefundPayment(D(1), "r", "re_p"),
            uow=world.uow,
            actor=world.admin,
            clock=world.clock,
            currency=USD,
        )
        before = dump(world.uow.store)
        with pytest.raises(PaymentReferenceReused):
            goodwill(world, order.id, "1.00", reference="re_p")
        assert dump(world.uow.store) == before

    def test_the_stock_check_after_returns_with_and_without_restock(self, world: World, shipped) -> None:
        ann, order, p1, p2 = shipped
        open_return(world, world.admin, order.id, ReturnItem(order.lines[0].id, 1, restock=True))
        open_return(world, world.admin, order.id, ReturnItem(order.lines[1].id, 2))
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 2, restock=True))
        accept_return(ret.id, uow=world.uow, actor=world.admin, clock=world.clock)
        assert (world.stock(p1), world.stock(p2)) == (3, 8)
        assert world.uow.store.tables.orders[order.id].return_status is ReturnStatus.RETURNED
        assert check_stock(uow=world.uow) == []
        world.uow.store.tables.products[p2.id].stock_quantity += 1  # a real drift is still found
        [drift] = check_stock(uow=world.uow)
        assert (drift.product_id, drift.stock, drift.ledger) == (p2.id, 9, 8)


class TestRaces:
    """What a change that raced in meanwhile becomes: a precondition failure or a conflict to retry, with
    nothing stored."""

    @pytest.mark.parametrize(
        ("repository", "method", "error", "message"),
        [
            ("payments", "save", StaleVersion(7), "^payment \\d+ has changed \\(now at version 7\\)"),
            (
                "payments",
                "save",
                DuplicateKey("r"),
                "^a refund of reference 'gw_1' was just recorded; retry$",
            ),
            ("orders", "save", StaleVersion(9), "^order \\d+ has changed \\(now at version 9\\)"),
            ("refunds", "add", DuplicateKey("r"), "^a refund of reference 'gw_1' was just recorded; retry$"),
        ],
    )
    def test_a_refund(self, world: World, shipped, monkeypatch, repository, method, error, message) -> None:
        _, order, _, _ = shipped
        before = dump(world.uow.store)

        def raced(*_: object) -> None:
            raise error

        monkeypatch.setattr(getattr(world.uow, repository), method, raced)
        expected = PreconditionFailed if isinstance(error, StaleVersion) else Conflict
        with pytest.raises(expected, match=message):
            goodwill(world, order.id, "5.00")
        assert dump(world.uow.store) == before

    @pytest.mark.parametrize("repository", ["returns", "orders"])
    def test_an_acceptance(self, world: World, shipped, monkeypatch, repository: str) -> None:
        ann, order, _, _ = shipped
        ret = open_return(world, ann, order.id, ReturnItem(order.lines[0].id, 1, restock=True))
        before = dump(world.uow.store)

        def raced(*_: object) -> None:
            raise StaleVersion(4)

        monkeypatch.setattr(getattr(world.uow, repository), "save", raced)
        kind = "return" if repository == "returns" else "order"
        with pytest.raises(PreconditionFailed, match=f"^{kind} \\d+ has changed \\(now at version 4\\)"):
            accept_return(ret.id, uow=world.uow, actor=world.admin, clock=world.clock)
        assert dump(world.uow.store) == before


class TestAmounts:
    def test_extras_finer_than_the_currency_are_refused(self, world: World, shipped) -> None:
        _, order, _, _ = shipped
        before = dump(world.uow.store)
        with pytest.raises(InvalidPaymentAmount):
            open_return(world, world.admin, order.id, ReturnItem(order.lines[0].id, 1), extra="0.001")
        assert dump(world.uow.store) == before
        ret = open_return(world, world.admin, order.id, ReturnItem(order.lines[0].id, 1))
        before = dump(world.uow.store)
        with pytest.raises(InvalidPaymentAmount):
            refund(world, ret.id, extra="0.001")
        assert dump(world.uow.store) == before

    def test_a_returns_refund_may_not_reuse_a_goodwill_reference(self, world: World, shipped) -> None:
        _, order, _, _ = shipped
        goodwill(world, order.id, "1.00", reference="shared")
        ret = open_return(world, world.admin, order.id, ReturnItem(order.lines[1].id, 1))
        before = dump(world.uow.store)
        with pytest.raises(PaymentReferenceReused, match="'shared'"):
            refund(world, ret.id, reference="shared")
        assert dump(world.uow.store) == before

    def test_restocked_products_lock_in_id_order(self, world: World, shipped) -> None:
        ann, order, p1, p2 = shipped
        ret = open_return(
            world, ann, order.id,
            ReturnItem(order.lines[1].id, 1, restock=True), ReturnItem(order.lines[0].id, 1, restock=True),
        )  # fmt: skip
        world.uow.store.locks.clear()
        accept_return(ret.id, uow=world.uow, actor=world.admin, clock=world.clock)
        assert world.uow.store.locks == [
            ("order", order.id),
            ("return", ret.id),
            ("product", p1.id),
            ("product", p2.id),
        ]
