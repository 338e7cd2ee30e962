"""The outbox in SQL, and the event feed read from it.

Commit order, not id order: a transaction that drew id 100 may commit after id 101 was read, and a reader
past 101 would never see 100. On PostgreSQL each event keeps the transaction that wrote it (`txid`), the
feed runs in (txid, id) order, and it serves only events of transactions older than every transaction
still running (`pg_snapshot_xmin`): those have all ended, so nothing can commit behind a reader (the
technique of PgQ). A long transaction holds the feed back while it runs; it does not lose events. SQLite
serialises its writers, so there ids are in commit order already."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Insert,
    Integer,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
    union_all,
)

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import events
from adapters.sql.transaction import OnDemandTransaction
from application.event_ports import Presenter
from application.lists import EventFilter
from application.seen import SeenAggregates
from domain.events import DomainEvent, Event, EventType, ResourceType

_WRITTEN = ("type", "resource_type", "resource_id", "actor_id", "created_at", "payload")
# Rows per INSERT when the outbox is written on its own (`SqlEventRepository.flush`): a bulk change (1,000
# deactivations) takes a few statements, not one per event, and SQLite, which refuses a compound SELECT of
# more than 500 terms, takes them too; and `insert_events_statement` caches at most this many shapes.
MAX_EVENTS_PER_STATEMENT = 250


@cache
def insert_events_statement(count: int) -> Insert:
    """One INSERT ... SELECT of `count` events (parameters `e<i>_<column>`, and `e<i>_ordinal`). Each is
    numbered on from its resource's newest stored event, plus its ordinal (1, 2, ...) among the events of
    that resource in the batch: in one statement every row sees the same stored events, whatever the
    driver does with many rows."""

    def row(i: int) -> Select[Any]:
        def p(name: str) -> Any:
            return bindparam(f"e{i}_{name}", type_=events.c[name].type if name in events.c else Integer)

        newest = (
            select(func.coalesce(func.max(events.c.sequence), 0))
            .where(events.c.resource_type == p("resource_type"), events.c.resource_id == p("resource_id"))
            .scalar_subquery()
        )
        return select(*(p(name).label(name) for name in _WRITTEN), (newest + p("ordinal")).label("sequence"))

    rows = union_all(*(row(i) for i in range(count))) if count > 1 else row(0)
    return insert(events).from_select([*_WRITTEN, "sequence"], rows)


_BY_ID = select(events).where(events.c.id == bindparam("id"))
_BY_IDS = select(events).where(events.c.id.in_(bindparam("ids", expanding=True)))
TXID: ColumnClause[Any] = literal_column("events.txid")
# The events PostgreSQL's feed may serve (see the module's docstring).
SETTLED = text("events.txid < pg_snapshot_xmin(pg_current_snapshot())")
_AFTER_POSTGRES = text("(events.txid, events.id) > (SELECT a.txid, a.id FROM events a WHERE a.id = :after)")
_PURGEABLE = events.alias("newer")


def feed_order(dialect: str) -> list[Any]:
    return [TXID, events.c.id] if dialect == "postgresql" else [events.c.id]


class Outbox:
    """Event rows of a unit of work not written yet: the events the aggregates it saw (`seen`) recorded,
    presented when collected, and any added by hand. On PostgreSQL the next stock statement carries them
    (SqlProductRepository.move_stock: the order path's events cost no round trip of their own); whatever
    is left is written before COMMIT, and nothing if the unit rolls back."""

    def __init__(self, present: Presenter) -> None:
        self._present = present
        self._rows: list[dict[str, Any]] = []
        self.seen = SeenAggregates()

    def add(self, raised: Sequence[DomainEvent]) -> None:
        """Presented now: the resource as it is at this moment."""
        for event in raised:
            self._rows.append(
                {
                    "type": event.type.value,
                    "resource_type": event.resource_type.value,
                    "resource_id": event.resource_id,
                    "actor_id": event.actor_id,
                    "created_at": event.at,
                    "payload": self._present(event.subject),
                }
            )

    def collect(self) -> None:
        """The events the aggregates seen so far recorded since the last collection."""
        self.add(self.seen.take_events())

    def take(self) -> tuple[int, dict[str, Any]]:
        """Collect, then how many rows, and their parameters for `insert_events_statement`; the outbox is
        empty after."""
        self.collect()
        rows, self._rows = self._rows, []
        return _numbered(rows)

    def take_in_batches(self, size: int) -> list[tuple[int, dict[str, Any]]]:
        """As `take`, in batches of at most `size` rows, each for a statement of its own (run in order:
        each numbers its rows on from what the ones before it stored)."""
        self.collect()
        rows, self._rows = self._rows, []
        return [_numbered(rows[i : i + size]) for i in range(0, len(rows), size)]

    def discard(self) -> None:
        """The unit did not commit: nothing it raised is written, and it forgets what it saw."""
        self._rows = []
        self.seen.clear()


def _numbered(rows: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """How many rows, and their parameters for `insert_events_statement`: each with its ordinal among the
    rows of its resource."""
    ordinals: dict[tuple[str, int], int] = {}
    parameters: dict[str, Any] = {}
    for i, row in enumerate(rows):
        key = (row["resource_type"], row["resource_id"])
        ordinals[key] = ordinals.get(key, 0) + 1
        parameters.update({f"e{i}_{name}": value for name, value in row.items()})
        parameters[f"e{i}_ordinal"] = ordinals[key]
    return len(rows), parameters


class SqlEventRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        self._outbox = outbox

    def add(self, raised: Sequence[DomainEvent]) -> None:
        """Written with the next stock statement or before COMMIT (see Outbox)."""
        self._outbox.add(raised)

    def flush(self) -> None:
        for count, parameters in self._outbox.take_in_batches(MAX_EVENTS_PER_STATEMENT):
            self.tx.execute(insert_events_statement(count), parameters)

    def get(self, event_id: int) -> Event | None:
        self.flush()
        row = self.tx.execute(_BY_ID, {"id": event_id}).first()
        return event_from_row(row) if row is not None else None

    def get_many(self, event_ids: Sequence[int]) -> dict[int, Event]:
        self.flush()
        rows: Iterable[Any] = self.tx.execute(_BY_IDS, {"ids": list(event_ids)}) if event_ids else []
        return {row.id: event_from_row(row) for row in rows}

    def feed(self, filters: EventFilter, starting_after: int | None, limit: int) -> list[Event]:
        self.flush()
        postgres = self.tx.dialect_name == "postgresql"
        query = select(events).where(*_matching(filters))
        if postgres:
            query = query.where(SETTLED)
        if starting_after is not None:
            query = query.where(_AFTER_POSTGRES if postgres else events.c.id > bindparam("after"))
        query = query.order_by(*feed_order(self.tx.dialect_name)).limit(limit)
        rows = self.tx.execute(query, {"after": starting_after} if starting_after is not None else {})
        return [event_from_row(r) for r in rows]

    def purge(self, created_before: datetime) -> int:
        self.flush()
        newer = exists().where(
            _PURGEABLE.c.resource_type == events.c.resource_type,
            _PURGEABLE.c.resource_id == events.c.resource_id,
            _PURGEABLE.c.sequence > events.c.sequence,
        )
        purged = self.tx.execute(delete(events).where(events.c.created_at < created_before, newer))
        return purged.rowcount


def _matching(f: EventFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.type is not None:
        conditions.append(events.c.type == f.type.value)
    if f.resource_type is not None:
        conditions.append(events.c.resource_type == f.resource_type.value)
    if f.resource_id is not None:
        conditions.append(events.c.resource_id == f.resource_id)
    return conditions


def event_from_row(row: Any) -> Event:
    return Event(
        id=row.id,
        type=EventType(row.type),
        resource_type=ResourceType(row.resource_type),
        resource_id=row.resource_id,
        sequence=row.sequence,
        created_at=mapping.utc(row.created_at),
        actor_id=row.actor_id,
        payload=row.payload,
    )
