"""Placing an order on PostgreSQL in two round trips (adapters/sql/hot_path.py sends each in one write).

A unit that announces the order (`OrderRepository.expect_placement`) sends, with its first read (the
caller), `BEGIN`, the products `FOR UPDATE` in id order, and the reservation of the order's id and its
lines' ids from their sequences: the read half. The domain then decides from the rows it locked, as on
the portable path. The order's `WITH` statement (order_insert.py, with the reserved ids) and the stock
statement (stock_moves.py, with the ledger rows and the outbox's events, presented with those ids) wait,
and go with the `COMMIT`: the write half.

The stock `UPDATE` of the write half has no `WHERE` guard: its result cannot be looked at before the
`COMMIT` it travels with. The `stock_non_negative` CHECK constraint takes the guard's place: a stock the
locked rows did not hold fails the statement, the pipeline skips the `COMMIT`, the unit rolls back and the
products repository answers `InsufficientStock` as before (`Placement.refusal`)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Connection, Executable, Integer, bindparam, select, text

from adapters.sql.hot_path import Failed
from adapters.sql.tables import products

_RESERVE = text(
    "SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS order_id, "
    "ARRAY(SELECT nextval(pg_get_serial_sequence('order_lines', 'id')) FROM generate_series(1, :lines)) "
    "AS line_ids"
).bindparams(bindparam("lines", type_=Integer))
STOCK_CONSTRAINT = "stock_non_negative"


@dataclass(slots=True)
class Placement:
    product_ids: tuple[int, ...]  # sorted, distinct
    locked: list[Any] | None = None  # the products' rows, locked
    stock: dict[int, int] = field(default_factory=dict)  # their stock when locked
    order_id: int | None = None
    line_ids: list[int] = field(default_factory=list)
    queued: list[tuple[Executable, dict[str, Any]]] = field(default_factory=list)
    refusal: Callable[[], None] | None = None  # raises the domain's error for a refused stock move

    def refused(self, failed: Failed) -> None:
        if self.refusal is not None and (failed.constraint or "").endswith(STOCK_CONSTRAINT):
            self.refusal()

    def take_ids(self, lines: int) -> tuple[int, list[int]] | None:
        """The reserved ids for an order of `lines` lines, once; None: insert as usual."""
        if self.order_id is None or lines > len(self.line_ids):
            return None
        ids = (self.order_id, self.line_ids[:lines])
        self.order_id, self.line_ids = None, []
        return ids

    def take_locked(self, product_ids: list[int]) -> list[Any] | None:
        """The rows locked ahead, if these are the products announced; once."""
        if self.locked is None or tuple(sorted(set(product_ids))) != self.product_ids:
            return None
        rows, self.locked = self.locked, None
        return rows


# An engine's execution option that keeps the portable path (tracing does: a span per SQL statement).
PORTABLE_ONLY = "shop_portable_only"


def supported(connection: Connection) -> bool:
    dialect = connection.dialect
    portable = connection.get_execution_options().get(PORTABLE_ONLY, False)
    return dialect.name == "postgresql" and dialect.driver == "psycopg" and not portable


@cache
def lock_statement(count: int) -> Executable:
    """`get_many(..., for_update=True)`'s statement for `count` ids, bound one by one (`p<i>`)."""
    ids = [bindparam(f"p{i}", type_=Integer) for i in range(count)]
    return select(products).where(products.c.id.in_(ids)).order_by(products.c.id).with_for_update()


def read_half(
    placement: Placement, first: Executable | None, parameters: dict[str, Any]
) -> list[tuple[Executable, dict[str, Any]]]:
    ids = placement.product_ids
    lock = (lock_statement(len(ids)), {f"p{i}": product_id for i, product_id in enumerate(ids)})
    reserve = (_RESERVE, {"lines": len(ids)})
    return [*([(first, parameters)] if first is not None else []), lock, reserve]


def took(placement: Placement, with_first: bool, rows: list[list[Any]]) -> list[Any]:
    """Keeps the locked rows and the reserved ids; the first read's rows."""
    first = rows[0] if with_first else []
    locked, reserved = rows[-2], rows[-1][0]
    placement.locked = locked
    placement.stock = {row.id: row.stock_quantity for row in locked}
    placement.order_id, placement.line_ids = reserved.order_id, list(reserved.line_ids)
    return first
