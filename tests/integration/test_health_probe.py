"""The readiness probe against real databases: unmigrated, behind, at head, unreachable."""

import asyncio
from pathlib import Path

from adapters.sql.engine import EngineOptions, make_async_engine
from adapters.sql.health import NOT_MIGRATED, UNREACHABLE, DatabaseProbe
from adapters.sql.migrate import head_revisions, migrate


def readiness(url: str) -> tuple[str | None, bool]:
    async def probe() -> tuple[str | None, bool]:
        engine = make_async_engine(url, EngineOptions(connect_timeout=1))
        try:
            probe = DatabaseProbe(engine, 2.0, head_revisions)
            return await probe.unready_because(), await probe.ping()
        finally:
            await engine.dispose()

    return asyncio.run(probe())


def test_ready_only_at_the_latest_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'probe.db'}"
    assert readiness(url) == (NOT_MIGRATED, True)  # reachable, never migrated
    migrate(url, "0002_counts")
    assert readiness(url) == (NOT_MIGRATED, True)
    migrate(url)
    assert readiness(url) == (None, True)


def test_postgres_at_head_is_ready(clean_postgres: str) -> None:
    assert readiness(clean_postgres) == (None, True)


def test_an_unreachable_server_is_not_ready() -> None:
    assert readiness("postgresql://nobody@127.0.0.1:1/none") == (UNREACHABLE, False)
