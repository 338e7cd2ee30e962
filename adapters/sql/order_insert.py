"""Storing a new order: on PostgreSQL its row, its lines and its first status change in one statement
(INSERTs in WITH), one round trip instead of three; where the database cannot (SQLite), the same three
inserts one after the other.

Parameters of the one statement, as `insert_order_parameters` names them: `o_<column>` for the order's
columns, `l<i>_<column>` for line i's and `s<i>_<column>` for status change i's (i from 0; no id, no
order_id: the database gives those; status changes go to the `order_events` table). Built once per number
of lines and status changes. `with_ids`: the order's and its lines' ids are given too (`o_id`, `l<i>_id`:
reserved from their sequences by the hot path, adapters/sql/placement.py)."""

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, union_all

from adapters.sql import mapping
from adapters.sql.tables import order_events, order_lines, orders
from domain.orders import Order

INSERT_ORDER = insert(orders).returning(orders.c.id)
INSERT_LINES = insert(order_lines).returning(order_lines.c.id, sort_by_parameter_order=True)
INSERT_STATUS_CHANGES = insert(order_events)


def _columns(table: Any, *skip: str, with_id: bool = False) -> list[Any]:
    return [c for c in table.c if c.name not in (*(() if with_id else ("id",)), *skip)]


@cache
def insert_order_statement(lines: int, status_changes: int, with_ids: bool = False) -> Select[Any]:
    new_order = (
        insert(orders)
        .values({c.name: bindparam(f"o_{c.name}", type_=c.type) for c in _columns(orders, with_id=with_ids)})
        .returning(orders.c.id)
        .cte("new_order")
    )

    def children(table: Any, prefix: str, count: int, with_id: bool = False) -> Any:
        """INSERT ... SELECT of `count` rows of bound values, each with the new order's id. (UNION ALL, not
        VALUES: SQLAlchemy cannot cache a statement holding a VALUES clause, and would compile it anew for
        every order.)"""
        cols = _columns(table, "order_id", with_id=with_id)
        rows = [
            select(new_order.c.id, *(bindparam(f"{prefix}{i}_{c.name}", type_=c.type) for c in cols))
            for i in range(count)
        ]
        return insert(table).from_select(["order_id", *(c.name for c in cols)], union_all(*rows))

    new_lines = (
        children(order_lines, "l", lines, with_ids)
        .returning(order_lines.c.order_id, order_lines.c.id, order_lines.c.product_id)
        .cte("new_lines")
    )
    statement = select(new_lines)
    if not status_changes:
        return statement
    return statement.add_cte(children(order_events, "s", status_changes).cte("new_status_changes"))


def insert_order_parameters(order: Order, with_ids: bool = False) -> dict[str, Any]:
    parameters = {f"o_{name}": value for name, value in mapping.values(orders, order).items()}
    if with_ids:
        parameters["o_id"] = order.id
        parameters.update({f"l{i}_id": line.id for i, line in enumerate(order.lines)})
    for prefix, table, children in (
        ("l", order_lines, order.lines),
        ("s", order_events, order.new_status_changes),
    ):
        names = [c.name for c in _columns(table, "order_id")]
        for i, child in enumerate(children):
            row = mapping.values(table, child)
            parameters.update({f"{prefix}{i}_{name}": row[name] for name in names})
    return parameters
