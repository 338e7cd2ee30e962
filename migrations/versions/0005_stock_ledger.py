"""stock ledger, status-event reasons, low-stock thresholds

Revision ID: 0005_ledger
Revises: 0004_scale
Create Date: 2026-11-22 19:00:00

- stock_movements: every change of a product's stock, with its kind, reason, actor and order. Backfilled
  so that from the start each product's stock is the sum of its movements and its order movements match
  its orders: one `initial` movement (the stock plus the units of its live orders, at the product's
  creation) and one `order` movement per line of a live (not cancelled) order, in the order's time.
- order_status_events.reason: why a status changed, when the service knows (an expired order).
- products.low_stock_threshold, with a partial index over the products that have one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ledger"
down_revision: str | None = "0004_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("initial", "order", "cancellation", "expiry", "adjustment", "correction")
BEGAN = "recorded when the ledger began"
_LIVE = """
SELECT l.product_id, l.quantity, o.id AS order_id, o.created_at
FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status <> 'cancelled'
"""
_COLUMNS = "product_id, delta, quantity, kind, reason, actor_id, order_id, created_at"
_BACKFILL = [
    f"""
    INSERT INTO stock_movements ({_COLUMNS})
    SELECT p.id, p.stock_quantity + coalesce(live.units, 0), p.stock_quantity + coalesce(live.units, 0),
           'initial', '{BEGAN}', NULL, NULL, p.created_at
    FROM products p
    LEFT JOIN (SELECT product_id, sum(quantity) AS units FROM ({_LIVE}) AS l GROUP BY product_id) AS live
           ON live.product_id = p.id
    """,
    # After a line, its product holds its stock of today plus the units of the live orders placed later.
    f"""
    INSERT INTO stock_movements ({_COLUMNS})
    SELECT l.product_id, -l.quantity,
           p.stock_quantity + coalesce(sum(l.quantity) OVER (
               PARTITION BY l.product_id ORDER BY l.created_at DESC, l.order_id DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
           'order', '{BEGAN}', NULL, l.order_id, l.created_at
    FROM ({_LIVE}) AS l JOIN products p ON p.id = l.product_id
    """,
]


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_stock_movements_kind_known")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_movements_quantity_non_negative")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_stock_movements_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_stock_movements_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_stock_movements_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    for statement in _BACKFILL:
        op.execute(statement)
    op.create_index(
        "ix_stock_movements_product_created_id", "stock_movements", ["product_id", "created_at", "id"]
    )
    op.add_column("order_status_events", sa.Column("reason", sa.String(length=200), nullable=True))
    op.add_column("products", sa.Column("low_stock_threshold", sa.Integer(), nullable=True))
    where = sa.text("low_stock_threshold IS NOT NULL")
    op.create_index("ix_products_low_stock", "products", ["id"], postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index("ix_products_low_stock", table_name="products")
    # Plain ALTER TABLE, which SQLite has too: a batch copy of the table would lose its triggers.
    op.execute("ALTER TABLE products DROP COLUMN low_stock_threshold")
    op.execute("ALTER TABLE order_status_events DROP COLUMN reason")
    op.drop_table("stock_movements")
