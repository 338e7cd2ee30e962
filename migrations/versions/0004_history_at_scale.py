"""order totals kept by triggers, indexes for every list order, trigram search

Revision ID: 0004_scale
Revises: 0003_security
Create Date: 2026-11-22 14:30:00

- order_totals: orders and revenue (cents) per status, in 16 slots (an order counts in slot id % 16), kept
  by triggers on orders, so /orders/stats and the totals of every order or one status read ~100 rows
  instead of counting millions. Slots keep concurrent orders from queueing on one row.
- Indexes that end in the id for every order a list is sorted in, so keyset pages seek instead of sort.
- PostgreSQL: pg_trgm GIN indexes on products' name, SKU and description, which serve the search's
  ILIKE '%q%' (3 characters or more).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_scale"
down_revision: str | None = "0003_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 16
STATUSES = ("pending", "confirmed", "processing", "shipped", "delivered", "cancelled")
CENTS = "CAST(round({0}.total_amount * 100) AS BIGINT)"

_BACKFILL = f"""
UPDATE order_totals SET
    orders = (SELECT count(*) FROM orders o WHERE o.status = order_totals.status AND o.id % {SLOTS} = order_totals.slot),
    revenue_cents = (SELECT coalesce(sum({CENTS.format("o")}), 0) FROM orders o
                     WHERE o.status = order_totals.status AND o.id % {SLOTS} = order_totals.slot)
"""

_POSTGRES = [
    # Inserts and deletes: once per statement, over all its rows (a bulk load is one update per slot).
    f"""
    CREATE FUNCTION order_totals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE order_totals AS t
        SET orders = t.orders + d.n * (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END),
            revenue_cents = t.revenue_cents + d.cents * (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
        FROM (
            SELECT c.status, c.id % {SLOTS} AS slot, count(*) AS n, sum({CENTS.format("c")}) AS cents
            FROM changed AS c GROUP BY 1, 2
        ) AS d
        WHERE t.status = d.status AND t.slot = d.slot;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER orders_inserted_totals AFTER INSERT ON orders REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION order_totals_changed()""",
    """CREATE TRIGGER orders_deleted_totals AFTER DELETE ON orders REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION order_totals_changed()""",
    f"""
    CREATE FUNCTION order_totals_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE order_totals SET orders = orders - 1, revenue_cents = revenue_cents - {CENTS.format("OLD")}
        WHERE status = OLD.status AND slot = OLD.id % {SLOTS};
        UPDATE order_totals SET orders = orders + 1, revenue_cents = revenue_cents + {CENTS.format("NEW")}
        WHERE status = NEW.status AND slot = NEW.id % {SLOTS};
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER orders_moved_totals AFTER UPDATE OF status, total_amount ON orders FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.total_amount IS DISTINCT FROM NEW.total_amount)
    EXECUTE FUNCTION order_totals_moved()""",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_products_name_trgm ON products USING gin (name gin_trgm_ops)",
    "CREATE INDEX ix_products_sku_trgm ON products USING gin (sku gin_trgm_ops)",
    "CREATE INDEX ix_products_description_trgm ON products USING gin (description gin_trgm_ops)",
]

# SQLite has row-level triggers only.
_SQLITE = [
    f"""CREATE TRIGGER orders_inserted_totals AFTER INSERT ON orders BEGIN
        UPDATE order_totals SET orders = orders + 1, revenue_cents = revenue_cents + {CENTS.format("NEW")}
        WHERE status = NEW.status AND slot = NEW.id % {SLOTS};
    END""",
    f"""CREATE TRIGGER orders_deleted_totals AFTER DELETE ON orders BEGIN
        UPDATE order_totals SET orders = orders - 1, revenue_cents = revenue_cents - {CENTS.format("OLD")}
        WHERE status = OLD.status AND slot = OLD.id % {SLOTS};
    END""",
    f"""CREATE TRIGGER orders_moved_totals AFTER UPDATE OF status, total_amount ON orders
    WHEN OLD.status IS NOT NEW.status OR OLD.total_amount IS NOT NEW.total_amount BEGIN
        UPDATE order_totals SET orders = orders - 1, revenue_cents = revenue_cents - {CENTS.format("OLD")}
        WHERE status = OLD.status AND slot = OLD.id % {SLOTS};
        UPDATE order_totals SET orders = orders + 1, revenue_cents = revenue_cents + {CENTS.format("NEW")}
        WHERE status = NEW.status AND slot = NEW.id % {SLOTS};
    END""",
]

_TRIGGERS = ["orders_inserted_totals", "orders_deleted_totals", "orders_moved_totals"]
_TRIGRAM_INDEXES = ["ix_products_name_trgm", "ix_products_sku_trgm", "ix_products_description_trgm"]

# (table, replaced indexes, new indexes with their columns); every new one ends in the id.
_INDEXES = [
    (
        "products",
        ["ix_products_name", "ix_products_price", "ix_products_created_at"],
        {
            "ix_products_category_active_id": ["category_id", "is_active", "id"],
            "ix_products_category_active_name": ["category_id", "is_active", "name", "id"],
            "ix_products_category_active_created": ["category_id", "is_active", "created_at", "id"],
            "ix_products_name_id": ["name", "id"],
            "ix_products_price_id": ["price", "id"],
            "ix_products_created_id": ["created_at", "id"],
        },
    ),
    (
        "orders",
        ["ix_orders_created_at", "ix_orders_status", "ix_orders_user_created"],
        {
            "ix_orders_created_id": ["created_at", "id"],
            "ix_orders_user_created_id": ["user_id", "created_at", "id"],
            "ix_orders_status_created_id": ["status", "created_at", "id"],
        },
    ),
    ("categories", [], {"ix_categories_name_id": ["name", "id"]}),
]
_OLD_COLUMNS = {
    "ix_products_name": ["name"],
    "ix_products_price": ["price"],
    "ix_products_created_at": ["created_at"],
    "ix_orders_created_at": ["created_at"],
    "ix_orders_status": ["status"],
    "ix_orders_user_created": ["user_id", "created_at"],
}


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table, replaced, created in _INDEXES:
        for name, columns in created.items():
            op.create_index(name, table, columns)
        for name in replaced:
            op.drop_index(name, table_name=table)
    op.create_table(
        "order_totals",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "slot", name=op.f("pk_order_totals")),
    )
    op.bulk_insert(
        sa.table(
            "order_totals",
            sa.column("status", sa.String),
            sa.column("slot", sa.Integer),
            sa.column("orders", sa.BigInteger),
            sa.column("revenue_cents", sa.BigInteger),
        ),
        [{"status": s, "slot": k, "orders": 0, "revenue_cents": 0} for s in STATUSES for k in range(SLOTS)],
    )
    op.execute(_BACKFILL)
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON orders" if postgres else f"DROP TRIGGER {trigger}")
    if postgres:
        op.execute("DROP FUNCTION order_totals_changed()")
        op.execute("DROP FUNCTION order_totals_moved()")
        for name in _TRIGRAM_INDEXES:
            op.drop_index(name, table_name="products")
    op.drop_table("order_totals")
    for table, replaced, created in _INDEXES:
        for name in replaced:
            op.create_index(name, table, _OLD_COLUMNS[name])
        for name in created:
            op.drop_index(name, table_name=table)
