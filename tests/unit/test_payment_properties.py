"""Property-based payment rules (Hypothesis) over the in-memory fakes: for any sequence of payment actions,
each succeeds exactly when a plain model of the rules says so (a refusal changes nothing), every payment keeps
captured <= authorised and refunded <= captured, the order's sums are its payments' sums, and its
payment_status is what the amounts say."""

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from application.errors import ApplicationError
from application.payments import (
    RecordPayment,
    RefundPayment,
    capture_payment,
    record_payment,
    refund_payment,
    void_payment,
)
from domain.errors import DomainError
from domain.payments import USD, PaymentAction
from tests.unit.conftest import dump
from tests.unit.test_properties import Shop

CENTS = st.integers(min_value=1, max_value=6000).map(lambda c: Decimal(c) / 100)


@dataclass
class Model:
    authorized: Decimal = Decimal(0)
    captured: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    voided: bool = False


def expected_status(total: Decimal, a: Decimal, c: Decimal, r: Decimal) -> str:
    """The rules of docs/api.md#payments, written out independently of domain.payments."""
    kept = c - r
    if kept > total:
        return "overpaid"
    if c == 0:
        return "unpaid" if a == 0 else "authorized"
    if r == 0:
        return "paid" if c == total else "partially_paid"
    return "refunded" if r == c else "partially_refunded"


actions = st.lists(
    st.one_of(
        st.tuples(st.just("authorize"), CENTS),
        st.tuples(st.just("charge"), CENTS),
        st.tuples(st.just("capture"), st.integers(0, 3), st.one_of(st.none(), CENTS)),
        st.tuples(st.just("void"), st.integers(0, 3)),
        st.tuples(st.just("refund"), st.integers(0, 3), CENTS),
    ),
    max_size=25,
)


@given(actions)
def test_any_sequence_of_payment_actions_keeps_the_amounts_within_their_limits(steps: list[tuple]) -> None:
    shop = Shop()
    product = shop.product("P-1", 10)
    order = shop.order((product, 10))  # 35.00
    models: list[Model] = []
    ids: list[int] = []
    refunds = 0
    for step in steps:
        before = dump(shop.store)
        kind, index = step[0], step[1] if isinstance(step[1], int) else None
        target = models[index] if index is not None and index < len(models) else None
        ok = True
        try:
            with shop.uow() as uow:
                if kind in ("authorize", "charge"):
                    cmd = RecordPayment("psp", f"p{len(ids)}", step[1], PaymentAction(kind))
                    ids.append(
                        record_payment(
                            order.id, cmd, uow=uow, actor=shop.admin, clock=shop.clock, currency=USD
                        ).payment.id
                    )
                    models.append(Model(step[1], step[1] if kind == "charge" else Decimal(0)))
                    continue
                if target is None:
                    continue
                pid = ids[index]
                if kind == "capture":
                    amount = step[2]
                    left = Decimal(0) if target.voided else target.authorized - target.captured
                    ok = not target.voided and (left if amount is None else amount) <= left and left > 0
                    capture_payment(pid, amount, uow=uow, actor=shop.admin, clock=shop.clock, currency=USD)
                    assert ok, (step, target)
                    target.captured += left if amount is None else amount
                elif kind == "void":
                    ok = not target.voided and target.authorized > target.captured
                    void_payment(pid, uow=uow, actor=shop.admin, clock=shop.clock)
                    assert ok, (step, target)
                    target.authorized, target.voided = target.captured, True
                else:
                    ok = step[2] <= target.captured - target.refunded
                    refunds += 1
                    cmd = RefundPayment(step[2], "r", f"re{refunds}")
                    refund_payment(pid, cmd, uow=uow, actor=shop.admin, clock=shop.clock, currency=USD)
                    assert ok, (step, target)
                    target.refunded += step[2]
        except (DomainError, ApplicationError):
            assert not ok, (step, target)
            assert dump(shop.store) == before
    stored = shop.store.tables
    for pid, model in zip(ids, models, strict=True):
        payment = stored.payments[pid]
        assert (payment.authorized, payment.captured, payment.refunded, payment.voided) == (
            model.authorized, model.captured, model.refunded, model.voided,
        )  # fmt: skip
        assert 0 <= payment.refunded <= payment.captured <= payment.authorized
    kept = stored.orders[order.id]
    sums = tuple(
        sum((getattr(m, f) for m in models), Decimal(0)) for f in ("authorized", "captured", "refunded")
    )
    assert (kept.authorized, kept.captured, kept.refunded) == sums
    assert kept.payment_status.value == expected_status(kept.total_amount, *sums)
