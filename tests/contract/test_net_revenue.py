"""Revenue net of refunds in every kept total, the same on the fake, SQLite and PostgreSQL: /orders/stats
(with the gross and refunded revenue beside it) and its periods, a customer's statistics and the top
spenders (all time, a period, the last 30 days' kept window). A refund lowers the revenue of the order's own
period; one that only returns an overpayment lowers nothing; a cancelled order counts 0."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from application.orders import cancel_order
from application.payments import RecordPayment, RefundPayment, record_payment, refund_payment
from application.sales import SalesQuery, customer_stats, sales_report, top_spenders
from domain.orders import Order
from domain.payments import USD, PaymentAction
from domain.periods import Grouping
from domain.users import User
from tests.contract.conftest import MakeUow
from tests.contract.helpers import add_order, add_product, add_user
from tests.doubles.clock import FixedClock

D = Decimal
TODAY = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
CLOCK = FixedClock(
    TODAY + timedelta(hours=5)
)  # every payment and refund today, whenever the order was placed


class Shop:
    def __init__(self, make_uow: MakeUow) -> None:
        self.make_uow = make_uow
        self.admin = add_user(make_uow, "admin@shop.test", is_admin=True)
        self.ann = add_user(make_uow, "ann@shop.test")
        self.bob = add_user(make_uow, "bob@shop.test")
        self.product = add_product(make_uow, "N-1", price="15.00", stock=100)
        self.references = 0

    def order(self, buyer: User, units: int, days_ago: int, hour: int = 1) -> Order:
        at = TODAY - timedelta(days=days_ago, hours=-hour)
        return add_order(self.make_uow, buyer, (self.product, units), at=at)

    def charge(self, order: Order, amount: str, *refunds: str) -> None:
        self.references += 1
        cmd = RecordPayment("stripe", f"ch_{self.references}", D(amount), PaymentAction.CHARGE)
        with self.make_uow() as uow:
            payment = record_payment(
                order.id, cmd, uow=uow, actor=self.admin, clock=CLOCK, currency=USD
            ).payment
        for n, refund in enumerate(refunds):
            with self.make_uow() as uow:
                asked = RefundPayment(D(refund), "returned", f"re_{self.references}_{n}")
                refund_payment(payment.id, asked, uow=uow, actor=self.admin, clock=CLOCK, currency=USD)

    def stats(self, **query) -> tuple:
        with self.make_uow() as uow:
            report = sales_report(SalesQuery(**query), uow=uow, actor=self.admin, clock=CLOCK)
        return report

    def spenders(self, **period) -> list[tuple[int, int, str]]:
        with self.make_uow() as uow:
            uow.orders.roll_recent_window(CLOCK.now())
            uow.commit()
        with self.make_uow() as uow:
            found = top_spenders(10, **period, uow=uow, actor=self.admin, clock=CLOCK)
        return [(s.user_id, s.orders, str(s.revenue)) for s in found]

    def spent(self, user: User) -> tuple[str, str]:
        with self.make_uow() as uow:
            stats = customer_stats(user.id, uow=uow, actor=self.admin)
        return str(stats.total_spent), str(stats.average_order_value)


def figures(stats) -> tuple[int, str, str, str]:
    return (
        stats.total_orders,
        str(stats.total_revenue),
        str(stats.refunded_revenue),
        str(stats.gross_revenue),
    )


@pytest.fixture
def shop(make_uow: MakeUow) -> Shop:
    """ann: 30.00 two days ago, 12.50 refunded today; 15.00 yesterday, charged 20.00 and the 5.00 over it
    refunded. bob: 30.00 yesterday, refunded in full and cancelled; 15.00 today, unpaid."""
    shop = Shop(make_uow)
    shop.charge(shop.order(shop.ann, 2, days_ago=2), "30.00", "10.00", "2.50")
    shop.charge(shop.order(shop.ann, 1, days_ago=1), "20.00", "5.00")
    cancelled = shop.order(shop.bob, 2, days_ago=1, hour=2)
    shop.charge(cancelled, "30.00", "30.00")
    with make_uow() as uow:
        cancel_order(cancelled.id, uow=uow, actor=shop.admin, clock=CLOCK)
    shop.order(shop.bob, 1, days_ago=0)
    return shop


def test_the_statistics_are_net_of_refunds_with_the_gross_beside(shop: Shop) -> None:
    assert figures(shop.stats().totals) == (4, "47.50", "12.50", "60.00")
    period = shop.stats(created_from=TODAY - timedelta(days=1), created_to=TODAY + timedelta(days=1))
    assert figures(period.totals) == (3, "30.00", "0.00", "30.00")


def test_a_refund_lowers_the_revenue_of_its_orders_period(shop: Shop) -> None:
    report = shop.stats(created_from=TODAY - timedelta(days=2), group_by=Grouping.DAY)
    assert [(p.start, *figures(p.stats)) for p in report.periods] == [
        (TODAY - timedelta(days=2), 1, "17.50", "12.50", "30.00"),
        (TODAY - timedelta(days=1), 2, "15.00", "0.00", "15.00"),  # the overpayment's refund, the cancelled
        (TODAY, 1, "15.00", "0.00", "15.00"),
    ]
    assert figures(report.totals) == (4, "47.50", "12.50", "60.00")


def test_customers_spend_net_of_refunds(shop: Shop) -> None:
    assert shop.spent(shop.ann) == ("32.50", "16.25")
    assert shop.spent(shop.bob) == ("15.00", "15.00")


def test_top_spenders_rank_net_revenue(shop: Shop) -> None:
    ann, bob = shop.ann.id, shop.bob.id
    assert shop.spenders() == [(ann, 2, "32.50"), (bob, 1, "15.00")]
    assert shop.spenders(days=30) == [(ann, 2, "32.50"), (bob, 1, "15.00")]
    assert shop.spenders(days=2) == [(ann, 1, "15.00"), (bob, 1, "15.00")]
    two_days_ago = TODAY - timedelta(days=2)
    assert shop.spenders(created_from=two_days_ago, created_to=two_days_ago + timedelta(hours=23)) == [
        (ann, 1, "17.50")
    ]


def test_a_refund_of_an_overpayment_only_lowers_nothing(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    order = shop.order(shop.ann, 2, days_ago=0)
    shop.charge(order, "30.01", "0.01")
    assert figures(shop.stats().totals) == (1, "30.00", "0.00", "30.00")
    assert shop.spent(shop.ann) == ("30.00", "30.00")
    shop.charge(shop.order(shop.ann, 2, days_ago=1), "30.01", "0.01", "0.01")  # a cent beyond the overpayment
    assert figures(shop.stats().totals) == (2, "59.99", "0.01", "60.00")
    assert shop.spenders(days=30) == shop.spenders() == [(shop.ann.id, 2, "59.99")]
