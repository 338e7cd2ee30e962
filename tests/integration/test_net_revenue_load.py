"""Net revenue under a concurrent mixed load on real PostgreSQL: orders placed (some charged above their
total, some refunded past the overpayment), authorisations captured, refunds racing on one payment and with
status changes, unpaid orders cancelled; old orders (before the recent window's lock horizon) among them.
Afterwards every kept total (order_totals, order_sales, user_sales with its recent window, user_day_sales)
equals a recount from the orders, and the statistics equal the domain's sums of the orders themselves."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from adapters.sql.unit_of_work import sync_unit_of_work
from application.orders import OrderItem, PlaceOrder, cancel_order, change_order_status, place_order
from application.payments import (
    RecordPayment,
    RefundPayment,
    capture_payment,
    record_payment,
    refund_payment,
)
from domain.orders import Order, OrderStatus
from domain.payments import USD, PaymentAction
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.helpers import admin, customer, product
from tests.integration.test_sales_totals import assert_kept_totals_are_a_recount

pytestmark = pytest.mark.postgres

NOW = FixedClock(datetime.now(UTC))
OLD = FixedClock(NOW.at - timedelta(days=3))  # its changes take the recent window's row for share


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def test_kept_totals_equal_a_recount_after_a_concurrent_mixed_load(pg: Engine) -> None:
    def uow():  # type: ignore[no-untyped-def]
        return sync_unit_of_work(pg, present)

    boss = admin(pg)
    buyers = [customer(pg, f"c{n}@shop.test") for n in range(3)]
    items = [product(pg, boss, f"L-{n}", stock=10_000, price=f"{n + 2}.35") for n in range(3)]

    def place(n: int, clock: FixedClock = NOW) -> Order:
        lines = (OrderItem(items[n % 3].id, 1 + n % 3), OrderItem(items[(n + 1) % 3].id, 1))
        return place_order(PlaceOrder(lines), uow=uow(), actor=buyers[n % 3], clock=clock)

    def pay(order: Order, amount: Decimal, action: PaymentAction, ref: str) -> int:
        cmd = RecordPayment("psp", ref, amount, action)
        recorded = record_payment(order.id, cmd, uow=uow(), actor=boss, clock=NOW, currency=USD)
        assert recorded.payment.id is not None
        return recorded.payment.id

    def refund(payment_id: int, amount: str, ref: str) -> None:
        asked = RefundPayment(Decimal(amount), "returned", ref)
        refund_payment(payment_id, asked, uow=uow(), actor=boss, clock=NOW, currency=USD)

    existing = [place(n, OLD if n % 4 == 0 else NOW) for n in range(12)]
    charged = {o.id: pay(o, o.total_amount, PaymentAction.CHARGE, f"ch_{o.id}") for o in existing[0::3]}
    held = {o.id: pay(o, o.total_amount, PaymentAction.AUTHORIZE, f"pi_{o.id}") for o in existing[1::3]}

    def charged_work(order: Order) -> list[Callable[[], object]]:
        payment = charged[order.id]
        return [
            lambda: refund(payment, "1.00", f"re_{order.id}_a"),  # two refunds of one payment at once
            lambda: refund(payment, "0.35", f"re_{order.id}_b"),
            lambda: change_order_status(order.id, OrderStatus.CONFIRMED, uow=uow(), actor=boss, clock=NOW),
        ]

    def held_work(order: Order) -> list[Callable[[], object]]:
        def capture_then_refund() -> None:
            capture_payment(held[order.id], None, uow=uow(), actor=boss, clock=NOW, currency=USD)
            refund(held[order.id], "0.50", f"re_{order.id}")

        return [capture_then_refund]

    def new_order(n: int) -> Callable[[], object]:
        def work() -> None:
            order = place(n, OLD if n % 5 == 0 else NOW)
            if n % 2:  # charged 1.00 above its total, refunded 1.50: 0.50 of its value
                payment = pay(order, order.total_amount + 1, PaymentAction.CHARGE, f"ch_new_{n}")
                refund(payment, "1.50", f"re_new_{n}")

        return work

    work: list[Callable[[], object]] = []
    for order in existing:
        if order.id in charged:
            work += charged_work(order)
        elif order.id in held:
            work += held_work(order)
        else:
            work.append(lambda order=order: cancel_order(order.id, uow=uow(), actor=boss, clock=NOW))
    work += [new_order(n) for n in range(100, 110)]
    work = work[::2] + work[1::2]  # the same order's work apart, each among others'
    with ThreadPoolExecutor(max_workers=6) as pool:
        for done in [pool.submit(w) for w in work]:
            done.result()  # no refusal expected: each action is within its limits whatever the order

    assert_kept_totals_are_a_recount(pg, orders_count=22)
    with uow() as u:
        orders = [u.orders.get(o) for o in range(1, 23)]
        stats = u.orders.stats()
    assert all(o is not None for o in orders)
    refunded = sum((o.refunded_revenue for o in orders if o is not None), Decimal(0))
    net = sum((o.net_revenue for o in orders if o is not None), Decimal(0))
    assert (stats.total_revenue, stats.refunded_revenue) == (net, refunded)
    assert refunded > 0 and sum(1 for o in orders if o and o.status is OrderStatus.CANCELLED) == 4


def test_only_a_change_of_the_net_writes_kept_rows(pg: Engine) -> None:
    """An authorisation and a capture within the total leave every kept row as it was (same row version,
    xmin); the refund that follows moves them, in its own transaction."""
    boss, ann = admin(pg), customer(pg, "ann@shop.test")
    item = product(pg, boss, "X-1", stock=10, price="30.00")
    order = place_order(
        PlaceOrder((OrderItem(item.id, 1),)), uow=sync_unit_of_work(pg, present), actor=ann, clock=NOW
    )

    def versions() -> dict[str, list[str]]:
        with pg.connect() as c:
            return {
                t: sorted(c.execute(text(f"SELECT xmin::text FROM {t}")).scalars())
                for t in ("order_totals", "order_sales", "user_sales", "user_day_sales")
            }

    before = versions()
    cmd = RecordPayment("psp", "pi_1", Decimal("30.00"), PaymentAction.AUTHORIZE)
    payment = record_payment(
        order.id, cmd, uow=sync_unit_of_work(pg, present), actor=boss, clock=NOW, currency=USD
    ).payment
    assert payment.id is not None
    for amount in ("10.00", "20.00"):
        capture_payment(
            payment.id,
            Decimal(amount),
            uow=sync_unit_of_work(pg, present),
            actor=boss,
            clock=NOW,
            currency=USD,
        )
    assert versions() == before
    refund_payment(
        payment.id, RefundPayment(Decimal("0.01"), "r", "re_1"), uow=sync_unit_of_work(pg, present),
        actor=boss, clock=NOW, currency=USD,
    )  # fmt: skip
    after = versions()
    assert all(after[t] != before[t] for t in after)
    assert_kept_totals_are_a_recount(pg, orders_count=1)
