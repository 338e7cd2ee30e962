"""The sales reports' statements, over the totals kept by migration 0007's triggers.

A half-open range of time is cut into the kept buckets it covers whole, coarsest first (UTC days, then
hours, then quarters of an hour), and the parts at its edges no bucket covers whole (less than 15 minutes
each), which are counted from `orders` on its `created_at` index. Every range of a report is one row of a
VALUES list joined against the kept buckets, so a report is one statement whatever its number of periods."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Select,
    case,
    cast,
    column,
    false,
    func,
    literal,
    select,
    text,
    union_all,
    update,
    values,
)

from adapters.sql.mapping import utc
from adapters.sql.tables import order_sales, orders, sales_window, user_day_sales, user_sales, users
from application.ports import CustomerTotals, OrderStats, Spender, TimeRange
from domain.money import money
from domain.orders import OrderStatus

QUARTER, HOUR, DAY = 900, 3600, 86400
SPANS = (QUARTER, HOUR, DAY)  # the kept buckets, finest first (migration 0007)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
# Open ends: the first and the last day a timestamp can name (day-aligned).
_LOWEST = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).days * DAY * _US
_HIGHEST = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH).days * DAY * _US

# An order's revenue net of refunds, in cents (domain.payments `MoneyTotals.net_revenue`, as migration 0017's
# triggers keep it): refunds first return what was captured above the total, the rest lowers the revenue.
_TOTAL_CENTS = cast(func.round(orders.c.total_amount * 100), BigInteger)
_OVERPAID = case((orders.c.captured_cents > _TOTAL_CENTS, orders.c.captured_cents - _TOTAL_CENTS), else_=0)
_REFUNDED = case((orders.c.refunded_cents > _OVERPAID, orders.c.refunded_cents - _OVERPAID), else_=0)
_CENTS = _TOTAL_CENTS - _REFUNDED
_NOT_CANCELLED = orders.c.status != OrderStatus.CANCELLED.value
_REVENUE = ("revenue_cents", "refunded_revenue_cents")  # net, and the refunds of the orders' value
# An edge's figures, by name: its orders per status and their revenue.
_ORDER_FIGURES = {
    **{s.value: func.sum(case((orders.c.status == s.value, 1), else_=0)) for s in OrderStatus},
    "revenue_cents": func.sum(case((_NOT_CANCELLED, _CENTS), else_=0)),
    "refunded_revenue_cents": func.sum(case((_NOT_CANCELLED, _REFUNDED), else_=0)),
}

Part = tuple[int, int, int]  # (span, first bucket start, end) in seconds since the epoch
Edge = tuple[datetime, datetime]


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * DAY + delta.seconds) * _US + delta.microseconds


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _ceil(value: int, step: int) -> int:
    return -(-value // step) * step


def _cover(start: int, end: int, spans: Sequence[int]) -> list[Part]:
    """[start, end), aligned to spans[0], as whole buckets: the coarsest that fit, finer ones at the sides."""
    finest, coarser = spans[0], spans[1:]
    if coarser:
        inner_start, inner_end = _ceil(start, coarser[0]), end // coarser[0] * coarser[0]
        if inner_start < inner_end:
            sides = [(finest, a, b) for a, b in ((start, inner_start), (inner_end, end)) if a < b]
            return sides + _cover(inner_start, inner_end, coarser)
    return [(finest, start, end)]


def split(period: TimeRange, spans: Sequence[int] = SPANS) -> tuple[list[Part], list[Edge]]:
    """The kept buckets that cover `period` whole, and the edges left to count from the orders."""
    lo = _LOWEST if period.start is None else _micros(period.start)
    hi = _HIGHEST if period.end is None else _micros(period.end)
    step = spans[0] * _US
    start, end = _ceil(lo, step), hi // step * step
    if start >= end:
        return [], [(_moment(lo), _moment(hi))] if lo < hi else []
    edges = [(_moment(a), _moment(b)) for a, b in ((lo, start), (end, hi)) if a < b]
    return _cover(start // _US, end // _US, spans), edges


def _parts_table(rows: list[tuple[int, int, int, int]]) -> Any:
    """The kept buckets of every range, as a VALUES list of integers written into the statement: SQLAlchemy
    compiles a `values()` of bound parameters at ~0.2 ms a row (~80 ms for a year by day, more than the
    query), and these are integers computed here, never text from a request."""
    listed = ", ".join(f"({int(p)}, {int(span)}, {int(lo)}, {int(hi)})" for p, span, lo, hi in rows)
    return (
        text(
            f"SELECT column1 AS p, column2 AS span, column3 AS lo, column4 AS hi FROM (VALUES {listed}) AS v"
        )
        .columns(
            column("p", Integer), column("span", Integer), column("lo", BigInteger), column("hi", BigInteger)
        )
        .cte("parts")
    )


def _edges_table(rows: list[tuple[int, datetime, datetime]]) -> Any:
    return (
        values(
            column("p", Integer),
            column("lo", DateTime(timezone=True)),
            column("hi", DateTime(timezone=True)),
            name="edges",
        )
        .data(rows)
        .cte("edges")
    )


def sales_statement(ranges: Sequence[TimeRange]) -> Select[Any]:
    """Per range (`p`, its index): orders by status and revenue in cents."""
    kept_rows: list[tuple[int, int, int, int]] = []
    edge_rows: list[tuple[int, datetime, datetime]] = []
    for p, period in enumerate(ranges):
        parts, edges = split(period)
        kept_rows += [(p, span, lo, hi) for span, lo, hi in parts]
        edge_rows += [(p, lo, hi) for lo, hi in edges]
    selects: list[Select[Any]] = []
    if kept_rows:
        parts = _parts_table(kept_rows)

        def kept(name: str) -> Any:
            """One range of one span's buckets on pk_order_sales, per part: a join on the range would be
            planned as a hash join on the span, comparing every part with every bucket of its span."""
            return (
                select(func.coalesce(func.sum(order_sales.c[name]), 0))
                .where(
                    order_sales.c.span == parts.c.span,
                    order_sales.c.start >= parts.c.lo,
                    order_sales.c.start < parts.c.hi,
                )
                .scalar_subquery()
                .label(name)
            )

        selects.append(select(parts.c.p, *[kept(s.value) for s in OrderStatus], *map(kept, _REVENUE)))
    if edge_rows:
        edges = _edges_table(edge_rows)

        def counted(name: str) -> Any:
            """One edge's orders on ix_orders_created_id, per edge: a join on the range was planned as a
            scan of every order (seen at 10,000,000 orders)."""
            return (
                select(func.coalesce(_ORDER_FIGURES[name], 0))
                .where(orders.c.created_at >= edges.c.lo, orders.c.created_at < edges.c.hi)
                .scalar_subquery()
                .label(name)
            )

        selects.append(select(edges.c.p, *[counted(name) for name in _ORDER_FIGURES]))
    if not selects:  # an empty range (before the first timestamp there is): no row, zeros
        zero = [literal(0).label(name) for name in ["p", *(s.value for s in OrderStatus), *_REVENUE]]
        selects.append(cast_select(select(*zero).where(false())))
    both = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("both")
    return select(
        both.c.p,
        *[func.sum(both.c[s.value]).label(s.value) for s in OrderStatus],
        *[func.sum(both.c[name]).label(name) for name in _REVENUE],
    ).group_by(both.c.p)


def _money(cents: int) -> Decimal:
    return money(Decimal(cents) / 100)


def cast_select(statement: Any) -> Select[Any]:
    """A select of constants, typed as the others (mypy reads its columns' literal types)."""
    return statement  # type: ignore[no-any-return]  # a Select of any row shape


def sales_from_rows(count: int, rows: Sequence[Any]) -> list[OrderStats]:
    found = {row.p: row for row in rows}
    answer = []
    for p in range(count):
        row = found.get(p)
        by_status = {s: int(row._mapping[s.value]) if row is not None else 0 for s in OrderStatus}
        cents, refunded = (
            (int(row.revenue_cents), int(row.refunded_revenue_cents)) if row is not None else (0, 0)
        )
        answer.append(OrderStats(sum(by_status.values()), _money(cents), by_status, _money(refunded)))
    return answer


_PAID = sum((user_sales.c[s.value] for s in OrderStatus if s is not OrderStatus.CANCELLED), literal(0))


def customer_totals_statement(user_id: int) -> Select[Any]:
    return select(user_sales).where(user_sales.c.user_id == user_id)


def customer_totals_from_row(row: Any | None) -> CustomerTotals:
    if row is None:
        return CustomerTotals({s: 0 for s in OrderStatus}, money(0), None, None)
    return CustomerTotals(
        {s: int(row._mapping[s.value]) for s in OrderStatus},
        money(Decimal(int(row.revenue_cents)) / 100),
        None if row.first_order_at is None else utc(row.first_order_at),
        None if row.last_order_at is None else utc(row.last_order_at),
    )


def top_spenders_statement(limit: int, period: TimeRange) -> Select[Any]:
    """All time: the kept per-customer totals in revenue order (ix_user_sales_revenue_user). A period: the
    kept per-customer days it covers whole, and its edges (less than a day each) from the orders."""
    if period.start is None and period.end is None:
        ranked = (
            select(
                user_sales.c.user_id,
                _PAID.label("orders"),
                user_sales.c.revenue_cents,
            )
            .where(_PAID > 0)
            .order_by(user_sales.c.revenue_cents.desc(), user_sales.c.user_id)
            .limit(limit)
            .subquery("ranked")
        )
    else:
        parts, edges = split(period, (DAY,))
        pieces: list[Select[Any]] = [
            select(
                user_day_sales.c.user_id,
                user_day_sales.c.orders,
                user_day_sales.c.revenue_cents,
            ).where(user_day_sales.c.day >= lo, user_day_sales.c.day < hi)
            for _, lo, hi in parts
        ]
        pieces += [
            select(
                orders.c.user_id,
                literal(1, Integer).label("orders"),
                _CENTS.label("revenue_cents"),
            ).where(_NOT_CANCELLED, orders.c.created_at >= lo, orders.c.created_at < hi)
            for lo, hi in edges
        ]
        if not pieces:  # an empty range: nobody
            none: Select[Any] = select(
                orders.c.user_id, literal(0).label("orders"), _CENTS.label("revenue_cents")
            )
            pieces.append(none.where(false()))
        every = union_all(*pieces).subquery("every") if len(pieces) > 1 else pieces[0].subquery("every")
        revenue = func.sum(every.c.revenue_cents)
        ranked = (
            select(every.c.user_id, func.sum(every.c.orders).label("orders"), revenue.label("revenue_cents"))
            .group_by(every.c.user_id)
            .having(func.sum(every.c.orders) > 0)
            .order_by(revenue.desc(), every.c.user_id)
            .limit(limit)
            .subquery("ranked")
        )
    return _named(ranked)


def _named(ranked: Any) -> Select[Any]:
    return (
        select(users.c.id, users.c.email, users.c.name, ranked.c.orders, ranked.c.revenue_cents)
        .join_from(ranked, users, users.c.id == ranked.c.user_id)
        .order_by(ranked.c.revenue_cents.desc(), ranked.c.user_id)
    )


# --- the recent window (migration 0010): user_sales' recent columns hold the days from first_day on ------

WINDOW = select(sales_window.c.first_day, sales_window.c.days)


def window_start(row: Any) -> datetime:
    return _moment(int(row.first_day) * _US)


def holds_recent_window(period: TimeRange, first_day: datetime) -> bool:
    """Whether `period` is exactly what the kept recent columns count: from the window's first day on."""
    return period.end is None and period.start == first_day


def recent_spenders_statement(limit: int) -> Select[Any]:
    """The first entries of ix_user_sales_recent_revenue_user: as flat at a million customers as at ten."""
    ranked = (
        select(
            user_sales.c.user_id,
            user_sales.c.recent_orders.label("orders"),
            user_sales.c.recent_revenue_cents.label("revenue_cents"),
        )
        .where(user_sales.c.recent_orders > 0)
        .order_by(user_sales.c.recent_revenue_cents.desc(), user_sales.c.user_id)
        .limit(limit)
        .subquery("ranked")
    )
    return _named(ranked)


def window_target(now: datetime, days: int) -> int:
    """The first day (seconds since the epoch) of the `days` UTC days that end with today."""
    return (_micros(now) // _US // DAY - (days - 1)) * DAY


def roll_window_statements(first_day: int, target: int) -> list[Any]:
    """Let the days [first_day, target) go from the recent columns, then start the window at `target`.
    Their per-customer days come from user_day_sales, as the triggers left them."""
    gone = (
        select(
            user_day_sales.c.user_id,
            func.sum(user_day_sales.c.orders).label("orders"),
            func.sum(user_day_sales.c.revenue_cents).label("revenue_cents"),
        )
        .where(user_day_sales.c.day >= first_day, user_day_sales.c.day < target)
        .group_by(user_day_sales.c.user_id)
        .subquery("gone")
    )
    return [
        update(user_sales)
        .values(
            recent_orders=user_sales.c.recent_orders - gone.c.orders,
            recent_revenue_cents=user_sales.c.recent_revenue_cents - gone.c.revenue_cents,
        )
        .where(user_sales.c.user_id == gone.c.user_id),
        update(sales_window).values(first_day=target),
    ]


def spenders_from_rows(rows: Sequence[Any]) -> list[Spender]:
    return [
        Spender(r.id, r.email, r.name, int(r.orders), money(Decimal(int(r.revenue_cents)) / 100))
        for r in rows
    ]
