"""user status events in the outbox: user.deactivated, user.reactivated, user.erased

Revision ID: 0012_user_events
Revises: 0011_addresses
Create Date: 2026-12-02 02:10:00

- events: the CHECKs ck_events_type_known and ck_events_resource_known admit the user events and the
  resource type 'user'. On PostgreSQL each is dropped and added again in one ALTER TABLE (one scan of
  events under its lock, in the migration's transaction). SQLite cannot alter a CHECK: events is copied
  into a new table (batch mode, which keeps its indexes; it has no triggers). Dropping the old table with
  `PRAGMA foreign_keys=ON` (the service's engines set it) would cascade into webhook_deliveries and their
  attempts, so those are kept aside in temporary tables and put back.
- Downgrade deletes the user events (their deliveries go with them, by the foreign key) and takes the
  user.* types out of every webhook's subscription; a webhook left with no type is disabled, saying why.
  The older code could load neither.

No data is read to decide what to emit, so the revision renders the same SQL offline (`--sql`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_user_events"
down_revision: str | None = "0011_addresses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TYPES = (
    "order.placed",
    "order.status_changed",
    "order.cancelled",
    "product.created",
    "product.updated",
    "product.deleted",
    "product.out_of_stock",
    "product.back_in_stock",
    "stock.adjusted",
)
USER_TYPES = ("user.deactivated", "user.reactivated", "user.erased")
OLD_RESOURCES = ("order", "product")
CHILDREN = ("webhook_deliveries", "webhook_attempts")  # parents first; they refer to events.id
DISABLED = "its event types (user.*) were removed by a downgrade of the database"


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _checks(types: Sequence[str], resources: Sequence[str]) -> dict[str, str]:
    return {
        "ck_events_type_known": f"type IN ({_in(types)})",
        "ck_events_resource_known": f"resource_type IN ({_in(resources)})",
    }


def _replace_checks(checks: dict[str, str]) -> None:
    if op.get_context().dialect.name == "postgresql":
        changes = [
            f"DROP CONSTRAINT {name}, ADD CONSTRAINT {name} CHECK ({sql})" for name, sql in checks.items()
        ]
        op.execute(f"ALTER TABLE events {', '.join(changes)}")
        return
    for table in CHILDREN:
        op.execute(f"CREATE TEMPORARY TABLE kept_{table} AS SELECT * FROM {table}")
    for table in reversed(CHILDREN):
        op.execute(f"DELETE FROM {table}")  # nothing left for the DROP of the old events to cascade into
    with op.batch_alter_table("events", recreate="always") as batch:
        for name, sql in checks.items():
            batch.drop_constraint(op.f(name), type_="check")
            batch.create_check_constraint(op.f(name), sql)
    for table in CHILDREN:
        op.execute(f"INSERT INTO {table} SELECT * FROM temp.kept_{table}")
        op.execute(f"DROP TABLE temp.kept_{table}")


def upgrade() -> None:
    _replace_checks(_checks(OLD_TYPES + USER_TYPES, (*OLD_RESOURCES, "user")))


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE resource_type = 'user'")
    # A user type told by substr(), not LIKE 'user.%' (a `%` a driver's parameter style could misread).
    if op.get_context().dialect.name == "postgresql":
        kept = (
            "SELECT coalesce(jsonb_agg(t.value ORDER BY t.value), '[]'::jsonb)"
            " FROM jsonb_array_elements_text(webhooks.event_types) AS t WHERE substr(t.value, 1, 5) <> 'user.'"
        )
        has_user_types = (
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(webhooks.event_types) AS t"
            " WHERE substr(t.value, 1, 5) = 'user.')"
        )
        empty = "event_types = '[]'::jsonb"
    else:
        kept = (
            "SELECT json_group_array(t.value) FROM"
            " (SELECT value FROM json_each(webhooks.event_types) WHERE substr(value, 1, 5) <> 'user.' ORDER BY value) t"
        )
        has_user_types = (
            "EXISTS (SELECT 1 FROM json_each(webhooks.event_types) WHERE substr(value, 1, 5) = 'user.')"
        )
        empty = "json_array_length(event_types) = 0"
    op.execute(f"UPDATE webhooks SET event_types = ({kept}) WHERE {has_user_types}")
    op.execute(
        f"UPDATE webhooks SET enabled = false, disabled_reason = '{DISABLED}' WHERE {empty} AND enabled"
    )
    _replace_checks(_checks(OLD_TYPES, OLD_RESOURCES))
