"""Report periods: a time range cut into local days, weeks (from Monday) or months (from the 1st) of an IANA
zone. Boundaries are local midnights converted to UTC, so a local day lasts 23 or 25 hours across a DST
change. Standard library only (zoneinfo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import DomainError

MAX_PERIODS = 1000
MAX_LAST_DAYS = 366
ONE_MICROSECOND = timedelta(microseconds=1)


class Grouping(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class InvalidPeriod(DomainError):
    """A report's range, grouping or zone that cannot be answered (a 422)."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; InvalidPeriod naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidPeriod(f"unknown time zone '{name}': use an IANA name such as 'Europe/Berlin'") from None


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC, clipped to the report's range; `label` is its local start (in the zone)."""

    label: datetime
    start: datetime
    end: datetime


def check_range(created_from: datetime | None, created_to: datetime | None) -> None:
    if created_from is not None and created_to is not None and created_from > created_to:
        raise InvalidPeriod(
            f"created_from ({created_from.isoformat()}) is after created_to ({created_to.isoformat()})"
        )


def last_days(days: int, now: datetime) -> datetime:
    """The start of the last `days` UTC days: the midnight `days` - 1 days before today's."""
    if not 1 <= days <= MAX_LAST_DAYS:
        raise InvalidPeriod(f"days must be from 1 to {MAX_LAST_DAYS}, not {days}")
    return datetime.combine(now.astimezone(UTC).date() - timedelta(days=days - 1), time(0), tzinfo=UTC)


def _first_day(day: date, grouping: Grouping) -> date:
    if grouping is Grouping.WEEK:
        return day - timedelta(days=day.weekday())
    if grouping is Grouping.MONTH:
        return day.replace(day=1)
    return day


def _next_day(day: date, grouping: Grouping) -> date:
    if grouping is Grouping.WEEK:
        return day + timedelta(days=7)
    if grouping is Grouping.MONTH:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz` (where midnight is skipped, the instant the day starts)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def periods(created_from: datetime, created_to: datetime, grouping: Grouping, tz: ZoneInfo) -> list[Period]:
    """The periods from the one holding `created_from` to the one holding `created_to` (both inclusive),
    oldest first, each clipped to [created_from, created_to]; InvalidPeriod beyond MAX_PERIODS."""
    check_range(created_from, created_to)
    try:
        return _periods(created_from, created_to, grouping, tz)
    except OverflowError:
        raise InvalidPeriod(f"the periods reach beyond the years 1 to 9999 in time zone '{tz.key}'") from None


def _periods(created_from: datetime, created_to: datetime, grouping: Grouping, tz: ZoneInfo) -> list[Period]:
    end = created_to + ONE_MICROSECOND
    day = _first_day(created_from.astimezone(tz).date(), grouping)
    found: list[Period] = []
    while (label := _midnight(day, tz)) < end:
        if len(found) == MAX_PERIODS:
            raise InvalidPeriod(
                f"the range holds more than {MAX_PERIODS} periods of a {grouping.value}: "
                "narrow it or group by a longer period"
            )
        day = _next_day(day, grouping)
        start = max(label.astimezone(UTC), created_from.astimezone(UTC))
        found.append(Period(label, start, min(_midnight(day, tz).astimezone(UTC), end.astimezone(UTC))))
    return found
