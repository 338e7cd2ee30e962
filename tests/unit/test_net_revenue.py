"""An order's revenue net of refunds (domain.payments `MoneyTotals.net_revenue`, `Order.net_revenue`), each
case pinned to the cent: refunds first return what was captured above the total (an overpayment), the rest
lowers the revenue; a cancelled order counts 0. The sales totals add these up (application.sales)."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from application.ports import OrderStats
from application.sales import sum_stats
from domain.orders import Order, OrderStatus
from domain.payments import MoneyTotals

AT = datetime(2026, 12, 2, tzinfo=UTC)
D = Decimal


@pytest.mark.parametrize(
    ("captured", "refunded", "refunded_revenue", "net"),
    [
        ("0", "0", "0.00", "30.00"),  # unpaid: the order still counts its total
        ("30", "0", "0.00", "30.00"),
        ("30", "0.01", "0.01", "29.99"),  # the first cent of a refund lowers it
        ("30", "29.99", "29.99", "0.01"),
        ("30", "30", "30.00", "0.00"),  # refunded in full
        ("20", "5", "5.00", "25.00"),  # captured in part
        ("30.01", "0.01", "0.00", "30.00"),  # the overpayment's cent given back: no revenue lost
        ("40", "10", "0.00", "30.00"),
        ("40", "10.01", "0.01", "29.99"),  # a cent beyond the overpayment
        ("40", "40", "30.00", "0.00"),
        ("40", "25", "15.00", "15.00"),
    ],
)
def test_the_net_revenue_of_an_order_of_30(
    captured: str, refunded: str, refunded_revenue: str, net: str
) -> None:
    money = MoneyTotals(D(captured), D(captured), D(refunded))
    assert str(money.refunded_revenue(D("30.00"))) == refunded_revenue
    assert str(money.net_revenue(D("30.00"))) == net


def test_a_free_order_has_no_revenue_to_lose() -> None:
    assert MoneyTotals(D(5), D(5), D(5)).net_revenue(D("0.00")) == 0
    assert MoneyTotals(D(5), D(5), D(5)).refunded_revenue(D("0.00")) == 0


def order(status: OrderStatus, **money: Decimal) -> Order:
    o = Order(
        order_number="ORD-1", user_id=5, status=status, total_amount=D("30.00"),
        created_at=AT, updated_at=AT, id=9,
    )  # fmt: skip
    return replace(o, **money)


@pytest.mark.parametrize("status", [s for s in OrderStatus if s is not OrderStatus.CANCELLED])
def test_an_order_counts_its_total_net_of_the_refunds_of_its_value(status: OrderStatus) -> None:
    o = order(status, authorized=D(40), captured=D(40), refunded=D("12.50"))
    assert (str(o.refunded_revenue), str(o.net_revenue)) == ("2.50", "27.50")
    assert (str(order(status).net_revenue), str(order(status).refunded_revenue)) == ("30.00", "0.00")


def test_a_cancelled_order_counts_nothing_whatever_its_money() -> None:
    part = order(OrderStatus.CANCELLED, authorized=D(40), captured=D(40), refunded=D("12.50"))
    unpaid = order(OrderStatus.CANCELLED)  # its total would count were it not cancelled
    assert (str(part.refunded_revenue), str(part.net_revenue), str(unpaid.net_revenue)) == ("0.00",) * 3
    assert unpaid.refunded_revenue == 0


def test_the_statistics_keep_the_gross_revenue_beside_the_net() -> None:
    stats = OrderStats(1, D("29.99"), {}, D("0.01"))
    assert str(stats.gross_revenue) == "30.00" and OrderStats(1, D("5.00")).refunded_revenue == 0
    periods = [
        OrderStats(1, D("29.99"), {s: 0 for s in OrderStatus}, D("0.01")),
        OrderStats(2, D("10.00"), {s: 0 for s in OrderStatus}, D("2.50")),
    ]
    total = sum_stats(periods)
    assert (str(total.total_revenue), str(total.refunded_revenue), str(total.gross_revenue)) == (
        "39.99", "2.51", "42.50",
    )  # fmt: skip
