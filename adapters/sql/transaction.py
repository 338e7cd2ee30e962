"""The connection a Unit of Work's repositories share, and the transaction it opens only when needed.

The connection runs in the driver's autocommit mode; the database transaction starts at the first
statement that writes or locks rows. Reads before it run as statements of their own, which at READ
COMMITTED (every statement sees what was committed when it started, in or out of a transaction) is
what they would see inside it. A read-only unit therefore sends no BEGIN and no COMMIT: two round
trips saved per request, and psycopg keeps its prepared statements (it drops them on ROLLBACK)."""

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.exc import DBAPIError

from adapters.sql import placement
from adapters.sql.hot_path import Failed, HotPath

# SQLite takes its single write lock up front, as PostgreSQL's row locks would, instead of failing
# to upgrade a read snapshot later.
_BEGIN = {"sqlite": "BEGIN IMMEDIATE"}


class OnDemandTransaction:
    """A connection in the driver's autocommit mode that opens a transaction at its first write or lock."""

    def __init__(self) -> None:
        self.connection: Connection | None = None
        self.begun = False
        self.statements = 0  # that succeeded on this connection: 0 means a dead one can be replaced
        self.committed = False  # a transaction was committed: there is a write to read after
        self.placement: placement.Placement | None = None  # PostgreSQL: an order announced (hot path)
        self.hot: HotPath | None = None

    def attach(self, connection: Connection) -> None:
        self.connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        self.begun = False
        self.statements = 0
        self.committed = False
        self.placement = None
        self.hot = None

    def announce_placement(self, product_ids: list[int]) -> None:
        """On PostgreSQL with psycopg, before the unit's first statement: the unit will lock these products
        and place one order of them. Its first read then also opens the transaction, locks them and
        reserves the order's ids (adapters/sql/placement.py), in one round trip."""
        connection = self._connection()
        if self.begun or self.statements or not placement.supported(connection):
            return
        self.hot = HotPath(connection)
        self.placement = placement.Placement(tuple(sorted(set(product_ids))))

    def first_read(self, statement: Executable, parameters: dict[str, Any]) -> list[Any] | None:
        """The rows of a read that opens an announced placement's read half; None: run it as usual."""
        if self.placement is None or self.begun:
            return None
        return self._read_half(statement, parameters)

    def locked_ahead(self, product_ids: list[int]) -> list[Any] | None:
        """The rows of the announced products, locked by the read half; None: lock them as usual."""
        if self.placement is None:
            return None
        if not self.begun:
            self._read_half(None, {})
        return self.placement.take_locked(product_ids)

    def queue(self, statement: Executable, parameters: dict[str, Any]) -> bool:
        """A write of an announced placement, sent with the COMMIT (or before the next other statement);
        False: there is no hot path here, run it as usual."""
        if self.placement is None or not self.begun:
            return False
        self.placement.queued.append((statement, parameters))
        return True

    def _read_half(self, first: Executable | None, parameters: dict[str, Any]) -> list[Any]:
        assert self.hot is not None and self.placement is not None
        statements = placement.read_half(self.placement, first, parameters)
        for attempt in (1, 2):
            try:
                rows = self.hot.exchange(statements, before=b"BEGIN")
                break
            except Failed as failed:
                self._abort()
                if attempt == 1 and failed.sqlstate == "26000":  # see adapters/sql/hot_path.py
                    continue
                raise failed.error from None
            except DBAPIError:
                # Lost half-way (killed while it waited for a lock, say) is not "dead before it ran
                # anything", which the runner may safely run again.
                self.statements += self.hot.answered
                raise
        self.begun = True
        self.statements += len(statements)
        return placement.took(self.placement, first is not None, rows)

    def _send_queued(self, *, commit: bool) -> None:
        assert self.hot is not None and self.placement is not None
        queued, self.placement.queued = self.placement.queued, []
        try:
            self.hot.exchange(queued, after=b"COMMIT" if commit else b"")
        except Failed as failed:
            self._abort()
            self.placement.refused(failed)
            raise failed.error from None
        self.statements += len(queued)

    def _abort(self) -> None:
        """ROLLBACK on the hot path: through psycopg it would deallocate every prepared statement."""
        assert self.hot is not None
        self.begun = False
        connection = self._connection()
        if connection.invalidated:
            return
        try:
            self.hot.exchange([], before=b"ROLLBACK")
        except (Failed, DBAPIError):  # the connection cannot be trusted again
            if not connection.invalidated:
                connection.invalidate()

    def execute(
        self, statement: Executable, parameters: Any = None, *, locks: bool = False
    ) -> CursorResult[*tuple[Any, ...]]:
        """Run one statement; `locks` marks a read that takes row locks (SELECT ... FOR UPDATE)."""
        connection = self._connection()
        if self.placement is not None:
            if not self.begun:
                self._read_half(None, {})
            elif self.placement.queued:
                self._send_queued(commit=False)
        if not self.begun and (locks or statement.is_dml):
            connection.exec_driver_sql(_BEGIN.get(connection.dialect.name, "BEGIN"))
            self.begun = True
        result = connection.execute(statement, parameters)
        self.statements += 1
        return result

    def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK the open transaction; without one there is nothing to send."""
        connection = self._connection()
        if self.placement is not None and self.begun:
            if commit:
                self._send_queued(commit=True)
                self.committed = True
            else:
                self._abort()
            self.begun = False
        if self.begun:
            self.begun = False
            # Through the driver, which sends COMMIT/ROLLBACK only while the server is in a transaction,
            # and through SQLAlchemy, which skips a connection it found dead.
            if commit:
                connection.commit()
                self.committed = True
            else:
                connection.rollback()

    @property
    def dialect_name(self) -> str:
        return self._connection().dialect.name

    def _connection(self) -> Connection:
        if self.connection is None:
            raise RuntimeError("repositories are used only inside `with uow:`")
        return self.connection
