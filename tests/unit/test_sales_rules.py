"""The report periods' rules (domain/periods.py) and the sales use cases (application/sales.py) over the
fakes: exact boundaries, limits and messages."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from application.errors import Forbidden, NotFound
from application.ports import CustomerTotals, OrderStats, TimeRange
from application.sales import (
    DEFAULT_SPENDERS,
    MAX_SPENDERS,
    SalesQuery,
    customer_stats,
    inclusive,
    of_totals,
    sales_report,
    sum_stats,
    top_spenders,
)
from domain.orders import OrderStatus
from domain.periods import (
    MAX_LAST_DAYS,
    MAX_PERIODS,
    ONE_MICROSECOND,
    Grouping,
    InvalidPeriod,
    check_range,
    last_days,
    periods,
    zone,
)
from domain.users import User
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryUnitOfWork

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
T = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def test_limits() -> None:
    assert (MAX_PERIODS, MAX_SPENDERS, DEFAULT_SPENDERS) == (1000, 100, 10)
    assert timedelta(microseconds=1) == ONE_MICROSECOND


def test_zone_names_the_unknown() -> None:
    assert zone("Asia/Kolkata") == ZoneInfo("Asia/Kolkata")
    for name in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(InvalidPeriod) as refused:
            zone(name)
        assert str(refused.value) == f"unknown time zone '{name}': use an IANA name such as 'Europe/Berlin'"


def test_range_may_be_one_instant_not_backwards() -> None:
    check_range(T, T)
    check_range(None, T)
    check_range(T, None)
    with pytest.raises(InvalidPeriod) as refused:
        check_range(T + ONE_MICROSECOND, T)
    assert str(refused.value) == (
        "created_from (2026-03-28T12:00:00.000001+00:00) is after created_to (2026-03-28T12:00:00+00:00)"
    )
    with pytest.raises(InvalidPeriod):
        periods(T + ONE_MICROSECOND, T, Grouping.DAY, UTC_ZONE)


def test_days_are_clipped_to_the_range_and_dst_days_are_23_and_25_hours() -> None:
    found = periods(T, datetime(2026, 3, 30, 5, 0, tzinfo=UTC), Grouping.DAY, BERLIN)
    assert [p.label for p in found] == [datetime(2026, 3, d, tzinfo=BERLIN) for d in (28, 29, 30)]
    assert [(p.start, p.end) for p in found] == [
        (T, datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), datetime(2026, 3, 30, 5, 0, 0, 1, tzinfo=UTC)),
    ]
    autumn = periods(
        datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC), Grouping.DAY, BERLIN
    )
    assert [p.end - p.start for p in autumn][1] == ONE_MICROSECOND
    assert autumn[0].end - datetime(2026, 10, 24, 22, tzinfo=UTC) == timedelta(hours=25)


def test_a_boundary_belongs_to_the_period_it_starts() -> None:
    midnight = datetime(2026, 3, 29, tzinfo=UTC)
    just_before = periods(T, midnight - ONE_MICROSECOND, Grouping.DAY, UTC_ZONE)
    at = periods(T, midnight, Grouping.DAY, UTC_ZONE)
    assert len(just_before) == 1 and just_before[0].end == midnight
    assert len(at) == 2 and (at[1].start, at[1].end) == (midnight, midnight + ONE_MICROSECOND)


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    weeks = periods(
        datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC), Grouping.WEEK, UTC_ZONE
    )
    assert [p.label.date().isoformat() for p in weeks] == ["2026-02-23", "2026-03-02", "2026-03-09"]
    assert weeks[0].start == datetime(2026, 3, 1, 12, tzinfo=UTC)
    months = periods(
        datetime(2025, 11, 30, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), Grouping.MONTH, UTC_ZONE
    )
    assert [p.label.date().isoformat() for p in months] == [
        "2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01"
    ]  # fmt: skip
    assert months[2].end - months[2].start == timedelta(days=31)
    assert months[3].end - months[3].start == timedelta(days=28)
    # The 31st of a month moves to the 1st of the next, not past it.
    jan = periods(
        datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC), Grouping.MONTH, UTC_ZONE
    )
    assert [p.label.month for p in jan] == [1, 2]


def test_at_most_max_periods() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    last = start + timedelta(days=MAX_PERIODS - 1)
    assert len(periods(start, last, Grouping.DAY, UTC_ZONE)) == MAX_PERIODS
    with pytest.raises(InvalidPeriod) as refused:
        periods(start, last + timedelta(days=1), Grouping.DAY, UTC_ZONE)
    assert str(refused.value) == (
        "the range holds more than 1000 periods of a day: narrow it or group by a longer period"
    )


def test_inclusive_ends_become_half_open() -> None:
    assert inclusive(T, T) == TimeRange(T, T + ONE_MICROSECOND)
    assert inclusive(None, None) == TimeRange(None, None)


def _stats(orders: int, revenue: str, **by: int) -> OrderStats:
    return OrderStats(orders, Decimal(revenue), {s: by.get(s.value, 0) for s in OrderStatus})


def test_sum_of_periods() -> None:
    total = sum_stats([_stats(2, "1.25", pending=2), _stats(3, "2.50", pending=1, cancelled=2)])
    assert total == _stats(5, "3.75", pending=3, cancelled=2)
    assert sum_stats([]) == _stats(0, "0.00")


def test_average_order_value_excludes_cancelled_and_rounds() -> None:
    by = {s: 0 for s in OrderStatus} | {
        OrderStatus.PENDING: 2,
        OrderStatus.DELIVERED: 1,
        OrderStatus.CANCELLED: 4,
    }
    stats = of_totals(CustomerTotals(by, Decimal("10.00"), T, T))
    assert (stats.orders, stats.total_spent, stats.average_order_value) == (
        7,
        Decimal("10.00"),
        Decimal("3.33"),
    )
    assert str(of_totals(CustomerTotals(by, Decimal("10.01"), T, T)).average_order_value) == "3.34"
    only_cancelled = {s: 0 for s in OrderStatus} | {OrderStatus.CANCELLED: 1}
    none = of_totals(CustomerTotals(only_cancelled, Decimal("0"), T, T))
    assert (none.orders, str(none.average_order_value), str(none.total_spent)) == (1, "0.00", "0.00")


STAMPS = {"password_hash": "h", "created_at": T, "updated_at": T}
ADMIN = User(id=1, email="a@shop.test", name="A", is_admin=True, **STAMPS)
ANN = User(id=2, email="ann@shop.test", name="Ann", **STAMPS)


def test_reports_are_for_admins_and_self() -> None:
    uow = InMemoryUnitOfWork()
    with pytest.raises(Forbidden, match="see order statistics"):
        sales_report(SalesQuery(), uow=uow, actor=ANN, clock=FixedClock())
    with pytest.raises(Forbidden, match="see the top spenders"):
        top_spenders(10, uow=uow, actor=ANN, clock=FixedClock())
    with pytest.raises(NotFound, match="user 1 was not found"):
        customer_stats(1, uow=uow, actor=ANN)
    with pytest.raises(NotFound, match="user 9 was not found"):
        customer_stats(9, uow=uow, actor=ADMIN)
    with pytest.raises(InvalidPeriod, match="is after created_to"):
        top_spenders(10, T, T - ONE_MICROSECOND, uow=uow, actor=ADMIN, clock=FixedClock())


def test_grouping_needs_a_start_and_ends_now() -> None:
    uow, clock = InMemoryUnitOfWork(), FixedClock(T + timedelta(days=1, hours=1))
    with pytest.raises(InvalidPeriod) as refused:
        sales_report(SalesQuery(group_by=Grouping.DAY), uow=uow, actor=ADMIN, clock=clock)
    assert str(refused.value) == "group_by needs created_from: the first period is the one holding it"
    report = sales_report(SalesQuery(T, None, Grouping.DAY), uow=uow, actor=ADMIN, clock=clock)
    assert [p.start for p in report.periods] == [datetime(2026, 3, d, tzinfo=UTC_ZONE) for d in (28, 29)]
    assert report.totals == _stats(0, "0.00")
    with pytest.raises(InvalidPeriod, match="unknown time zone 'Nowhere'"):
        sales_report(SalesQuery(tz="Nowhere"), uow=uow, actor=ADMIN, clock=clock)
    assert sales_report(SalesQuery(tz="Asia/Kolkata"), uow=uow, actor=ADMIN, clock=clock).periods is None
    assert SalesQuery().is_all_time and not SalesQuery(group_by=Grouping.DAY).is_all_time
    assert not SalesQuery(T).is_all_time and not SalesQuery(None, T).is_all_time


def test_the_last_instant_is_an_open_end() -> None:
    last = datetime.max.replace(tzinfo=UTC)
    assert inclusive(T, last) == TimeRange(T, None)
    assert inclusive(T, last - ONE_MICROSECOND) == TimeRange(T, last)
    with pytest.raises(InvalidPeriod) as refused:
        periods(last - timedelta(days=1), last, Grouping.MONTH, ZoneInfo("America/New_York"))
    assert (
        str(refused.value) == "the periods reach beyond the years 1 to 9999 in time zone 'America/New_York'"
    )


def test_the_last_days_start_at_a_utc_midnight_and_count_today() -> None:
    evening_in_tokyo = datetime(2026, 3, 28, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Tokyo"))  # 14:59 UTC
    assert last_days(1, evening_in_tokyo) == datetime(2026, 3, 28, tzinfo=UTC)
    assert last_days(30, evening_in_tokyo) == datetime(2026, 2, 27, tzinfo=UTC)
    assert last_days(MAX_LAST_DAYS, T) == datetime(2025, 3, 28, tzinfo=UTC)
    for wrong in (0, -1, MAX_LAST_DAYS + 1):
        with pytest.raises(InvalidPeriod, match=f"days must be from 1 to 366, not {wrong}"):
            last_days(wrong, T)


def test_the_last_days_are_a_period_of_their_own() -> None:
    uow, clock = InMemoryUnitOfWork(), FixedClock(T)
    for created_from, created_to in [(T, None), (None, T), (T, T)]:
        with pytest.raises(InvalidPeriod, match="give it or created_from/created_to, not both"):
            top_spenders(10, created_from, created_to, 30, uow=uow, actor=ADMIN, clock=clock)
    with pytest.raises(Forbidden, match="see the top spenders"):
        top_spenders(10, None, None, 30, uow=uow, actor=ANN, clock=clock)
    assert top_spenders(10, None, None, 30, uow=uow, actor=ADMIN, clock=clock) == []
