"""The Unit of Work over SQLAlchemy, and the runner that gives the API a fresh one per use case.

The runner runs the same sync use case inside `AsyncConnection.run_sync`, so repositories and use cases are
written once; SQLAlchemy's greenlet bridge makes each statement await the async driver."""

import asyncio
import logging
import random
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Concatenate, ParamSpec, Self, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.metrics import RETRIES
from adapters.sql.addresses import SqlAddressRepository
from adapters.sql.categories import SqlCategoryRepository
from adapters.sql.events import Outbox, SqlEventRepository
from adapters.sql.fulfillments import SqlFulfillmentRepository
from adapters.sql.gate import FairGate
from adapters.sql.idempotency import SqlIdempotencyRepository
from adapters.sql.orders import SqlOrderRepository
from adapters.sql.payments import SqlPaymentRepository
from adapters.sql.products import SqlProductRepository
from adapters.sql.returns import SqlOrderRefundRepository, SqlReturnRepository
from adapters.sql.throttle import SqlThrottleRepository
from adapters.sql.transaction import OnDemandTransaction
from adapters.sql.users import SqlUserRepository
from adapters.sql.wal import record_commit
from adapters.sql.webhooks import SqlWebhookRepository
from application.errors import Conflict, RejectedValue, ServiceUnavailable
from application.event_ports import Presenter
from application.ports import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)

# SQLSTATEs that mean "run the transaction again": serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 4


class SqlUnitOfWork:
    """One connection, taken from `connect` at the outermost `with uow:`, and at most one transaction on it
    at a time, opened by the first write or lock (see `OnDemandTransaction`).

    `with` blocks nest: an inner block joins the outer unit, and only the outermost exit ends it, rolling
    back whatever was not committed. That lets the API identify the caller and run the use case in one
    unit on one connection."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]], present: Presenter) -> None:
        self._connect = connect
        self._opened: AbstractContextManager[Connection] | None = None
        self._depth = 0
        self.tx = OnDemandTransaction()
        self.outbox = Outbox(present)
        self.users = SqlUserRepository(self.tx, self.outbox)
        self.categories = SqlCategoryRepository(self.tx)
        self.products = SqlProductRepository(self.tx, self.outbox)
        self.orders = SqlOrderRepository(self.tx, self.outbox)
        self.payments = SqlPaymentRepository(self.tx, self.outbox)
        self.fulfillments = SqlFulfillmentRepository(self.tx, self.outbox)
        self.returns = SqlReturnRepository(self.tx, self.outbox)
        self.refunds = SqlOrderRefundRepository(self.tx)
        self.idempotency = SqlIdempotencyRepository(self.tx)
        self.addresses = SqlAddressRepository(self.tx)
        self.throttle = SqlThrottleRepository(self.tx)
        self.events = SqlEventRepository(self.tx, self.outbox)
        self.webhooks = SqlWebhookRepository(self.tx)

    @classmethod
    def on(cls, connection: Connection, present: Presenter) -> "SqlUnitOfWork":
        """A Unit of Work on a connection someone else opened and will close."""
        return cls(lambda: nullcontext(connection), present)

    def __enter__(self) -> Self:
        if self._depth == 0:
            self._opened = self._connect()
            self.tx.attach(self._opened.__enter__())
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        assert self._opened is not None
        self.outbox.discard()  # events of a unit that did not commit are never written
        try:
            self.tx.end(commit=False)  # whatever was not committed
        finally:
            self.tx.connection = None
            self._opened.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self.events.flush()  # with the events the aggregates it saw raised (Outbox.take)
        self.tx.end(commit=True)

    def rollback(self) -> None:
        self.outbox.discard()
        self.tx.end(commit=False)


def sync_unit_of_work(engine: Engine, present: Presenter) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine.connect, present)


def is_retryable(error: BaseException) -> bool:
    """A conflict the database resolved by aborting us: safe to run the whole transaction again."""
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


def _cause(error: DBAPIError) -> str:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == "40001":
        return "serialization_failure"
    if sqlstate == "40P01":
        return "deadlock"
    return "database_locked" if "database is locked" in str(error.orig) else "stale_connection"


def is_unavailable(error: BaseException) -> bool:
    """The database cannot be reached (down, restarting, connection killed, pool exhausted)."""
    if isinstance(error, PoolTimeout | OSError | ConnectionError):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        return (
            error.connection_invalidated or isinstance(error, OperationalError) or sqlstate.startswith("08")
        )
    return False


# The insert position, not pg_current_wal_lsn() (the write position): with synchronous_commit=off a COMMIT
# returns before its record is written, and only the insert position is sure to be past it.
_COMMIT_POSITION = text("SELECT pg_current_wal_insert_lsn()::text")


async def _record_commit_position(connection: AsyncConnection) -> None:
    """After the COMMIT, on its connection: at or past the commit's WAL record. The write is done whatever
    happens here, so a failure costs only read-your-writes for this answer (logged), never a retry."""
    try:
        record_commit(str((await connection.execute(_COMMIT_POSITION)).scalar_one()))
    except DBAPIError as error:
        log.warning("committed, but could not read the WAL position after it: %s", error.orig)


class SqlUnitOfWorkRunner:
    """Runs `work(uow, ...)` on a fresh connection, retrying serialization failures and deadlocks."""

    def __init__(
        self,
        engine: AsyncEngine,
        present: Presenter,
        gate: FairGate | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        *,
        track_commits: bool = False,
    ) -> None:
        """`track_commits` (only with replicas configured: a round trip per write): after a unit of work
        that committed, read the primary's WAL position on the same connection and record it in the
        request's `ReadPosition` (read-your-writes)."""
        self._engine = engine
        self._present = present
        self._gate = gate or FairGate(None, 0)
        self._max_attempts = max_attempts
        self._track_commits = track_commits
        self.retries = 0

    async def run(
        self, work: Callable[Concatenate[UnitOfWork, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        for attempt in range(1, self._max_attempts + 1):
            uow: SqlUnitOfWork | None = None
            try:
                async with self._gate.admitted(), self._engine.connect() as connection:
                    # An open AsyncConnection always has its sync connection (typed Optional).
                    uow = SqlUnitOfWork.on(connection.sync_connection, self._present)  # type: ignore[arg-type]
                    result = await connection.run_sync(lambda _, u: work(u, *args, **kwargs), uow)
                    if self._track_commits and uow.tx.committed:
                        await _record_commit_position(connection)
                    return result
            except DBAPIError as error:
                if attempt < self._max_attempts and self._worth_retrying(error, uow):
                    self.retries += 1
                    RETRIES.labels(_cause(error)).inc()
                    log.info("running again (attempt %d failed): %s", attempt, error.orig)
                    await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)  # jitter breaks lockstep
                    continue
                if is_retryable(error) or is_unavailable(error):
                    raise ServiceUnavailable(
                        "the database is unavailable; nothing was changed, retry"
                    ) from error
                if isinstance(error, DataError):
                    raise RejectedValue("a value is out of the range the shop can store") from error
                if isinstance(error, IntegrityError):
                    raise Conflict("the change conflicts with the current data; reload and retry") from error
                raise
            except (PoolTimeout, OSError, ConnectionError) as error:
                raise ServiceUnavailable("the database is unavailable; nothing was changed, retry") from error
        raise AssertionError("unreachable")

    @staticmethod
    def _worth_retrying(error: DBAPIError, uow: "SqlUnitOfWork | None") -> bool:
        """A conflict the database aborted us for, or a pooled connection found dead before it ran anything.

        The second replaces the pool's pre-ping (a round trip on every checkout): SQLAlchemy has already
        invalidated the pool's older connections, so the next attempt connects afresh."""
        stale = error.connection_invalidated and uow is not None and uow.tx.statements == 0
        return stale or is_retryable(error)
