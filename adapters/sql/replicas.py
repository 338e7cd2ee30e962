"""Reads served by PostgreSQL streaming replicas (docs/scaling.md: Read replicas).

- Which use cases may read from a replica is decided once, where they are bound (entrypoints/use_cases.py,
  `replica_read`); the API's `Caller` hands those to `ReplicaReads`, everything else to the primary's runner.
- Read-your-writes: with replicas configured the primary's runner reads `pg_current_wal_insert_lsn()` on
  the connection that just committed and records it in the request's `ReadPosition`; the API returns it
  to the client (header and cookie), and a later request carrying it is served by a replica only once
  that replica's replayed LSN has passed it.
- `ReplicaSet` keeps each replica's state (replayed LSN, lag, reachable or not) per process, refreshed in
  the background at most every `interval` seconds from its own connections, so choosing a replica costs no
  round trip. A replica more than `max_lag` behind, unreachable, or not a standby is skipped; one that fails
  during a read is marked down and the read runs again on the primary."""

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.metrics import REPLICA_FALLBACKS, REPLICA_LAG, REPLICA_UP, ROUTED_READS
from adapters.sql.engine import EngineOptions, make_async_engine, make_probe_engine, pool_capacity
from adapters.sql.gate import FairGate
from adapters.sql.unit_of_work import SqlUnitOfWorkRunner
from adapters.sql.wal import POSITION, parse_lsn
from application.errors import ServiceUnavailable
from application.event_ports import Presenter
from application.ports import UnitOfWork, UnitOfWorkRunner

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)

READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: a write sent to a replica, a bug to surface


class ReplicaState(StrEnum):
    UNKNOWN = "unknown"  # not checked yet
    OK = "ok"
    LAGGING = "lagging"
    UNREACHABLE = "unreachable"
    NOT_A_STANDBY = "not_a_standby"  # pg_is_in_recovery() is false: a URL that names a primary


def judge(
    primary_lsn: int | None, replayed: int | None, replay_age: float | None, max_lag: float
) -> tuple[ReplicaState, float | None]:
    """A reachable standby's state and lag (seconds). Caught up with the primary's LSN read just before:
    no lag, however old its last replayed commit (an idle primary writes none). Behind it: the age of the
    last commit it replayed, which over-states the lag right after an idle spell (skipped until the next
    check, ~a second) and never under-states it. Unknown (primary unreachable): judged by that age alone."""
    if replayed is None:
        return ReplicaState.NOT_A_STANDBY, None
    if primary_lsn is not None and replayed >= primary_lsn:
        return ReplicaState.OK, 0.0
    if replay_age is None:  # behind, and no commit replayed since it started: no way to bound the lag
        return ReplicaState.LAGGING, None
    lag = max(replay_age, 0.0)
    return (ReplicaState.OK if lag <= max_lag else ReplicaState.LAGGING), lag


def describe(url: str) -> str:
    """host:port/database: how a replica is named in logs, /health/ready and docs (never its password)."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


# Flushed: what a standby can have received (with synchronous_commit=off a commit may not be yet).
_PRIMARY_LSN = text("SELECT pg_current_wal_flush_lsn()::text")
_STANDBY = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
)


@dataclass(eq=False)
class Replica:
    name: str  # describe(url)
    label: str  # "replica-0", ...: the metrics' bounded label
    runner: UnitOfWorkRunner  # over a read-only pool on the replica
    probe: AsyncEngine  # one connection of its own for the checks
    engines: tuple[AsyncEngine, ...] = ()  # disposed with the set
    state: ReplicaState = ReplicaState.UNKNOWN
    replayed: int | None = None
    lag: float | None = None
    problem: str | None = None  # the last check's or read's failure, without the URL

    def usable_after(self, read_after: int | None) -> bool:
        return self.state is ReplicaState.OK and (
            read_after is None or (self.replayed is not None and self.replayed >= read_after)
        )


@dataclass(eq=False)
class ReplicaSet:
    primary_probe: AsyncEngine
    replicas: list[Replica]
    max_lag: float
    interval: float  # seconds between two background checks
    timeout: float  # a whole check's bound: half for the primary's position, half for the replicas
    clock: Callable[[], float] = time.monotonic
    checked_at: float | None = None
    _task: "asyncio.Task[None] | None" = None
    _turn: "itertools.count[int]" = field(default_factory=itertools.count)

    def choose(self, read_after: int | None) -> Replica | None:
        """A replica that may serve this read now (round robin over those), or None for the primary. No I/O:
        a check due is started in the background, and this read is routed on what is known."""
        self._check_soon()
        usable = [r for r in self.replicas if r.usable_after(read_after)]
        return usable[next(self._turn) % len(usable)] if usable else None

    def failed(self, replica: Replica, error: BaseException) -> None:
        """A read failed on it: skipped until a check finds it well again."""
        replica.state, replica.problem = ReplicaState.UNREACHABLE, _reason(error)
        REPLICA_UP.labels(replica.label).set(0)
        log.warning("replica %s failed a read, served by the primary: %s", replica.name, replica.problem)

    async def check(self) -> None:
        """Every replica's state now (bounded by `timeout`): what /health/ready shows and reads go by."""
        self.checked_at = self.clock()
        primary = await self._primary_lsn()
        await asyncio.gather(*(self._check_one(r, primary) for r in self.replicas))

    async def dispose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for engine in [self.primary_probe, *(e for r in self.replicas for e in r.engines)]:
            await engine.dispose()

    def _check_soon(self) -> None:
        due = self.checked_at is None or self.clock() - self.checked_at >= self.interval
        loop = asyncio.get_running_loop()
        idle = self._task is None or self._task.done() or self._task.get_loop() is not loop
        if due and idle:
            self.checked_at = self.clock()  # one check at a time, even if it fails at once
            self._task = loop.create_task(self.check())

    async def _primary_lsn(self) -> int | None:
        try:
            async with asyncio.timeout(self.timeout / 2), self.primary_probe.connect() as connection:
                return parse_lsn(str((await connection.execute(_PRIMARY_LSN)).scalar_one()))
        except Exception as error:  # the primary's own health is /health's business
            log.info("could not read the primary's WAL position: %s", _reason(error))
            return None

    async def _check_one(self, replica: Replica, primary: int | None) -> None:
        try:
            async with asyncio.timeout(self.timeout / 2), replica.probe.connect() as connection:
                in_recovery, replayed, age = (await connection.execute(_STANDBY)).one()
        except Exception as error:
            replica.state, replica.lag, replica.problem = ReplicaState.UNREACHABLE, None, _reason(error)
            REPLICA_UP.labels(replica.label).set(0)
            return
        replica.replayed = parse_lsn(replayed) if in_recovery and replayed else None
        replica.state, replica.lag = judge(primary, replica.replayed, age, self.max_lag)
        replica.problem = None
        REPLICA_UP.labels(replica.label).set(1 if replica.state is ReplicaState.OK else 0)
        if replica.lag is not None:
            REPLICA_LAG.labels(replica.label).set(replica.lag)


def _reason(error: BaseException) -> str:
    """A failure in a few words: the driver's first line (psycopg never puts the password in it)."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]


class ReplicaReads:
    """The runner for the use cases marked `replica_read`: a replica when one may serve the request, else
    the primary; a replica failing during the read falls back to the primary for that request."""

    def __init__(self, replicas: ReplicaSet, primary: UnitOfWorkRunner) -> None:
        self.replicas = replicas
        self._primary = primary

    async def run(
        self, work: Callable[Concatenate[UnitOfWork, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        position = POSITION.get()
        replica = self.replicas.choose(position.read_after if position else None)
        if replica is not None:
            try:
                result = await replica.runner.run(work, *args, **kwargs)
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) == READ_ONLY_SQLSTATE:
                    raise  # a use case marked replica_read wrote: a bug, never hidden by a retry
                self.replicas.failed(replica, error)
                REPLICA_FALLBACKS.labels(replica.label).inc()
            except ServiceUnavailable as error:
                self.replicas.failed(replica, error.__cause__ or error)
                REPLICA_FALLBACKS.labels(replica.label).inc()
            else:
                ROUTED_READS.labels(replica.label).inc()
                return result
        ROUTED_READS.labels("primary").inc()
        return await self._primary.run(work, *args, **kwargs)


def build_replica_set(
    primary_url: str,
    urls: list[str],
    options: EngineOptions,
    present: Presenter,
    *,
    max_lag: float,
    interval: float,
    timeout: float,
) -> ReplicaSet | None:
    """The replicas of SHOP_DATABASE_REPLICA_URLS, each with a read-only pool (sized as the primary's, behind
    a fair gate of its own) and a probe connection; None without any. Creating engines connects to nothing."""
    if not urls:
        return None
    replicas = []
    for number, url in enumerate(urls):
        engine = make_async_engine(url, options, read_only=True, instrumented=False)
        probe = make_probe_engine(url, options.connect_timeout)
        gate = FairGate(pool_capacity(url, options), options.pool_timeout)
        runner = SqlUnitOfWorkRunner(engine, present, gate)
        replicas.append(Replica(describe(url), f"replica-{number}", runner, probe, (engine, probe)))
    primary = make_probe_engine(primary_url, options.connect_timeout)
    return ReplicaSet(primary, replicas, max_lag=max_lag, interval=interval, timeout=timeout)


def replica_runner(replicas: ReplicaSet | None, primary: UnitOfWorkRunner) -> ReplicaReads | None:
    """What runs the replica-readable use cases; None without replicas (the primary's runner runs them, and
    nothing at all changes on its path)."""
    return None if replicas is None else ReplicaReads(replicas, primary)
