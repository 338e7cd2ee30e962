"""The order path on PostgreSQL below SQLAlchemy's execution layer: two round trips, one write each.

Statements are the repositories' own SQLAlchemy statements, compiled once by SQLAlchemy with the
connection's dialect (the same SQL text, casts and bind processors as the portable path), then run on the
psycopg connection the Unit of Work already holds through libpq's pipeline mode (`psycopg.pq`, public):
every statement of a half is queued, `PQpipelineSync` sends them in one write, and the results are read
once. psycopg's own pipeline sends each statement as it is queued (one write per statement), hence this.

Prepared statements are named `shop_hot_<n>` and prepared in the same write as their first run; a
connection remembers which it holds. psycopg deallocates every prepared statement of a connection when it
rolls back (`DEALLOCATE ALL`), ours included: a statement found missing (SQLSTATE 26000) in the read half
empties the connection's list but for those that exchange prepared (they exist), and the half runs again
after a ROLLBACK. With the prepare threshold off (`SHOP_DB_PREPARED_STATEMENTS=false`, for PgBouncer in
transaction mode) statements run unnamed.

Errors come out as SQLAlchemy would raise them (`DBAPIError.instance`), and a connection lost on the way is
invalidated, so the runner's retries and 503s are the same as on the portable path."""

import asyncio
import re
import select
import weakref
from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Connection, Executable, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import await_only

NUMERIC_OID = 1700  # Numeric binds carry no cast in SQLAlchemy's SQL; every other bind does, or needs none
_PARAM = re.compile(r"%\((\w+)\)s|%%")
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
# Prepared statements each driver connection holds (by name); dropped with the connection.
_PREPARED: "weakref.WeakKeyDictionary[Any, set[bytes]]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Compiled:
    name: bytes
    sql: bytes
    names: tuple[str, ...]  # the parameters in $n order
    types: tuple[int, ...]
    processors: tuple[Any, ...]
    literals: dict[str, Any]  # the values SQLAlchemy bound itself (`version + 1`, `>= 0`)


_compiled_count = 0


@cache
def compiled(statement: Executable, dialect: Dialect) -> Compiled:
    """Once per statement (the hot statements are built once: module constants or `@cache`d builders)."""
    global _compiled_count
    sql_alchemy = cast(Any, statement).compile(dialect=dialect)  # every hot statement is a ClauseElement
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = _PARAM.sub(positional, sql_alchemy.string)
    binds = [sql_alchemy.binds[name] for name in names]
    _compiled_count += 1
    return Compiled(
        name=f"shop_hot_{_compiled_count}".encode(),
        sql=sql.encode(),
        names=tuple(names),
        types=tuple(NUMERIC_OID if isinstance(b.type, Numeric) else 0 for b in binds),
        processors=tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds),
        literals={n: b.effective_value for n, b in zip(names, binds, strict=True) if not b.required},
    )


class Failed(Exception):
    """A statement of a half failed: `error` is what SQLAlchemy would have raised."""

    def __init__(self, error: DBAPIError, sqlstate: str | None, constraint: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.sqlstate = sqlstate
        self.constraint = constraint


def _error_class(sqlstate: str | None) -> type[psycopg.Error]:
    """psycopg's class for the SQLSTATE, as its cursors raise; one it does not know (a trigger's own code) is
    a DatabaseError, never a KeyError."""
    try:
        return errors.lookup(sqlstate) if sqlstate else psycopg.DatabaseError
    except KeyError:
        return psycopg.DatabaseError


class HotPath:
    """One Unit of Work's hot path on its connection (PostgreSQL and psycopg only)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect
        driver = connection.connection.driver_connection
        assert driver is not None  # an open connection
        self._driver: Any = driver
        self._pg: pq.abc.PGconn = self._driver.pgconn
        self._async = isinstance(self._driver, psycopg.AsyncConnection)
        self._prepare = self._driver.prepare_threshold is not None
        self._prepared = _PREPARED.setdefault(self._driver, set())
        self._tx = Transformer(self._driver)
        self.round_trips = 0  # exchanges with the server
        self.writes = 0  # sends it took: one per round trip unless the socket's buffer was full
        self.answered = 0  # commands of the last exchange the server answered (0: it ran nothing)
        self._fresh: set[bytes] = set()  # prepared by this exchange: they exist whatever fails after them

    def exchange(
        self,
        statements: Sequence[tuple[Executable, Mapping[str, Any]]],
        *,
        before: bytes = b"",
        after: bytes = b"",
    ) -> list[list[tuple[Any, ...]]]:
        """Run `before` (BEGIN), the statements and `after` (COMMIT) in one write; the rows of each
        statement. Raises `Failed` on the first statement that failed (the transaction is then aborted)."""
        self._fresh = set()
        try:
            return self._exchange(statements, before, after)
        except Failed as failed:
            if failed.sqlstate == "26000":  # deallocated behind our back: prepare the others again
                self._prepared.intersection_update(self._fresh)
            raise

    def _exchange(
        self, statements: Sequence[tuple[Executable, Mapping[str, Any]]], before: bytes, after: bytes
    ) -> list[list[tuple[Any, ...]]]:
        pg = self._pg
        self.answered = 0
        results: list[tuple[str, Any]] = []  # what each queued command is: its kind and statement
        try:
            pg.enter_pipeline_mode()
            try:
                if before:
                    pg.send_query_params(before, None)
                    results.append(("command", before))
                for statement, parameters in statements:
                    results.extend(self._send(compiled(statement, self._dialect), parameters))
                if after:
                    pg.send_query_params(after, None)
                    results.append(("command", after))
                pg.pipeline_sync()  # sends everything queued (libpq keeps up to 64 KiB until then)
                self.writes += 1
                while pg.flush():
                    self._wait(write=True)
                    self.writes += 1
                self.round_trips += 1
                fetched = [self._results() for _ in results]
                sync = self._result()
                assert sync is not None and sync.status == pq.ExecStatus.PIPELINE_SYNC, sync
            except BaseException:
                if pg.status == pq.ConnStatus.OK:
                    self._connection.invalidate()  # half-way through a pipeline: not to be used again
                raise
            pg.exit_pipeline_mode()
        except psycopg.Error as error:  # the connection failed: as SQLAlchemy, invalidate it
            raise self._lost(error) from error
        except BaseException:  # cancelled half-way: this connection is in an unknown state
            self._connection.invalidate()
            raise
        return self._rows(results, fetched)

    def _send(self, c: Compiled, parameters: Mapping[str, Any]) -> list[tuple[str, Any]]:
        given = c.literals | dict(parameters) if c.literals else parameters
        values = [p(given[n]) if p else given[n] for n, p in zip(c.names, c.processors, strict=True)]
        dumped = self._tx.dump_sequence(values, [PyFormat.TEXT] * len(values))
        if not self._prepare:
            self._pg.send_query_params(c.sql, dumped, param_types=c.types)
            return [("rows", c)]
        queued: list[tuple[str, Any]] = []
        if c.name not in self._prepared:
            self._pg.send_prepare(c.name, c.sql, param_types=c.types)
            queued.append(("prepare", c))
        self._pg.send_query_prepared(c.name, dumped)
        return [*queued, ("rows", c)]

    def _rows(
        self, queued: list[tuple[str, Any]], fetched: list[pq.abc.PGresult]
    ) -> list[list[tuple[Any, ...]]]:
        rows: list[list[tuple[Any, ...]]] = []
        failure: Failed | None = None
        for (kind, what), result in zip(queued, fetched, strict=True):
            if result.status not in _OK:
                if failure is None and result.status == pq.ExecStatus.FATAL_ERROR:
                    failure = self._failed(result, what)
                continue
            if kind == "prepare":
                self._prepared.add(what.name)
                self._fresh.add(what.name)
            elif kind == "rows":
                rows.append(self._load(result))
        if failure is not None:
            raise failure
        return rows

    def _load(self, result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
        if not result.nfields:
            return []
        self._tx.set_pgresult(result)
        row = _row_type(tuple((result.fname(i) or b"").decode() for i in range(result.nfields)))
        return self._tx.load_rows(0, result.ntuples, lambda values: row(*values))

    def _failed(self, result: pq.abc.PGresult, what: Any) -> Failed:
        field = pq.DiagnosticField
        sqlstate = (result.error_field(field.SQLSTATE) or b"").decode() or None
        constraint = (result.error_field(field.CONSTRAINT_NAME) or b"").decode() or None
        message = (result.error_message or b"").decode(errors="replace").strip()
        cls = _error_class(sqlstate)
        orig = cls(message, info=result, encoding=self._driver.info.encoding)
        statement = what.sql.decode() if isinstance(what, Compiled) else what.decode()
        error = DBAPIError.instance(statement, None, orig, psycopg.Error, dialect=self._dialect)
        assert isinstance(error, DBAPIError)  # wrapping a DB-API error
        return Failed(error, sqlstate, constraint)

    def _lost(self, error: psycopg.Error) -> DBAPIError:
        lost = self._pg.status != pq.ConnStatus.OK or self._dialect.is_disconnect(
            cast(Any, error), None, None
        )
        if lost:
            self._connection.invalidate(error)
        wrapped = DBAPIError.instance(
            "(hot path)", None, error, psycopg.Error, connection_invalidated=lost, dialect=self._dialect
        )
        assert isinstance(wrapped, DBAPIError)
        return wrapped

    def _results(self) -> pq.abc.PGresult:
        """The one result of a queued command (each is followed by a NULL)."""
        result = self._result()
        assert result is not None
        self.answered += 1
        while self._result() is not None:  # pragma: no cover - one statement, one result
            pass
        return result

    def _result(self) -> pq.abc.PGresult | None:
        while self._pg.is_busy():
            self._wait(write=False)
            self._pg.consume_input()
        return self._pg.get_result()

    def _wait(self, *, write: bool) -> None:
        fd = self._pg.socket
        if self._async:
            await_only(_ready(fd, write))
        elif write:
            select.select([], [fd], [])
        else:
            select.select([fd], [], [])


@cache
def _row_type(fields: tuple[str, ...]) -> Any:
    return namedtuple("HotRow", fields)  # rows read by name, as SQLAlchemy's


async def _ready(fd: int, write: bool) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if write:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)
