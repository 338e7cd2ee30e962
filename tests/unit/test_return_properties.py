"""Property-based returns and refunds (Hypothesis) over the in-memory fakes: for any sequence of requests,
admins' returns, acceptances, rejections (with and without restock), refunds of returns and goodwill
refunds, each succeeds exactly when a plain model of the rules says so (a refusal changes nothing), and
throughout returned <= shipped on every line, refunded <= captured (the order's sums are its payments'),
every product's stock is the sum of its ledger, and `shop check-stock` finds nothing."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from application.errors import ApplicationError
from application.payments import RecordPayment, record_payment
from application.products import check_stock
from application.refunds import RefundOrder, RefundReturn, refund_goodwill, refund_return
from application.returns import CreateReturn, accept_return, create_return, reject_return
from domain.errors import DomainError
from domain.payments import USD, PaymentAction
from domain.returns import ReturnItem
from tests.support.shipping import ship_all
from tests.unit.conftest import dump
from tests.unit.test_properties import Shop

CENTS = st.integers(min_value=1, max_value=3000).map(lambda c: Decimal(c) / 100)
PRICE = Decimal("3.50")  # every Shop product's


@dataclass
class ModelReturn:
    line: int
    quantity: int
    extra: Decimal
    status: str
    refunded: bool = False


@dataclass
class Model:
    shipped: list[int]
    returned: list[int] = field(default_factory=lambda: [0, 0])
    returns: list[ModelReturn] = field(default_factory=list)
    refunded: Decimal = Decimal(0)

    def available(self, line: int) -> int:
        asked = sum(r.quantity for r in self.returns if r.line == line and r.status == "requested")
        return self.shipped[line] - self.returned[line] - asked


steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["request", "admin"]), st.integers(0, 1), st.integers(1, 4), st.booleans()),
        st.tuples(st.sampled_from(["accept", "reject"]), st.integers(0, 5)),
        st.tuples(st.just("refund_return"), st.integers(0, 5), st.one_of(st.none(), CENTS)),
        st.tuples(st.just("goodwill"), CENTS),
    ),
    max_size=20,
)


@settings(deadline=None)
@given(steps)
def test_any_sequence_of_returns_and_refunds_keeps_every_limit(sequence: list[tuple]) -> None:
    shop = Shop()
    products = [shop.product("P-1", 4), shop.product("P-2", 3)]
    order = shop.order((products[0], 4), (products[1], 3))  # 24.50
    for reference, amount in (("pi_1", "10.00"), ("pi_2", "14.50")):
        cmd = RecordPayment("psp", reference, Decimal(amount), PaymentAction.CHARGE)
        record_payment(order.id, cmd, uow=shop.uow(), actor=shop.admin, clock=shop.clock, currency=USD)
    ship_all(shop.uow(), order.id)
    captured = Decimal("24.50")
    line_ids = [line.id for line in order.lines]
    model, ids = Model(shipped=[4, 3]), []
    for n, step in enumerate(sequence):
        before = dump(shop.store)
        kind, ok = step[0], True
        target = (
            model.returns[step[1]]
            if kind not in ("goodwill", "request", "admin") and step[1] < len(ids)
            else None
        )
        try:
            if kind in ("request", "admin"):
                _, line, quantity, restock = step
                ok = quantity <= model.available(line)
                actor = shop.admin if kind == "admin" else shop.buyer
                cmd = CreateReturn((ReturnItem(line_ids[line], quantity, restock=restock),))
                ret = create_return(
                    order.id, cmd, uow=shop.uow(), actor=actor, clock=shop.clock, window=timedelta(days=30),
                    currency=USD,
                )  # fmt: skip
                assert ok, step
                ids.append(ret.id)
                model.returns.append(ModelReturn(line, quantity, Decimal(0), "requested"))
                if kind == "admin":
                    model.returns[-1].status = "accepted"
                    model.returned[line] += quantity
            elif kind in ("accept", "reject"):
                if target is None:
                    continue
                ok = target.status == "requested"
                if kind == "accept":
                    accept_return(ids[step[1]], uow=shop.uow(), actor=shop.admin, clock=shop.clock)
                    assert ok, step
                    target.status = "accepted"
                    model.returned[target.line] += target.quantity
                else:
                    reject_return(ids[step[1]], "no", uow=shop.uow(), actor=shop.admin, clock=shop.clock)
                    assert ok, step
                    target.status = "rejected"
            elif kind == "refund_return":
                if target is None:
                    continue
                extra = step[2] or Decimal(0)
                amount = PRICE * target.quantity + extra
                ok = (
                    target.status == "accepted"
                    and not target.refunded
                    and amount <= captured - model.refunded
                )
                cmd = RefundReturn(f"re_{n}", step[2])
                refund_return(
                    ids[step[1]], cmd, uow=shop.uow(), actor=shop.admin, clock=shop.clock, currency=USD
                )
                assert ok, step
                target.refunded = True
                model.refunded += amount
            else:
                ok = step[1] <= captured - model.refunded
                cmd = RefundOrder(step[1], "goodwill", f"gw_{n}")
                refund_goodwill(
                    order.id, cmd, uow=shop.uow(), actor=shop.admin, clock=shop.clock, currency=USD
                )
                assert ok, step
                model.refunded += step[1]
        except (DomainError, ApplicationError):
            assert not ok, step
            assert dump(shop.store) == before
        stored = shop.store.tables
        kept = stored.orders[order.id]
        assert [line.quantity_returned for line in kept.lines] == model.returned
        assert all(0 <= line.quantity_returned <= line.quantity_shipped for line in kept.lines)
        payments = [p for p in stored.payments.values() if p.order_id == order.id]
        assert kept.refunded == model.refunded == sum((p.refunded for p in payments), Decimal(0))
        assert kept.refunded <= kept.captured == captured
        for product in products:
            ledger = sum(m.delta for m in stored.movements if m.product_id == product.id)
            assert stored.products[product.id].stock_quantity == ledger
    assert check_stock(uow=shop.uow()) == []
