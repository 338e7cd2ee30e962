"""What every SQL repository shares: the transaction it runs on, unique-key errors, versions, pages."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select, tuple_
from sqlalchemy.exc import IntegrityError

from adapters.sql.transaction import OnDemandTransaction
from application.lists import Page, Window
from application.paging import Ordering, page_of
from application.ports import DuplicateKey

T = TypeVar("T")


def is_unique_violation(error: IntegrityError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "23505" or "UNIQUE constraint failed" in str(error.orig)


def sorted_by(columns: Sequence[Any], descending: bool) -> list[Any]:
    return [c.desc() for c in columns] if descending else list(columns)


def after_position(columns: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows after the position bound as `after_0`, `after_1`, ... in the order of `columns`, as one row-value
    comparison, which an index on those columns serves (PostgreSQL and SQLite alike)."""
    position = tuple_(*(bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(columns)))
    return tuple_(*columns) < position if descending else tuple_(*columns) > position


def within(column: Any, start: Any | None, end: Any | None) -> list[ColumnElement[bool]]:
    """`start <= column <= end`, either bound optional: the lists' inclusive `created_from` / `created_to`."""
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def window_parameters(window: Window) -> dict[str, Any]:
    """`limit` is one more than asked: the extra row only says whether a next page exists."""
    after = {f"after_{i}": v for i, v in enumerate(window.after)} if window.after is not None else {}
    return {"limit": window.limit + 1, "offset": window.offset} | after


class SqlRepository:
    def __init__(self, tx: OnDemandTransaction) -> None:
        self.tx = tx

    def _write(self, statement: Any, what: str) -> Any:
        """Execute an insert/update; a unique-key violation becomes DuplicateKey."""
        try:
            return self.tx.execute(statement)
        except IntegrityError as error:
            if is_unique_violation(error):
                raise DuplicateKey(what) from None
            raise

    def _version(self, table: Any, entity_id: int | None) -> int:
        """The version the row holds now, for a StaleVersion error."""
        version: int = self.tx.execute(select(table.c.version).where(table.c.id == entity_id)).scalar_one()
        return version

    def _count(self, query: Select[Any]) -> int:
        return int(self.tx.execute(select(func.count()).select_from(query.subquery())).scalar_one())

    def _page(
        self,
        query: Select[Any],
        columns: Sequence[Any],
        ordering: Ordering[T],
        window: Window,
        load: Callable[[Any], T],
        total: int,
    ) -> Page[T]:
        """One page of `query` sorted by `columns` (the storage's spelling of `ordering`)."""
        if window.after is not None:
            query = query.where(after_position(columns, ordering.descending))
        query = (
            query.order_by(*sorted_by(columns, ordering.descending))
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        rows = self.tx.execute(query, window_parameters(window))
        return page_of([load(r) for r in rows], total, window, ordering)
