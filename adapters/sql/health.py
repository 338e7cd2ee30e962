"""Is the database answering, and is its schema the one this code expects? Bounded in time, so a probe
never hangs on a dead server."""

import asyncio
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

UNREACHABLE = "database unreachable"
NOT_MIGRATED = "database schema is not at the latest migration (run `shop migrate`)"
_REVISIONS = text("SELECT version_num FROM alembic_version")


class DatabaseProbe:
    def __init__(self, engine: AsyncEngine, timeout: float, heads: Callable[[], frozenset[str]]) -> None:
        self._engine = engine
        self._timeout = timeout
        self._heads = heads

    async def ping(self) -> bool:
        """Reachable (migrated or not): what GET /health reports."""
        return await self.unready_because() != UNREACHABLE

    async def unready_because(self) -> str | None:
        """None when the database answers and is migrated to head; otherwise why not, in a few words."""
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                try:
                    revisions = frozenset((await connection.execute(_REVISIONS)).scalars())
                except DBAPIError:  # no alembic_version table: never migrated
                    revisions = frozenset()
        except Exception:  # any failure to answer is "unreachable"; the reason is the server's to log
            return UNREACHABLE
        return None if revisions == self._heads() else NOT_MIGRATED
