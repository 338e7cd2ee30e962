"""Stock movements stored: each product's stock moved by its delta (one UPDATE, a CASE per product) and the
movements written to the ledger. On PostgreSQL both in one statement (the UPDATE in WITH; a movement row
is written only for a product the UPDATE moved), where SQLite needs two. On PostgreSQL the
statement also carries the events raised so far in the unit (adapters.sql.events.Outbox). Built once per
number of movements and events.

Parameters: `id<i>` and `delta<i>` for product i, `m<i>_<column>` for its movement (i from 0), and `at`.
The UPDATE's WHERE keeps every result at or above zero: the database's safety net behind the products'
own check on rows locked for update; fewer rows than movements means it refused one. Without it
(`guarded=False`, the hot path's, adapters/sql/placement.py) the `stock_non_negative` CHECK constraint
refuses a stock below zero by failing the statement."""

from functools import cache
from typing import Any

from sqlalchemy import DateTime, Insert, Integer, Update, bindparam, case, insert, select, union_all, update

from adapters.sql import mapping
from adapters.sql.events import insert_events_statement
from adapters.sql.tables import products, stock_movements
from domain.stock import StockMovement

LEDGER_COLUMNS = [c for c in stock_movements.c if c.name != "id"]
INSERT_MOVEMENTS = insert(stock_movements)


@cache
def move_stock_statement(count: int, guarded: bool = True) -> Update:
    ids = [bindparam(f"id{i}", type_=Integer) for i in range(count)]
    delta = case(*((products.c.id == ids[i], bindparam(f"delta{i}", type_=Integer)) for i in range(count)))
    guard = [products.c.stock_quantity + delta >= 0] if guarded else []
    return (
        update(products)
        .where(products.c.id.in_(ids), *guard)
        .values(
            stock_quantity=products.c.stock_quantity + delta,
            version=products.c.version + 1,
            updated_at=bindparam("at", type_=DateTime(timezone=True)),
        )
    )


@cache
def move_and_record_statement(count: int, events: int = 0, guarded: bool = True) -> Insert:
    """PostgreSQL: the UPDATE in WITH, then the movements of the products it moved; RETURNING their ids.
    With `events`, the outbox's rows too (adapters.sql.events.Outbox), in another WITH."""
    moved = move_stock_statement(count, guarded).returning(products.c.id).cte("moved")
    rows = union_all(
        *(
            select(*(bindparam(f"m{i}_{c.name}", type_=c.type).label(c.name) for c in LEDGER_COLUMNS))
            for i in range(count)
        )
    ).subquery("movement")
    recorded = select(rows).where(rows.c.product_id.in_(select(moved.c.id)))
    statement = (
        insert(stock_movements)
        .from_select([c.name for c in LEDGER_COLUMNS], recorded)
        .returning(stock_movements.c.id)
        .add_cte(moved)
    )
    return statement.add_cte(insert_events_statement(events).cte("outbox")) if events else statement


def move_parameters(movements: list[StockMovement]) -> dict[str, Any]:
    parameters: dict[str, Any] = {"at": movements[0].created_at}
    for i, movement in enumerate(movements):
        parameters[f"id{i}"], parameters[f"delta{i}"] = movement.product_id, movement.delta
        row = ledger_row(movement)
        parameters.update({f"m{i}_{name}": value for name, value in row.items()})
    return parameters


def ledger_row(movement: StockMovement) -> dict[str, Any]:
    return mapping.values(stock_movements, movement)
