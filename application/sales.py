"""Sales reports: the order statistics of a period (optionally by day, week or month in a time zone), a
customer's statistics and the top spenders. Served from totals the storage keeps as orders change."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from application.access import require_admin, require_self_or_admin
from application.errors import NotFound
from application.ports import Clock, CustomerTotals, OrderStats, Spender, TimeRange, UnitOfWork
from domain.money import money
from domain.orders import OrderStatus
from domain.periods import ONE_MICROSECOND, Grouping, InvalidPeriod, check_range, last_days, periods, zone
from domain.users import User

MAX_SPENDERS = 100
DEFAULT_SPENDERS = 10


@dataclass(frozen=True, slots=True)
class SalesQuery:
    """`created_from` / `created_to`: inclusive, aware. With `group_by`, `created_from` is required and
    `created_to` defaults to now."""

    created_from: datetime | None = None
    created_to: datetime | None = None
    group_by: Grouping | None = None
    tz: str = "UTC"

    @property
    def is_all_time(self) -> bool:
        return self.created_from is None and self.created_to is None and self.group_by is None


@dataclass(frozen=True, slots=True)
class SalesPeriod:
    start: datetime  # local, in the report's zone
    stats: OrderStats


@dataclass(frozen=True, slots=True)
class SalesReport:
    totals: OrderStats
    periods: list[SalesPeriod] | None = None


@dataclass(frozen=True, slots=True)
class CustomerStats:
    orders: int
    orders_by_status: dict[OrderStatus, int]
    total_spent: Decimal
    average_order_value: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None


def inclusive(created_from: datetime | None, created_to: datetime | None) -> TimeRange:
    """The lists' inclusive [created_from, created_to] as a half-open range (timestamps are microseconds)."""
    if created_to is None:
        return TimeRange(created_from, None)
    try:
        return TimeRange(created_from, created_to + ONE_MICROSECOND)
    except OverflowError:  # the last instant there is: nothing lies after it
        return TimeRange(created_from, None)


def sales_report(query: SalesQuery, *, uow: UnitOfWork, actor: User, clock: Clock) -> SalesReport:
    require_admin(actor, "see order statistics")
    tz = zone(query.tz)
    check_range(query.created_from, query.created_to)
    if query.is_all_time:
        with uow:
            return SalesReport(uow.orders.stats())
    if query.group_by is None:
        with uow:
            return SalesReport(uow.orders.sales([inclusive(query.created_from, query.created_to)])[0])
    if query.created_from is None:
        raise InvalidPeriod("group_by needs created_from: the first period is the one holding it")
    cut = periods(query.created_from, query.created_to or clock.now(), query.group_by, tz)
    with uow:
        stats = uow.orders.sales([TimeRange(p.start, p.end) for p in cut])
    return SalesReport(sum_stats(stats), [SalesPeriod(p.label, s) for p, s in zip(cut, stats, strict=True)])


def sum_stats(parts: list[OrderStats]) -> OrderStats:
    by_status = {s: sum(p.orders_by_status[s] for p in parts) for s in OrderStatus}
    revenue = money(sum((p.total_revenue for p in parts), Decimal(0)))
    refunded = money(sum((p.refunded_revenue for p in parts), Decimal(0)))
    return OrderStats(sum(p.total_orders for p in parts), revenue, by_status, refunded)


def customer_stats(user_id: int, *, uow: UnitOfWork, actor: User) -> CustomerStats:
    """Self or admin; another customer's statistics are reported as missing, as the account is."""
    require_self_or_admin(actor, user_id, "user", user_id)
    with uow:
        if uow.users.get(user_id) is None:
            raise NotFound("user", user_id)
        totals = uow.orders.customer_totals(user_id)
    return of_totals(totals)


def of_totals(totals: CustomerTotals) -> CustomerStats:
    """The average order value is the revenue over the non-cancelled orders, 0.00 when there is none."""
    paid = sum(n for s, n in totals.orders_by_status.items() if s is not OrderStatus.CANCELLED)
    average = money(totals.revenue / paid) if paid else money(Decimal(0))
    return CustomerStats(
        orders=sum(totals.orders_by_status.values()),
        orders_by_status=dict(totals.orders_by_status),
        total_spent=money(totals.revenue),
        average_order_value=average,
        first_order_at=totals.first_order_at,
        last_order_at=totals.last_order_at,
    )


def top_spenders(
    limit: int,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    days: int | None = None,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
) -> list[Spender]:
    """Over [created_from, created_to], or the last `days` UTC days (today included), or all time."""
    require_admin(actor, "see the top spenders")
    check_range(created_from, created_to)
    period = inclusive(created_from, created_to)
    if days is not None:
        if created_from is not None or created_to is not None:
            raise InvalidPeriod("days is a period of its own: give it or created_from/created_to, not both")
        period = TimeRange(last_days(days, clock.now()), None)
    with uow:
        return uow.orders.top_spenders(limit, period)


def roll_recent_window(*, uow: UnitOfWork, clock: Clock) -> None:
    """Housekeeping: the kept last days' totals move on to end today."""
    with uow:
        uow.orders.roll_recent_window(clock.now())
        uow.commit()
