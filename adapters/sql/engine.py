"""Engines from one database URL: the service picks psycopg 3 (sync and async) or sqlite/aiosqlite itself."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.metrics import instrument_pool


def sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def async_url(url: str) -> str:
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite+aiosqlite"}[parsed.get_backend_name()]
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SQLITE_BUSY_TIMEOUT_MS = 1000  # per attempt; the async Unit of Work retries a locked database a few times


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """The one home of the pool's defaults (Settings takes its defaults from here). Per worker: few
    connections beat many, requests queue in the worker (cheap) instead of as PostgreSQL backends fighting
    for the same cores (docs/operations.md: Configuration)."""

    pool_size: int = 4
    max_overflow: int = 0
    pool_timeout: float = 5
    connect_timeout: float = 2
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
    log_statements: bool = False
    # psycopg prepares a statement on the server once it has run it 5 times. A pooler in transaction mode
    # (PgBouncer before 1.21, or without max_prepared_statements) hands each transaction another server
    # connection, where that statement does not exist: turn preparing off there.
    prepared_statements: bool = True


def _pool_options(url: str, o: EngineOptions, pre_ping: bool) -> dict[str, Any]:
    if is_sqlite(url):
        # Each SQLite connection is a file handle; waiting on the file lock is done by busy_timeout.
        return {"poolclass": NullPool} if ":memory:" not in url else {}
    return {
        "pool_size": o.pool_size,
        "max_overflow": o.max_overflow,
        "pool_timeout": o.pool_timeout,
        "pool_pre_ping": pre_ping,
        "pool_recycle": 1800,
        "connect_args": {"connect_timeout": max(1, int(o.connect_timeout))}
        | ({} if o.prepared_statements else {"prepare_threshold": None}),
    }


def pool_capacity(url: str, o: EngineOptions) -> int | None:
    """How many connections the pool hands out at most; None where connections are not pooled."""
    return None if is_sqlite(url) else o.pool_size + o.max_overflow


def _sqlite_pragmas(engine: Engine, url: str, o: EngineOptions) -> None:
    if not is_sqlite(url):
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores foreign keys unless asked, per connection
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(o.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_sync_engine(url: str, options: EngineOptions = EngineOptions()) -> Engine:
    # A connection that died with the server is replaced, not handed out: pinged at checkout here.
    engine = create_engine(
        sync_url(url), echo=options.log_statements, **_pool_options(url, options, pre_ping=True)
    )
    _sqlite_pragmas(engine, url, options)
    return engine


def make_async_engine(
    url: str, options: EngineOptions = EngineOptions(), *, read_only: bool = False, instrumented: bool = True
) -> AsyncEngine:
    # No ping, a round trip per request: the async Unit of Work replaces a connection that fails its first
    # statement instead (SqlUnitOfWorkRunner.run).
    # `read_only` (a replica's pool): every transaction read-only from the connection's start-up options, no
    # statement spent on it, so a write sent there by mistake fails loudly even on a server that is not a
    # standby. (Behind PgBouncer, list `options` in its ignore_startup_parameters: a standby refuses writes
    # anyway.)
    pool = _pool_options(url, options, pre_ping=False)
    if read_only and not is_sqlite(url):
        pool["connect_args"] = pool["connect_args"] | {"options": "-c default_transaction_read_only=on"}
    engine = create_async_engine(async_url(url), echo=options.log_statements, **pool)
    _sqlite_pragmas(engine.sync_engine, url, options)
    if instrumented:  # the pool gauges are the primary's
        instrument_pool(engine.sync_engine.pool, pool_capacity(url, options))
    return engine


def make_probe_engine(url: str, connect_timeout: float) -> AsyncEngine:
    """One connection of its own, for the replica checks: they never wait behind requests for a connection,
    nor hold one a request waits for."""
    options = EngineOptions(
        pool_size=1, max_overflow=0, pool_timeout=connect_timeout, connect_timeout=connect_timeout
    )
    return make_async_engine(url, options, instrumented=False)
