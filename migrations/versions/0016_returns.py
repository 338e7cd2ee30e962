"""returns: returns of orders and their lines, refunds of orders, and the return a stock movement names

Revision ID: 0016_returns
Revises: 0015_fulfillments
Create Date: 2026-12-02 06:00:00

- returns (requested, accepted or rejected; the extra amount its refund adds and what its refund gave back,
  in cents) and return_lines (an order line's units, with the line's product and unit price copied, and
  whether they go back on the shelf).
- order_refunds: money given back for an order, of a return or a goodwill gesture; a reference once per
  order, a return refunded once (unique indexes).
- stock_movements.return_id: the accepted return whose units a `return` movement put back. Added in place
  on both databases, so the ledger is never copied: PostgreSQL adds the column and its foreign key;
  SQLite adds the column, then its foreign key as a table constraint in the stored CREATE TABLE, in place
  as 0013_payments changes CHECKs (every row's return_id is NULL, so every row satisfies it), and the
  downgrade takes it out the same way before dropping the column.

Nothing is read to decide what to emit: the revision renders the same SQL offline (`--sql`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_returns"
down_revision: str | None = "0015_fulfillments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_stock_movements_return_id_returns"
REFERENCE = f"CONSTRAINT {FK} FOREIGN KEY(return_id) REFERENCES returns (id) ON DELETE RESTRICT"
# SQLite: the constraint as the stored CREATE TABLE spells a table constraint (', ' newline tab), which its
# reflection reads by name; `_sqlite_constraint` appends it and the downgrade takes it out again.
SQLITE_CONSTRAINT = f"', ' || char(10) || char(9) || '{REFERENCE}'"


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_extra_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'accepted', 'rejected')", name=op.f("ck_returns_status_known")
        ),
        sa.CheckConstraint(
            "refund_extra_cents >= 0 AND refunded_cents >= 0", name=op.f("ck_returns_amounts_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_returns_requested_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_returns_decided_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id", "id"])
    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("restock", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_lines_return_id_returns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_return_lines_order_line_id_order_lines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_return_lines_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
    )
    op.create_index("ix_return_lines_return_id", "return_lines", ["return_id", "id"])
    op.create_index("ix_return_lines_order_line_id", "return_lines", ["order_line_id"])
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_order_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_refunds_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_order_refunds_return_id_returns"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_order_refunds_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
    )
    op.create_index(
        "uq_order_refunds_order_reference", "order_refunds", ["order_id", "reference"], unique=True
    )
    op.create_index("uq_order_refunds_return_id", "order_refunds", ["return_id"], unique=True)
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE stock_movements ADD COLUMN return_id INTEGER, ADD {REFERENCE}")
        return
    op.execute("ALTER TABLE stock_movements ADD COLUMN return_id INTEGER")
    stored = "rtrim(sql, char(10) || char(9) || ' ')"
    _edit_schema(f"sql = substr({stored}, 1, length({stored}) - 1) || {SQLITE_CONSTRAINT} || char(10) || ')'")


def _edit_schema(assignment: str) -> None:
    op.execute("PRAGMA writable_schema = ON")
    op.execute(f"UPDATE sqlite_master SET {assignment} WHERE type = 'table' AND name = 'stock_movements'")
    op.execute("PRAGMA writable_schema = OFF")


def downgrade() -> None:
    # The ledger keeps its movements (a product's stock is their sum); they no longer name their return.
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE stock_movements DROP CONSTRAINT {FK}")
    else:
        _edit_schema(f"sql = replace(sql, {SQLITE_CONSTRAINT}, '')")
    op.execute("ALTER TABLE stock_movements DROP COLUMN return_id")
    op.drop_table("order_refunds")
    op.drop_table("return_lines")
    op.drop_table("returns")
