"""Orders, their lines and their status history (the `order_events` table) in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update

from adapters.sql import mapping, sales
from adapters.sql.base import SqlRepository, within
from adapters.sql.events import Outbox
from adapters.sql.order_insert import (
    INSERT_LINES,
    INSERT_ORDER,
    INSERT_STATUS_CHANGES,
    insert_order_parameters,
    insert_order_statement,
)
from adapters.sql.tables import order_events, order_lines, order_totals, orders
from adapters.sql.transaction import OnDemandTransaction
from application import paging
from application.lists import OrderFilter, Page, Window
from application.ports import CustomerTotals, OrderStats, Spender, StaleVersion, TimeRange
from domain.money import money
from domain.orders import Order, OrderLine, OrderStatus, StatusChange

# Totals kept by triggers (migration 0004), spread over slots so concurrent orders do not queue on one row.
_TOTALS_BY_STATUS = select(
    order_totals.c.status,
    func.sum(order_totals.c.orders),
    func.sum(order_totals.c.revenue_cents),
    func.sum(order_totals.c.refunded_revenue_cents),
).group_by(order_totals.c.status)
_KEPT_TOTAL = select(func.coalesce(func.sum(order_totals.c.orders), 0))
_ORDER_BY_ID = select(orders).where(orders.c.id == bindparam("id"))
# Oldest pending orders first, on ix_orders_status_created_id; those another transaction holds (a cancel,
# a confirm, another runner) are skipped rather than waited for. Those holding money are left out: the
# order refuses to expire then (domain.orders), and they must not fill every batch.
_EXPIRING = (
    select(orders)
    .where(
        orders.c.status == OrderStatus.PENDING.value,
        orders.c.created_at < bindparam("cutoff"),
        orders.c.captured_cents == orders.c.refunded_cents,
        orders.c.authorized_cents == orders.c.captured_cents,
    )
    .order_by(orders.c.created_at, orders.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# The lines a fulfilment, its cancellation or a return moved (Order.changed_lines), one statement for all.
_MOVE_LINES = (
    update(order_lines)
    .where(order_lines.c.id == bindparam("line_id"))
    .values(quantity_shipped=bindparam("shipped"), quantity_returned=bindparam("returned"))
)
_LINES_OF_ORDERS = (
    select(order_lines)
    .where(order_lines.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(order_lines.c.id)
)


class SqlOrderRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        self._seen = outbox.seen  # the orders this unit adds, loads and saves, whose events it collects

    def expect_placement(self, product_ids: Sequence[int]) -> None:
        self.tx.announce_placement(list(product_ids))

    def add(self, order: Order) -> None:
        self._seen.add(order)
        if self._add_with_the_commit(order):
            return
        if self.tx.dialect_name == "postgresql":
            self._add_in_one_statement(order)
            return
        order.id = self.tx.execute(INSERT_ORDER, mapping.values(orders, order)).scalar_one()
        line_ids = self.tx.execute(
            INSERT_LINES, [mapping.values(order_lines, line, order_id=order.id) for line in order.lines]
        ).scalars()
        for line, line_id in zip(order.lines, line_ids, strict=True):
            line.id = line_id
        self._store_status_changes(order)

    def _add_with_the_commit(self, order: Order) -> bool:
        """An announced placement on PostgreSQL: the ids reserved by the read half, the statement sent
        with the COMMIT (adapters/sql/placement.py)."""
        placement = self.tx.placement
        ids = placement.take_ids(len(order.lines)) if placement is not None and self.tx.begun else None
        if ids is None:
            return False
        order.id = ids[0]
        for line, line_id in zip(order.lines, ids[1], strict=True):
            line.id = line_id
        statement = insert_order_statement(len(order.lines), len(order.new_status_changes), with_ids=True)
        self.tx.queue(statement, insert_order_parameters(order, with_ids=True))
        order.new_status_changes.clear()
        return True

    def _add_in_one_statement(self, order: Order) -> None:
        statement = insert_order_statement(len(order.lines), len(order.new_status_changes))
        rows = self.tx.execute(statement, insert_order_parameters(order)).all()
        line_ids = {product_id: line_id for _, line_id, product_id in rows}  # one line per product
        order.id = rows[0].order_id
        for line in order.lines:
            line.id = line_ids[line.product_id]
        order.new_status_changes.clear()

    def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        query = _ORDER_BY_ID.with_for_update() if for_update else _ORDER_BY_ID
        row = self.tx.execute(query, {"id": order_id}, locks=for_update).first()
        if row is None:
            return None
        order = mapping.order_from_row(row, self._lines([order_id]).get(order_id, []))
        self._seen.add(order)
        return order

    def list(self, filters: OrderFilter, window: Window) -> Page[Order]:
        query = select(orders).where(*self._conditions(filters))
        columns = [orders.c.created_at, orders.c.id]
        total = self._total(filters, query)
        page = self._page(
            query, columns, paging.ORDERS, window, lambda r: mapping.order_from_row(r, []), total
        )
        lines = self._lines([o.id for o in page.items if o.id is not None])
        for order in page.items:
            order.lines = lines.get(order.id or 0, [])
        return page

    def status_history(self, order_id: int) -> builtins.list[StatusChange]:
        rows = self.tx.execute(
            select(order_events).where(order_events.c.order_id == order_id).order_by(order_events.c.id)
        )
        return [mapping.status_change_from_row(r) for r in rows]

    def save(self, order: Order) -> None:
        updated = self.tx.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.version == order.version - 1)
            .values(
                status=order.status.value,
                version=order.version,
                updated_at=order.updated_at,
                shipping_address=mapping.to_db(order.shipping_address),  # it may have been replaced
                authorized_cents=mapping.cents(order.authorized),
                captured_cents=mapping.cents(order.captured),
                refunded_cents=mapping.cents(order.refunded),
            )
        )
        if updated.rowcount == 0:
            raise StaleVersion(self._version(orders, order.id))
        self._seen.add(order)
        self._store_status_changes(order)
        self._store_changed_lines(order)

    def stats(self) -> OrderStats:
        by_status = {status: 0 for status in OrderStatus}
        revenue_cents = refunded_cents = 0
        for status, count, cents, refunded in self.tx.execute(_TOTALS_BY_STATUS):
            by_status[OrderStatus(status)] = count
            if status != OrderStatus.CANCELLED:
                revenue_cents += cents
                refunded_cents += refunded
        return OrderStats(
            sum(by_status.values()),
            money(Decimal(revenue_cents) / 100),
            by_status,
            money(Decimal(refunded_cents) / 100),
        )

    def sales(self, ranges: Sequence[TimeRange]) -> builtins.list[OrderStats]:
        rows = self.tx.execute(sales.sales_statement(ranges)).all()
        return sales.sales_from_rows(len(ranges), rows)

    def customer_totals(self, user_id: int) -> CustomerTotals:
        return sales.customer_totals_from_row(
            self.tx.execute(sales.customer_totals_statement(user_id)).first()
        )

    def top_spenders(self, limit: int, period: TimeRange) -> builtins.list[Spender]:
        return sales.spenders_from_rows(self.tx.execute(self._spenders_statement(limit, period)).all())

    def _spenders_statement(self, limit: int, period: TimeRange) -> Select[Any]:
        """The kept recent ranking when `period` is exactly its window, else the period's days."""
        if period.start is not None and period.end is None:
            window = self.tx.execute(sales.WINDOW).one()
            if sales.holds_recent_window(period, sales.window_start(window)):
                return sales.recent_spenders_statement(limit)
        return sales.top_spenders_statement(limit, period)

    def roll_recent_window(self, now: datetime) -> None:
        """Locked for update once there is a day to let go: a change to an old order waits for it (the
        triggers take the row for share). Read again under the lock: another runner may have moved it."""
        for locks in (False, True):
            window = self.tx.execute(
                sales.WINDOW.with_for_update() if locks else sales.WINDOW, locks=locks
            ).one()
            target = sales.window_target(now, int(window.days))
            if target <= int(window.first_day):
                return
        for statement in sales.roll_window_statements(int(window.first_day), target):
            self.tx.execute(statement)

    def pending_before(self, cutoff: datetime, limit: int) -> builtins.list[Order]:
        rows = self.tx.execute(_EXPIRING, {"cutoff": cutoff, "limit": limit}, locks=True).all()
        lines = self._lines([r.id for r in rows])
        expiring = [mapping.order_from_row(r, lines.get(r.id, [])) for r in rows]
        self._seen.add(*expiring)
        return expiring

    def _total(self, filters: OrderFilter, query: Select[Any]) -> int:
        """Every order, or one status: from the kept totals. A customer's orders or a time range: counted
        on an index bounded by the customer or the range, not by the shop's whole history."""
        if filters.user_id is None and filters.created_from is None and filters.created_to is None:
            kept = _KEPT_TOTAL
            if filters.status is not None:
                kept = kept.where(order_totals.c.status == filters.status.value)
            return int(self.tx.execute(kept).scalar_one())
        return self._count(query)

    def _lines(self, order_ids: Sequence[int]) -> dict[int, builtins.list[OrderLine]]:
        if not order_ids:
            return {}
        rows = self.tx.execute(_LINES_OF_ORDERS, {"ids": list(order_ids)})
        grouped: dict[int, list[OrderLine]] = {}
        for r in rows:
            grouped.setdefault(r.order_id, []).append(mapping.from_row(OrderLine, r))
        return grouped

    def _store_changed_lines(self, order: Order) -> None:
        if order.changed_lines:
            rows = [
                {"line_id": line.id, "shipped": line.quantity_shipped, "returned": line.quantity_returned}
                for line in order.changed_lines
            ]
            self.tx.execute(_MOVE_LINES, rows)
            order.changed_lines.clear()

    def _store_status_changes(self, order: Order) -> None:
        assert order.id is not None
        if order.new_status_changes:
            rows = [mapping.values(order_events, c, order_id=order.id) for c in order.new_status_changes]
            self.tx.execute(INSERT_STATUS_CHANGES, rows)
            order.new_status_changes.clear()

    @staticmethod
    def _conditions(f: OrderFilter) -> builtins.list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.user_id is not None:
            conditions.append(orders.c.user_id == f.user_id)
        if f.status is not None:
            conditions.append(orders.c.status == f.status.value)
        return conditions + within(orders.c.created_at, f.created_from, f.created_to)
