"""payments: payments and their transactions, the orders' money sums, payment events

Revision ID: 0013_payments
Revises: 0012_user_events
Create Date: 2026-12-02 02:15:00

- payments (one per provider reference, unique) and payment_transactions (authorize, charge, capture, void,
  refund; a refund's reference unique in its payment): amounts in cents, exact on SQLite too.
- orders.authorized_cents, captured_cents, refunded_cents: the sums of each order's payments, moved in the
  transaction of every payment action, so an order (in lists too) shows its payment_status without another
  read. Existing orders start at 0 (unpaid): they have no payments.
- events: the type and resource CHECKs widened for payment.authorized/captured/voided/refunded and the
  `payment` resource (written against the lists after 0012_user_events, which adds the user.* types and the
  `user` resource). PostgreSQL swaps the constraints; SQLite cannot alter a CHECK, and copying `events` (batch
  mode) would drop the old table, whose implicit DELETE cascades to every webhook delivery, so its stored
  CREATE TABLE is edited in place, the documented procedure for changing a CHECK
  (https://www.sqlite.org/lang_altertable.html#otheralter): nothing is copied, indexes stay, and every row
  already satisfies the wider CHECK.

No data is read to decide what to emit, so the revision renders the same SQL offline (`--sql`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_payments"
down_revision: str | None = "0012_user_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The events CHECKs as 0012_user_events leaves them, and with the payment events.
EVENT_TYPES = (
    "order.placed",
    "order.status_changed",
    "order.cancelled",
    "product.created",
    "product.updated",
    "product.deleted",
    "product.out_of_stock",
    "product.back_in_stock",
    "stock.adjusted",
    "user.deactivated",
    "user.reactivated",
    "user.erased",
)
PAYMENT_EVENTS = ("payment.authorized", "payment.captured", "payment.voided", "payment.refunded")
RESOURCES = ("order", "product", "user")
KINDS = ("authorize", "charge", "capture", "void", "refund")
MONEY = ("authorized_cents", "captured_cents", "refunded_cents")
REFUNDS = sa.text("kind = 'refund'")


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _checks(types: Sequence[str], resources: Sequence[str]) -> dict[str, str]:
    return {
        "ck_events_type_known": f"type IN ({_in(types)})",
        "ck_events_resource_known": f"resource_type IN ({_in(resources)})",
    }


def _set_checks(checks: dict[str, str], table: str = "events") -> None:
    """Replace `table`'s named CHECKs (0014_line_quantities changes stock_movements' the same way)."""
    if op.get_context().dialect.name == "postgresql":
        for name, condition in checks.items():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")
        return
    # SQLite: in the stored CREATE TABLE, each `CONSTRAINT <name> CHECK (<condition>)` (its condition ends at
    # the first "))" after it) gets the new condition; in SQL, so nothing is read to decide what to write.
    op.execute("PRAGMA writable_schema = ON")
    for name, condition in checks.items():
        start = f"instr(sql, 'CONSTRAINT {name} CHECK (')"
        rest = f"substr(sql, {start})"
        op.execute(
            f"UPDATE sqlite_master SET sql = substr(sql, 1, {start} - 1) "
            f"|| 'CONSTRAINT {name} CHECK ({condition.replace(chr(39), chr(39) * 2)})' "
            f"|| substr({rest}, instr({rest}, '))') + 2) "
            f"WHERE type = 'table' AND name = '{table}' AND {start} > 0"
        )
    op.execute("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    # In place, never by batch mode's copy of the table (which would lose its triggers).
    for column in MONEY:
        op.add_column(
            "orders", sa.Column(column, sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    _set_checks(_checks(EVENT_TYPES + PAYMENT_EVENTS, (*RESOURCES, "payment")))
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("authorized_cents", sa.BigInteger(), nullable=False),
        sa.Column("captured_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "authorized_cents >= captured_cents AND captured_cents >= refunded_cents AND refunded_cents >= 0",
            name=op.f("ck_payments_amounts_within_limits"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index("uq_payments_provider_reference", "payments", ["provider", "reference"], unique=True)
    op.create_index("ix_payments_order_id", "payments", ["order_id", "id"])
    op.create_table(
        "payment_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN ({_in(KINDS)})", name=op.f("ck_payment_transactions_kind_known")),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_transactions_amount_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_payment_transactions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_transactions_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transactions")),
    )
    op.create_index("ix_payment_transactions_payment_id", "payment_transactions", ["payment_id", "id"])
    op.create_index(
        "uq_payment_transactions_refund_reference",
        "payment_transactions",
        ["payment_id", "reference"],
        unique=True,
        postgresql_where=REFUNDS,
        sqlite_where=REFUNDS,
    )


def downgrade() -> None:
    op.drop_table("payment_transactions")
    op.drop_table("payments")
    # Payment events go with the payments (their webhook deliveries with them), so the narrower CHECKs hold.
    op.execute("DELETE FROM events WHERE resource_type = 'payment'")
    _set_checks(_checks(EVENT_TYPES, RESOURCES))
    for column in MONEY:
        op.execute(f"ALTER TABLE orders DROP COLUMN {column}")
