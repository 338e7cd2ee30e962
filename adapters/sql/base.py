"""What every SQL repository shares: the transaction it runs on, unique-key errors, versions, pages."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from adapters.sql.transaction import OnDemandTransaction
from application.ports import DuplicateKey


def is_unique_violation(error: IntegrityError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "23505" or "UNIQUE constraint failed" in str(error.orig)


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
        return self.tx.execute(select(table.c.version).where(table.c.id == entity_id)).scalar_one()

    def _page(
        self, query: Select[Any], order_by: Sequence[Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        total = self.tx.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.tx.execute(query.order_by(*order_by).limit(limit).offset(offset)).all()
        return list(rows), total
