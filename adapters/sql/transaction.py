"""The connection a Unit of Work's repositories share, and the transaction it opens only when needed.

The connection runs in the driver's autocommit mode; the database transaction starts at the first
statement that writes or locks rows. Reads before it run as statements of their own, which at READ
COMMITTED (every statement sees what was committed when it started, in or out of a transaction) is
what they would see inside it. A read-only unit therefore sends no BEGIN and no COMMIT: two round
trips saved per request, and psycopg keeps its prepared statements (it drops them on ROLLBACK)."""

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable

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

    def attach(self, connection: Connection) -> None:
        self.connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        self.begun = False
        self.statements = 0
        self.committed = False

    def execute(
        self, statement: Executable, parameters: Any = None, *, locks: bool = False
    ) -> CursorResult[*tuple[Any, ...]]:
        """Run one statement; `locks` marks a read that takes row locks (SELECT ... FOR UPDATE)."""
        connection = self._connection()
        if not self.begun and (locks or statement.is_dml):
            connection.exec_driver_sql(_BEGIN.get(connection.dialect.name, "BEGIN"))
            self.begun = True
        result = connection.execute(statement, parameters)
        self.statements += 1
        return result

    def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK the open transaction; without one there is nothing to send."""
        connection = self._connection()
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
