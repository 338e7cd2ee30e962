"""Migration 0010 over a database that already has events, webhooks, deliveries and attempts, on both
dialects: the upgrade keeps every row, index and constraint of events and admits the user events; the
downgrade deletes them (with their deliveries), takes user.* out of the webhooks' subscriptions and
refuses user events again."""

import json

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config, migrate
from tests.support.postgres import ThrowawayPostgres

# The revision 0010 follows (wherever it is chained).
BEFORE = (
    ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision("0012_user_events").down_revision
)
AT = "2026-12-01 10:00:00+00:00"


def event(connection, type_: str, resource: str, resource_id: int, sequence: int) -> int:  # type: ignore[no-untyped-def]
    return connection.execute(
        text(
            "INSERT INTO events (type, resource_type, resource_id, sequence, actor_id, created_at, payload)"
            " VALUES (:type, :resource, :rid, :seq, 1, :at, :payload) RETURNING id"
        ),
        {"type": type_, "resource": resource, "rid": resource_id, "seq": sequence, "at": AT, "payload": "{}"},
    ).scalar_one()


def webhook(connection, types: list[str]) -> int:  # type: ignore[no-untyped-def]
    return connection.execute(
        text(
            "INSERT INTO webhooks (url, event_types, secret, enabled, consecutive_failures, version,"
            " created_at, updated_at, after_event_id)"
            " VALUES ('https://example.com/h', :types, 'whsec_x', true, 0, 1, :at, :at, 0) RETURNING id"
        ),
        {"types": json.dumps(types), "at": AT},
    ).scalar_one()


def delivery(connection, hook: int, event_id: int, type_: str) -> int:  # type: ignore[no-untyped-def]
    delivery_id = connection.execute(
        text(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, state, attempts,"
            " next_attempt_at, created_at) VALUES (:hook, :event, :type, 'pending', 1, :at, :at) RETURNING id"
        ),
        {"hook": hook, "event": event_id, "type": type_, "at": AT},
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, latency_ms)"
            " VALUES (:d, :at, 500, 12)"
        ),
        {"d": delivery_id, "at": AT},
    )
    return delivery_id


def rows(engine: Engine, table: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]


def shape(engine: Engine) -> tuple:
    """What the upgrade must keep of events: its columns, indexes, key and the foreign keys to it."""
    found = inspect(engine)
    return (
        [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns("events")],
        sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes("events")),
        found.get_pk_constraint("events")["constrained_columns"],
        sorted(c["name"] for c in found.get_check_constraints("events")),
        [
            (f["referred_table"], f["constrained_columns"], f["options"].get("ondelete"))
            for f in found.get_foreign_keys("webhook_deliveries")
        ],
    )


def refused(engine: Engine, type_: str, resource: str) -> bool:
    with engine.connect() as connection:
        try:
            with connection.begin():
                event(connection, type_, resource, 77, 1)
        except IntegrityError:
            return True
    return False


def check_upgrade_and_downgrade(url: str) -> None:
    migrate(url, BEFORE)
    engine = make_sync_engine(url)
    with engine.begin() as connection:
        placed = event(connection, "order.placed", "order", 1, 1)
        both = webhook(connection, ["order.placed"])
        delivery(connection, both, placed, "order.placed")
    kept = {t: rows(engine, t) for t in ("events", "webhook_deliveries", "webhook_attempts")}
    before = shape(engine)
    assert refused(engine, "user.deactivated", "user")

    migrate(url)
    assert {t: rows(engine, t) for t in kept} == kept
    assert shape(engine) == before
    assert refused(engine, "user.exploded", "user") and refused(engine, "order.placed", "customer")
    with engine.begin() as connection:
        erased = event(connection, "user.erased", "user", 5, 1)
        connection.execute(
            text("UPDATE webhooks SET event_types = :t WHERE id = :id"),
            {"t": json.dumps(["order.placed", "user.erased"]), "id": both},
        )
        only_users = webhook(connection, ["user.deactivated", "user.erased"])
        delivery(connection, both, erased, "user.erased")
        user_delivery = delivery(connection, only_users, erased, "user.erased")

    command.downgrade(alembic_config(url), BEFORE)
    assert {t: rows(engine, t) for t in kept} == kept  # the user event went, with its deliveries
    assert user_delivery not in {r[0] for r in rows(engine, "webhook_deliveries")}
    with engine.connect() as connection:
        hooks = connection.execute(
            text("SELECT id, event_types, enabled, disabled_reason FROM webhooks ORDER BY id")
        ).all()
    decoded = [
        (h.id, h.event_types if isinstance(h.event_types, list) else json.loads(h.event_types)) for h in hooks
    ]
    assert decoded == [(both, ["order.placed"]), (only_users, [])]
    assert [(bool(h.enabled), h.disabled_reason) for h in hooks] == [
        (True, None),
        (False, "its event types (user.*) were removed by a downgrade of the database"),
    ]
    assert shape(engine) == before
    assert refused(engine, "user.deactivated", "user") and not refused(engine, "order.cancelled", "order")
    migrate(url)
    engine.dispose()


def test_sqlite_upgrade_and_downgrade_keep_events_and_their_deliveries(tmp_path) -> None:
    check_upgrade_and_downgrade(f"sqlite:///{tmp_path / 'user_events.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade_keep_events_and_their_deliveries(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    url = postgres_server.create_database("shop_user_events") if postgres_server else postgres_url
    check_upgrade_and_downgrade(url)
