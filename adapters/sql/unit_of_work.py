"""Units of Work over SQLAlchemy: a sync one (the CLI) and an async one (the API) sharing every query.

The async Unit of Work runs the same sync use case inside `AsyncSession.run_sync`, so repositories and
use cases are written once; SQLAlchemy's greenlet bridge makes each statement await the async driver."""

import asyncio
import logging
import random
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session

from adapters.sql.repositories import (
    SqlCategoryRepository,
    SqlIdempotencyRepository,
    SqlOrderRepository,
    SqlProductRepository,
    SqlUserRepository,
)
from application.errors import Conflict, RejectedValue, ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

# SQLSTATEs that mean "run the transaction again": serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 4


class SqlUnitOfWork:
    """One transaction on one session: `with uow:` rolls back everything not committed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.users = SqlUserRepository(session)
        self.categories = SqlCategoryRepository(session)
        self.products = SqlProductRepository(session)
        self.orders = SqlOrderRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def sync_unit_of_work(engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(Session(engine))


def is_retryable(error: BaseException) -> bool:
    """A conflict the database resolved by aborting us: safe to run the whole transaction again."""
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


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


class SqlAsyncUnitOfWork:
    """Runs `work(uow, ...)` on a fresh session, retrying serialization failures and deadlocks."""

    def __init__(self, engine: AsyncEngine, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._max_attempts = max_attempts
        self.retries = 0

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._sessions() as session:
                    return await session.run_sync(lambda s: work(SqlUnitOfWork(s), *args, **kwargs))
            except DBAPIError as error:
                if is_retryable(error) and attempt < self._max_attempts:
                    self.retries += 1
                    log.info("retrying after a transient conflict (attempt %d): %s", attempt, error.orig)
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
