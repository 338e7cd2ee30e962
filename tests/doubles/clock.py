"""A clock that stands still until a test moves it."""

from datetime import UTC, datetime, timedelta


class FixedClock:
    """Stands still until moved, so tests can reason about timestamps and expiry."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta
