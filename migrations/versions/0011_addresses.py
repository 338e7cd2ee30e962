"""address books, and the addresses orders keep

Revision ID: 0011_addresses
Revises: 0010_recent_spenders
Create Date: 2026-12-02 02:30:00

- addresses: users' address books (at most 50 entries each: domain.addresses, counted under the user's row
  lock). At most one default shipping and one default billing address per user: partial unique indexes
  on user_id, the safety net behind the book's own rule. Deleted with their user (CASCADE); orders keep
  copies, not references.
- orders.shipping_address, orders.billing_address: the copies (JSON; JSONB on PostgreSQL), null for orders
  placed without one (every order before this revision). In the order's own row, so that placing an order
  with an inline address is still one INSERT.

No data is read to decide what to emit, so the revision renders the same SQL offline (`--sql`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011_addresses"
down_revision: str | None = "0010_recent_spenders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
DEFAULTS = ("shipping", "billing")


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(length=100), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=True),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("is_default_shipping", sa.Boolean(), nullable=False),
        sa.Column("is_default_billing", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_addresses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_index("ix_addresses_user_id_id", "addresses", ["user_id", "id"])
    for kind in DEFAULTS:
        flag = sa.text(f"is_default_{kind}")
        op.create_index(
            f"uq_addresses_default_{kind}",
            "addresses",
            ["user_id"],
            unique=True,
            postgresql_where=flag,
            sqlite_where=flag,
        )
    # Added in place, never by batch mode's copy of the table (which would lose the orders' triggers).
    op.add_column("orders", sa.Column("shipping_address", JSON, nullable=True))
    op.add_column("orders", sa.Column("billing_address", JSON, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN billing_address")
    op.execute("ALTER TABLE orders DROP COLUMN shipping_address")
    for kind in reversed(DEFAULTS):
        op.drop_index(f"uq_addresses_default_{kind}", table_name="addresses")
    op.drop_index("ix_addresses_user_id_id", table_name="addresses")
    op.drop_table("addresses")
