"""fulfillments: what left the shop, per order, with tracking; orders already shipped get one each

Revision ID: 0015_fulfillments
Revises: 0014_line_quantities
Create Date: 2026-12-02 05:40:00

- fulfillments (order, status fulfilled | cancelled, carrier, tracking number and URL, who and when), indexed
  by (order_id, id) for an order's list; fulfillment_lines (fulfillment, order line, quantity > 0, each line
  once per fulfilment).
- Backfill, in plain SQL: every order already shipped or delivered (whose lines 0014_line_quantities counts as
  shipped) gets one fulfilment of all its units, without tracking, dated when the order was shipped (its
  history's first move to shipped; else its last change), so that an order's shipped units are always what
  its fulfilments that are not cancelled shipped. No events are raised for them.

No data is read to decide what to emit, so the revision renders the same SQL offline (`--sql`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_fulfillments"
down_revision: str | None = "0014_line_quantities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = (
    "INSERT INTO fulfillments (order_id, status, created_at, updated_at, version) "
    "SELECT o.id, 'fulfilled', coalesce((SELECT min(e.at) FROM order_status_events e "
    "WHERE e.order_id = o.id AND e.to_status = 'shipped'), o.updated_at), "
    "coalesce((SELECT min(e.at) FROM order_status_events e "
    "WHERE e.order_id = o.id AND e.to_status = 'shipped'), o.updated_at), 1 "
    "FROM orders o WHERE o.status IN ('shipped', 'delivered') ORDER BY o.id",
    # Every fulfilment so far is one of the backfill: one per order.
    "INSERT INTO fulfillment_lines (fulfillment_id, order_line_id, quantity) "
    "SELECT f.id, l.id, l.quantity FROM fulfillments f JOIN order_lines l ON l.order_id = f.order_id "
    "ORDER BY l.id",
)


def upgrade() -> None:
    op.create_table(
        "fulfillments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("tracking_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('fulfilled', 'cancelled')", name=op.f("ck_fulfillments_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfillments_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_fulfillments_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by"],
            ["users.id"],
            name=op.f("fk_fulfillments_cancelled_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillments")),
    )
    op.create_index("ix_fulfillments_order_id", "fulfillments", ["order_id", "id"])
    op.create_table(
        "fulfillment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fulfillment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_fulfillment_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["fulfillment_id"],
            ["fulfillments.id"],
            name=op.f("fk_fulfillment_lines_fulfillment_id_fulfillments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_fulfillment_lines_order_line_id_order_lines"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_lines")),
    )
    op.create_index(
        "uq_fulfillment_lines_fulfillment_line",
        "fulfillment_lines",
        ["fulfillment_id", "order_line_id"],
        unique=True,
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    # The lines' shipped quantities (0014_line_quantities) stay; so do the fulfilment events (0014 allows them).
    op.drop_table("fulfillment_lines")
    op.drop_table("fulfillments")
