"""Throttle windows in the database: one upsert counts an attempt atomically, whatever the number of
workers, on PostgreSQL and SQLite alike (both have INSERT ... ON CONFLICT DO UPDATE ... RETURNING)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import throttle_windows as windows
from application.ports import Attempts


class SqlThrottleRepository(SqlRepository):
    def _insert(self) -> Any:
        dialect: Any = postgresql if self.tx.dialect_name == "postgresql" else sqlite
        return dialect.insert(windows)

    def hit(self, key: str, now: datetime, window: timedelta) -> Attempts:
        statement = self._insert().values(key=key, attempts=1, window_ends=now + window)
        ended = windows.c.window_ends <= now  # the stored window, not the one proposed
        statement = statement.on_conflict_do_update(
            index_elements=[windows.c.key],
            set_={
                "attempts": case((ended, 1), else_=windows.c.attempts + 1),
                "window_ends": case((ended, statement.excluded.window_ends), else_=windows.c.window_ends),
            },
        ).returning(windows.c.attempts, windows.c.window_ends)
        attempts, window_ends = self.tx.execute(statement).one()
        return Attempts(attempts, mapping.utc(window_ends))

    def forgive(self, key: str) -> None:
        self.tx.execute(
            update(windows)
            .where(windows.c.key == key, windows.c.attempts > 0)
            .values(attempts=windows.c.attempts - 1)
        )

    def clear(self, key: str) -> None:
        self.tx.execute(delete(windows).where(windows.c.key == key))

    def remember(self, key: str, until: datetime) -> None:
        statement = self._insert().values(key=key, attempts=0, window_ends=until)
        self.tx.execute(
            statement.on_conflict_do_update(
                index_elements=[windows.c.key], set_={"window_ends": statement.excluded.window_ends}
            )
        )

    def remembers(self, key: str, now: datetime) -> bool:
        return bool(
            self.tx.execute(
                select(exists().where(windows.c.key == key, windows.c.window_ends > now))
            ).scalar()
        )

    def purge(self, now: datetime) -> int:
        return self.tx.execute(delete(windows).where(windows.c.window_ends <= now)).rowcount
