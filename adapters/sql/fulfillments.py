"""Fulfilments and their lines in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import bindparam, insert, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.events import Outbox
from adapters.sql.tables import fulfillment_lines, fulfillments
from adapters.sql.transaction import OnDemandTransaction
from application.ports import StaleVersion
from domain.fulfillments import Fulfillment, FulfillmentLine, FulfillmentState

_BY_ID = select(fulfillments).where(fulfillments.c.id == bindparam("id"))
_OF_ORDER = (
    select(fulfillments).where(fulfillments.c.order_id == bindparam("order_id")).order_by(fulfillments.c.id)
)
_LINES = (
    select(fulfillment_lines)
    .where(fulfillment_lines.c.fulfillment_id.in_(bindparam("ids", expanding=True)))
    .order_by(fulfillment_lines.c.id)
)
_INSERT = insert(fulfillments).returning(fulfillments.c.id)
_INSERT_LINES = insert(fulfillment_lines)
_SAVE = (
    update(fulfillments)
    .where(fulfillments.c.id == bindparam("fulfillment_id"), fulfillments.c.version == bindparam("was"))
    .values(
        status=bindparam("status"),
        cancelled_at=bindparam("cancelled_at"),
        cancelled_by=bindparam("cancelled_by"),
        version=bindparam("version"),
        updated_at=bindparam("updated_at"),
    )
)


class SqlFulfillmentRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        self._seen = outbox.seen  # the fulfilments this unit adds, loads and saves, whose events it collects

    def add(self, fulfillment: Fulfillment) -> None:
        fulfillment.id = self.tx.execute(_INSERT, mapping.values(fulfillments, fulfillment)).scalar_one()
        self.tx.execute(
            _INSERT_LINES,
            [
                {
                    "fulfillment_id": fulfillment.id,
                    "order_line_id": line.order_line_id,
                    "quantity": line.quantity,
                }
                for line in fulfillment.lines
            ],
        )
        self._seen.add(fulfillment)

    def get(self, fulfillment_id: int, *, for_update: bool = False) -> Fulfillment | None:
        query = _BY_ID.with_for_update() if for_update else _BY_ID
        row = self.tx.execute(query, {"id": fulfillment_id}, locks=for_update).first()
        if row is None:
            return None
        [fulfillment] = self._loaded([row])
        self._seen.add(fulfillment)
        return fulfillment

    def save(self, fulfillment: Fulfillment) -> None:
        updated = self.tx.execute(
            _SAVE,
            {
                "fulfillment_id": fulfillment.id,
                "was": fulfillment.version - 1,
                "status": fulfillment.status.value,
                "cancelled_at": fulfillment.cancelled_at,
                "cancelled_by": fulfillment.cancelled_by,
                "version": fulfillment.version,
                "updated_at": fulfillment.updated_at,
            },
        )
        if updated.rowcount == 0:
            raise StaleVersion(self._version(fulfillments, fulfillment.id))
        self._seen.add(fulfillment)

    def for_order(self, order_id: int) -> builtins.list[Fulfillment]:
        return self._loaded(list(self.tx.execute(_OF_ORDER, {"order_id": order_id})))

    def _loaded(self, rows: Sequence[object]) -> builtins.list[Fulfillment]:
        """The fulfilments of these rows, each with its lines, read in one statement for all of them."""
        found = [mapping.from_row(Fulfillment, r, lines=[]) for r in rows]
        if not found:
            return found
        by_id = {f.id: f for f in found}
        for f in found:
            f.status = FulfillmentState(f.status)
        for r in self.tx.execute(_LINES, {"ids": list(by_id)}):
            by_id[r.fulfillment_id].lines.append(FulfillmentLine(r.order_line_id, r.quantity))
        return found
