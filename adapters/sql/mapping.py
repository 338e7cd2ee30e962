"""Rows <-> entities, in one place. Rows never leave the adapter.

Columns and entity fields share their names, so one pair of generic functions does the copying; only what
the database hands back differently is converted (naive SQLite times, unquantized numerics, status text).
An amount field `x` (a Decimal) kept in whole cents, exact on SQLite too, is the column `x_cents`."""

from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table

from domain.addresses import FIELDS as ADDRESS_FIELDS
from domain.addresses import Address, SavedAddress
from domain.money import money
from domain.orders import Order, OrderLine, OrderStatus, StatusChange

E = TypeVar("E")
CENTS = "_cents"


def utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _from_db(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, Decimal | float):
        return money(value)
    return value


def from_row(entity: type[E], row: Any, **extra: Any) -> E:
    """Build `entity` from the row's columns of the same names (and its amounts from their `_cents`)."""
    kind: type = entity  # mypy does not see that a type[E] is hashable, as the cache needs
    wanted, in_cents = _wanted(kind, row._fields)
    values = {name: _from_db(value) for name, value in zip(row._fields, row, strict=True) if name in wanted}
    if in_cents:
        values.update({field: from_cents(getattr(row, column)) for column, field in in_cents})
    return entity(**values, **extra)


@cache
def _wanted(entity: type, columns: tuple[str, ...]) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The columns that are fields of `entity`, and the (column, field) pairs of its amounts in cents:
    worked out once per entity and column list, not per row."""
    names = frozenset(f.name for f in fields(entity))
    in_cents = tuple(
        (c, c[: -len(CENTS)]) for c in columns if c.endswith(CENTS) and c[: -len(CENTS)] in names
    )
    return names & frozenset(columns), in_cents


def cents(amount: Decimal) -> int:
    return int(money(amount) * 100)


def from_cents(value: int) -> Decimal:
    return money(Decimal(value) / 100)


def values(table: Table, entity: Any, **extra: Any) -> dict[str, Any]:
    """The entity's fields that are columns of `table` (its amounts in cents), ready to write; the id is the
    database's."""
    row = {c.name: getattr(entity, c.name) for c in table.c if c.name != "id" and hasattr(entity, c.name)}
    for c in table.c:
        if c.name.endswith(CENTS) and hasattr(entity, c.name[: -len(CENTS)]):
            row[c.name] = cents(getattr(entity, c.name[: -len(CENTS)]))
    row.update(extra)
    return {k: to_db(v) for k, v in row.items()}


def to_db(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value.as_dict() if isinstance(value, Address) else value


def address_from_json(value: dict[str, Any] | None) -> Address | None:
    """An order's copy: the JSON holds exactly the fields of an Address."""
    return None if value is None else Address(**value)


def order_from_row(row: Any, lines: list[OrderLine]) -> Order:
    order = from_row(Order, row, lines=lines)
    order.status = OrderStatus(order.status)
    order.shipping_address = address_from_json(row.shipping_address)
    order.billing_address = address_from_json(row.billing_address)
    return order


def saved_address_from_row(row: Any) -> SavedAddress:
    """A book entry: its address is in flat columns of the same names."""
    return from_row(
        SavedAddress, row, address=Address(**{name: row._mapping[name] for name in ADDRESS_FIELDS})
    )


def saved_address_values(entry: SavedAddress) -> dict[str, Any]:
    return {
        **entry.address.as_dict(),
        "user_id": entry.user_id,
        "is_default_shipping": entry.is_default_shipping,
        "is_default_billing": entry.is_default_billing,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }


def status_change_from_row(row: Any) -> StatusChange:
    change = from_row(StatusChange, row)
    change.to_status = OrderStatus(change.to_status)
    change.from_status = OrderStatus(change.from_status) if change.from_status else None
    return change
