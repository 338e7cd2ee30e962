"""Returns, their lines and the refunds of orders in SQL (issue 28)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.events import Outbox
from adapters.sql.tables import order_refunds, return_lines, returns
from adapters.sql.transaction import OnDemandTransaction
from application.ports import StaleVersion
from domain.refunds import OrderRefund
from domain.returns import Return, ReturnLine, ReturnState

_BY_ID = select(returns).where(returns.c.id == bindparam("id"))
_OF_ORDER = select(returns).where(returns.c.order_id == bindparam("order_id")).order_by(returns.c.id)
_LINES = (
    select(return_lines)
    .where(return_lines.c.return_id.in_(bindparam("ids", expanding=True)))
    .order_by(return_lines.c.id)
)
_INSERT_LINES = insert(return_lines).returning(return_lines.c.id, sort_by_parameter_order=True)
_REFUNDS_OF_ORDER = (
    select(order_refunds)
    .where(order_refunds.c.order_id == bindparam("order_id"))
    .order_by(order_refunds.c.id)
)
_CHANGING = (
    "status",
    "refunded_cents",
    "decided_by",
    "decided_at",
    "rejection_reason",
    "version",
    "updated_at",
)


class SqlReturnRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        self._seen = outbox.seen  # the returns this unit adds, loads and saves, whose events it collects

    def add(self, ret: Return) -> None:
        ret.id = self.tx.execute(
            insert(returns).values(mapping.values(returns, ret)).returning(returns.c.id)
        ).scalar_one()
        rows = [mapping.values(return_lines, line, return_id=ret.id) for line in ret.lines]
        for line, line_id in zip(ret.lines, self.tx.execute(_INSERT_LINES, rows).scalars(), strict=True):
            line.id = line_id
        self._seen.add(ret)

    def get(self, return_id: int, *, for_update: bool = False) -> Return | None:
        query = _BY_ID.with_for_update() if for_update else _BY_ID
        row = self.tx.execute(query, {"id": return_id}, locks=for_update).first()
        if row is None:
            return None
        found = self._with_lines([row])[0]
        self._seen.add(found)
        return found

    def for_order(self, order_id: int) -> builtins.list[Return]:
        return self._with_lines(list(self.tx.execute(_OF_ORDER, {"order_id": order_id})))

    def save(self, ret: Return) -> None:
        row = mapping.values(returns, ret)
        updated = self.tx.execute(
            update(returns)
            .where(returns.c.id == ret.id, returns.c.version == ret.version - 1)
            .values({k: row[k] for k in _CHANGING})
        )
        if updated.rowcount == 0:
            raise StaleVersion(self._version(returns, ret.id))
        self._seen.add(ret)

    def _with_lines(self, rows: Sequence[Any]) -> list[Return]:
        """The returns of these rows, each with its lines, in one read for all of them."""
        found = [mapping.from_row(Return, r) for r in rows]
        if not found:
            return found
        grouped: dict[int, list[ReturnLine]] = {}
        for r in self.tx.execute(_LINES, {"ids": [ret.id for ret in found]}):
            grouped.setdefault(r.return_id, []).append(mapping.from_row(ReturnLine, r))
        for ret in found:
            ret.status = ReturnState(ret.status)
            ret.lines = grouped.get(ret.id or 0, [])
        return found


class SqlOrderRefundRepository(SqlRepository):
    def add(self, refund: OrderRefund) -> None:
        statement = insert(order_refunds).values(mapping.values(order_refunds, refund))
        refund.id = self._write(
            statement.returning(order_refunds.c.id), "order_refunds.reference"
        ).scalar_one()

    def for_order(self, order_id: int) -> builtins.list[OrderRefund]:
        rows = self.tx.execute(_REFUNDS_OF_ORDER, {"order_id": order_id})
        return [mapping.from_row(OrderRefund, r) for r in rows]
