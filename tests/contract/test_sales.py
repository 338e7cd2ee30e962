"""The sales reports over the fake, SQLite and PostgreSQL: each answer is checked against a count made here
from the orders the test placed (SQL reads totals its triggers keep; the fake counts its orders)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from application.ports import OrderStats, TimeRange
from application.sales import SalesQuery, customer_stats, sales_report, top_spenders
from domain.orders import Order, OrderStatus
from domain.periods import Grouping
from domain.users import User
from tests.contract.conftest import MakeUow
from tests.contract.helpers import add_order, add_product, add_user
from tests.doubles.clock import FixedClock

US = timedelta(microseconds=1)
CLOCK = FixedClock()


@dataclass
class Placed:
    at: datetime
    user_id: int
    status: OrderStatus
    total: Decimal


class Shop:
    """Orders placed at chosen instants by two customers, some moved on or cancelled; `placed` is what a
    report must count."""

    def __init__(self, make_uow: MakeUow) -> None:
        self.make_uow = make_uow
        self.admin = add_user(make_uow, "admin@shop.test", is_admin=True)
        self.ann = add_user(make_uow, "ann@shop.test")
        self.bob = add_user(make_uow, "bob@shop.test")
        self.product = add_product(make_uow, "S-1", "2.50", stock=10_000)
        self.placed: list[Placed] = []

    def order(self, buyer: User, at: datetime, quantity: int = 1, status: OrderStatus | None = None) -> Order:
        order = add_order(self.make_uow, buyer, (self.product, quantity), at=at)
        path = [OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
        steps = path[: path.index(status) + 1] if status in path else []
        with self.make_uow() as uow:
            loaded = uow.orders.get(order.id)
            if status is OrderStatus.CANCELLED:
                loaded.cancel(uow.products.get_many([self.product.id]), by=self.admin, at=at)
                uow.orders.save(loaded)
            for step in steps:
                loaded.change_status(step, actor_id=self.admin.id, at=at)
                uow.orders.save(loaded)
            uow.commit()
        self.placed.append(Placed(at, buyer.id, status or OrderStatus.PENDING, order.total_amount))
        return order

    def expected(self, start: datetime | None, end: datetime | None) -> OrderStats:
        found = [p for p in self.placed if (start is None or p.at >= start) and (end is None or p.at < end)]
        by_status = {s: sum(1 for p in found if p.status is s) for s in OrderStatus}
        revenue = sum((p.total for p in found if p.status is not OrderStatus.CANCELLED), Decimal("0.00"))
        return OrderStats(len(found), revenue, by_status)

    def report(self, query: SalesQuery):
        return sales_report(query, uow=self.make_uow(), actor=self.admin, clock=FixedClock())


STATUSES = list(OrderStatus)
T = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def mixed_shop(make_uow: MakeUow, moments: list[datetime]) -> Shop:
    shop = Shop(make_uow)
    for i, at in enumerate(moments):
        shop.order(
            shop.ann if i % 3 else shop.bob, at, quantity=1 + i % 4, status=STATUSES[i % len(STATUSES)]
        )
    return shop


def test_period_totals_count_partial_edges_exactly(make_uow: MakeUow) -> None:
    # Orders on both sides of quarter, hour and day boundaries, and inside partial quarters.
    offsets = [
        -86400,
        -3600,
        -901,
        -900,
        -899,
        -1,
        0,
        1,
        450,
        899,
        900,
        3599,
        3600,
        7207,
        86399,
        86400,
        90000,
    ]
    shop = mixed_shop(make_uow, [T + timedelta(seconds=s, microseconds=7) for s in offsets])
    cuts = [
        (None, None),
        (T, None),
        (None, T),
        (T - timedelta(seconds=900), T + timedelta(seconds=900)),
        (T - timedelta(seconds=899, microseconds=993), T + timedelta(seconds=3599, microseconds=7)),
        (T + timedelta(microseconds=7), T + timedelta(microseconds=7)),  # one instant, inclusive
        (T - timedelta(days=2), T + timedelta(days=2, seconds=13)),
        (T + timedelta(seconds=1), T + timedelta(seconds=2)),  # inside one quarter
    ]
    with make_uow() as uow:
        got = uow.orders.sales([TimeRange(a, None if b is None else b + US) for a, b in cuts])
    assert got == [shop.expected(a, None if b is None else b + US) for a, b in cuts]
    for (a, b), stats in zip(cuts, got, strict=True):
        if (a, b) != (None, None):
            assert shop.report(SalesQuery(a, b)).totals == stats
    assert got[0].total_orders == len(offsets) and got[5].total_orders == 1


def local_days(first: date, last: date, tz: ZoneInfo) -> list[datetime]:
    days = [first + timedelta(days=n) for n in range((last - first).days + 2)]
    return [datetime.combine(d, time(0), tzinfo=tz) for d in days]


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        ("Europe/Berlin", date(2026, 3, 28)),
        ("Europe/Berlin", date(2026, 10, 24)),
        ("Asia/Kolkata", date(2026, 3, 28)),
    ],
)
def test_days_start_at_local_midnight_across_dst(make_uow: MakeUow, zone: str, first: date) -> None:
    tz = ZoneInfo(zone)
    edges = local_days(first, first + timedelta(days=2), tz)
    # Orders just before and after each local midnight, and in the middle of each day.
    moments = [m.astimezone(UTC) + timedelta(seconds=s) for m in edges[:-1] for s in (-1, 0, 1, 43200)]
    shop = mixed_shop(make_uow, moments)
    created_from = edges[0].astimezone(UTC) + timedelta(seconds=1)  # a partial first day
    created_to = edges[-2].astimezone(UTC) + timedelta(hours=5)
    report = shop.report(SalesQuery(created_from, created_to, Grouping.DAY, zone))
    assert [p.start for p in report.periods] == edges[:-1]
    assert [p.start.utcoffset() for p in report.periods] == [e.utcoffset() for e in edges[:-1]]
    for period, start, end in zip(report.periods, edges, edges[1:], strict=False):
        lo = max(start.astimezone(UTC), created_from)
        hi = min(end.astimezone(UTC), created_to + US)
        assert period.stats == shop.expected(lo, hi), period.start
    assert report.totals == shop.expected(created_from, created_to + US)
    if zone == "Europe/Berlin":  # the DST day is 23 hours long in March, 25 in October
        lengths = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(edges, edges[1:], strict=False)}
        assert lengths == {timedelta(hours=24), timedelta(hours=23 if first.month == 3 else 25)}


def test_weeks_and_months_zero_filled(make_uow: MakeUow) -> None:
    tz = ZoneInfo("Asia/Kolkata")
    moments = [datetime(2026, 1, 31, 18, 29), datetime(2026, 1, 31, 18, 30), datetime(2026, 4, 2)]
    shop = mixed_shop(make_uow, [m.replace(tzinfo=UTC) for m in moments])
    months = shop.report(
        SalesQuery(
            datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC), Grouping.MONTH, tz.key
        )
    )
    starts = [datetime(2026, m, 1, tzinfo=tz) for m in (1, 2, 3, 4)]
    assert [p.start for p in months.periods] == starts
    assert [p.stats.total_orders for p in months.periods] == [1, 1, 0, 1]
    assert months.periods[2].stats == OrderStats(0, Decimal("0.00"), {s: 0 for s in OrderStatus})
    weeks = shop.report(
        SalesQuery(
            datetime(2026, 1, 28, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC), Grouping.WEEK, tz.key
        )
    )
    assert [p.start for p in weeks.periods] == [
        datetime(2026, 1, 26, tzinfo=tz) + timedelta(weeks=n) for n in range(3)
    ]
    assert [p.start.weekday() for p in weeks.periods] == [0, 0, 0]
    assert [p.stats.total_orders for p in weeks.periods] == [2, 0, 0]


def test_customer_totals_follow_every_change(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    with make_uow() as uow:
        none = customer_stats(shop.ann.id, uow=uow, actor=shop.ann)
    assert (none.orders, none.total_spent, none.average_order_value) == (0, Decimal("0.00"), Decimal("0.00"))
    assert (none.first_order_at, none.last_order_at) == (None, None)
    assert none.orders_by_status == {s: 0 for s in OrderStatus}
    shop.order(shop.ann, T, quantity=1)
    shop.order(shop.ann, T - timedelta(days=3), quantity=2, status=OrderStatus.DELIVERED)
    shop.order(shop.ann, T + timedelta(days=1), quantity=40, status=OrderStatus.CANCELLED)
    shop.order(shop.bob, T + timedelta(days=9), quantity=3)
    with make_uow() as uow:
        stats = customer_stats(shop.ann.id, uow=uow, actor=shop.admin)
    paid = [
        p.total for p in shop.placed if p.user_id == shop.ann.id and p.status is not OrderStatus.CANCELLED
    ]
    assert stats.orders == 3 and stats.total_spent == sum(paid) == Decimal("7.50")
    assert stats.average_order_value == Decimal("3.75")
    assert stats.orders_by_status == {
        s: {"pending": 1, "delivered": 1, "cancelled": 1}.get(s.value, 0) for s in OrderStatus
    }
    assert (stats.first_order_at, stats.last_order_at) == (T - timedelta(days=3), T + timedelta(days=1))


def test_top_spenders_all_time_and_by_period(make_uow: MakeUow) -> None:
    shop = Shop(make_uow)
    carl = add_user(make_uow, "carl@shop.test")
    dora = add_user(make_uow, "dora@shop.test")
    shop.order(shop.ann, T - timedelta(days=5), quantity=4)
    shop.order(shop.bob, T + timedelta(hours=1), quantity=2)
    shop.order(shop.bob, T + timedelta(days=1, hours=2), quantity=2, status=OrderStatus.SHIPPED)
    shop.order(carl, T + timedelta(seconds=30), quantity=100, status=OrderStatus.CANCELLED)
    shop.order(dora, T + timedelta(days=2, minutes=7), quantity=4)  # ties with ann all time
    with make_uow() as uow:
        everyone = top_spenders(10, uow=uow, actor=shop.admin, clock=CLOCK)
    assert [(s.user_id, s.orders, s.revenue) for s in everyone] == [
        (shop.ann.id, 1, Decimal("10.00")),
        (shop.bob.id, 2, Decimal("10.00")),
        (dora.id, 1, Decimal("10.00")),
    ]
    assert (everyone[0].email, everyone[0].name) == ("ann@shop.test", "Ann")
    with make_uow() as uow:
        assert [s.user_id for s in top_spenders(2, uow=uow, actor=shop.admin, clock=CLOCK)] == [
            shop.ann.id,
            shop.bob.id,
        ]
        # From partway through a day to partway through another: whole days kept, edges from the orders.
        period = top_spenders(
            10,
            T + timedelta(minutes=1),
            T + timedelta(days=2, minutes=7),
            uow=uow,
            actor=shop.admin,
            clock=CLOCK,
        )
        later = top_spenders(
            10, T + timedelta(hours=1, microseconds=1), None, uow=uow, actor=shop.admin, clock=CLOCK
        )
        early = top_spenders(10, None, T, uow=uow, actor=shop.admin, clock=CLOCK)
    assert [(s.user_id, s.orders, s.revenue) for s in period] == [
        (shop.bob.id, 2, Decimal("10.00")),
        (dora.id, 1, Decimal("10.00")),
    ]
    assert [(s.user_id, s.orders, s.revenue) for s in later] == [
        (dora.id, 1, Decimal("10.00")),
        (shop.bob.id, 1, Decimal("5.00")),
    ]
    assert [s.user_id for s in early] == [shop.ann.id]


def test_the_last_days_rank_the_same_as_their_range_as_the_window_moves(make_uow: MakeUow) -> None:
    """`days=30` is the range from the midnight 29 days before today's; SQL ranks it from the recent columns
    it keeps (a window the housekeeping moves on each day), the fake from its orders: the same answer, as
    days go by and orders from inside and outside the window are cancelled."""
    shop = Shop(make_uow)
    carl = add_user(make_uow, "carl@shop.test")
    today = datetime.combine(datetime.now(UTC).date() + timedelta(days=2), time(0), tzinfo=UTC)
    buyers = [shop.ann, shop.bob, carl]
    placed = [
        shop.order(buyers[i % 3], today - timedelta(days=age, seconds=i), quantity=1 + (i * 7) % 5)
        for i, age in enumerate([40, 31, 30, 29, 29, 28, 15, 1, 0, 0])
    ]

    def ranked(clock: FixedClock, created_from: datetime | None = None, days: int | None = None):
        with make_uow() as uow:
            uow.orders.roll_recent_window(clock.now())
            uow.commit()
        with make_uow() as uow:
            spenders = top_spenders(10, created_from, None, days, uow=uow, actor=shop.admin, clock=clock)
        return [(s.user_id, s.orders, s.revenue) for s in spenders]

    def expected(start: datetime) -> list[tuple[int, int, Decimal]]:
        spent: dict[int, tuple[int, Decimal]] = {}
        for p in shop.placed:
            if p.at >= start and p.status is not OrderStatus.CANCELLED:
                count, revenue = spent.get(p.user_id, (0, Decimal("0.00")))
                spent[p.user_id] = (count + 1, revenue + p.total)
        return sorted(((u, n, r) for u, (n, r) in spent.items()), key=lambda s: (-s[2], s[0]))

    for shift, cancelled in [(0, None), (1, placed[3]), (1, placed[0]), (2, placed[6])]:
        if cancelled is not None:
            cancel(make_uow, shop, cancelled)
        clock = FixedClock(today + timedelta(days=shift, hours=5))
        start = today + timedelta(days=shift - 29)
        assert ranked(clock, days=30) == ranked(clock, created_from=start) == expected(start)
        assert ranked(clock, days=1) == expected(today + timedelta(days=shift))
    assert len(expected(today - timedelta(days=28))) == 3  # every customer is ranked at some point


def cancel(make_uow: MakeUow, shop: Shop, order: Order) -> None:
    with make_uow() as uow:
        loaded = uow.orders.get(order.id)
        loaded.cancel(uow.products.get_many([shop.product.id]), by=shop.admin, at=loaded.created_at)
        uow.orders.save(loaded)
        uow.commit()
    placed = next(p for p in shop.placed if p.at == order.created_at)
    placed.status = OrderStatus.CANCELLED
