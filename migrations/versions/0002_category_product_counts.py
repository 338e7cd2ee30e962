"""active products per category, kept by triggers

Revision ID: 0002_counts
Revises: 042bce2ad5d3
Create Date: 2026-11-22 05:10:00

The public product list reports an exact `total`. Counting it took ~20,000 index entries per category at
1,000,000 products; this table holds the count, kept by the database itself so every writer (the service,
`shop seed-demo`, SQL by hand) keeps it right. Stock updates (every order) do not touch is_active or
category_id and so fire nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_counts"
down_revision: str | None = "042bce2ad5d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the triggers keep from now on, counted once for the rows already there: row 0 for every active
# product, then one row per category.
_BACKFILL = """
INSERT INTO category_product_counts (category_id, active_products)
SELECT 0, (SELECT count(*) FROM products WHERE is_active)
UNION ALL
SELECT c.id, (SELECT count(*) FROM products p WHERE p.category_id = c.id AND p.is_active) FROM categories c
"""

_POSTGRES = [
    # Inserts and deletes: once per statement, over all its rows (a bulk load is one update per category).
    """
    CREATE FUNCTION count_products_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE category_product_counts AS c
        SET active_products = c.active_products + d.n * (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
        FROM (
            SELECT category_id, count(*) AS n FROM changed WHERE is_active AND category_id IS NOT NULL
            GROUP BY category_id
            UNION ALL
            SELECT 0, count(*) FROM changed WHERE is_active
        ) AS d
        WHERE c.category_id = d.category_id AND d.n > 0;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER products_inserted_count AFTER INSERT ON products REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION count_products_changed()""",
    """CREATE TRIGGER products_deleted_count AFTER DELETE ON products REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION count_products_changed()""",
    # Updates: per row, and only rows whose activity or category changed.
    """
    CREATE FUNCTION count_product_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE category_product_counts SET active_products = active_products - 1
        WHERE OLD.is_active AND category_id IN (0, OLD.category_id);
        UPDATE category_product_counts SET active_products = active_products + 1
        WHERE NEW.is_active AND category_id IN (0, NEW.category_id);
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER products_moved_count AFTER UPDATE OF is_active, category_id ON products FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.category_id IS DISTINCT FROM NEW.category_id)
    EXECUTE FUNCTION count_product_moved()""",
    """
    CREATE FUNCTION count_category_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO category_product_counts (category_id, active_products) VALUES (NEW.id, 0);
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER categories_added_count AFTER INSERT ON categories FOR EACH ROW
    EXECUTE FUNCTION count_category_added()""",
    # Deleting a category first detaches its products (ON DELETE SET NULL, counted as moves).
    """
    CREATE FUNCTION count_category_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM category_product_counts WHERE category_id = OLD.id;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER categories_removed_count AFTER DELETE ON categories FOR EACH ROW
    EXECUTE FUNCTION count_category_removed()""",
]

# SQLite has row-level triggers only.
_SQLITE = [
    """CREATE TRIGGER products_inserted_count AFTER INSERT ON products WHEN NEW.is_active BEGIN
        UPDATE category_product_counts SET active_products = active_products + 1
        WHERE category_id IN (0, NEW.category_id);
    END""",
    """CREATE TRIGGER products_deleted_count AFTER DELETE ON products WHEN OLD.is_active BEGIN
        UPDATE category_product_counts SET active_products = active_products - 1
        WHERE category_id IN (0, OLD.category_id);
    END""",
    """CREATE TRIGGER products_moved_count AFTER UPDATE OF is_active, category_id ON products
    WHEN OLD.is_active IS NOT NEW.is_active OR OLD.category_id IS NOT NEW.category_id BEGIN
        UPDATE category_product_counts SET active_products = active_products - 1
        WHERE OLD.is_active AND category_id IN (0, OLD.category_id);
        UPDATE category_product_counts SET active_products = active_products + 1
        WHERE NEW.is_active AND category_id IN (0, NEW.category_id);
    END""",
    """CREATE TRIGGER categories_added_count AFTER INSERT ON categories BEGIN
        INSERT INTO category_product_counts (category_id, active_products) VALUES (NEW.id, 0);
    END""",
    """CREATE TRIGGER categories_removed_count AFTER DELETE ON categories BEGIN
        DELETE FROM category_product_counts WHERE category_id = OLD.id;
    END""",
]

_TRIGGERS = {
    "products": ["products_inserted_count", "products_deleted_count", "products_moved_count"],
    "categories": ["categories_added_count", "categories_removed_count"],
}
_FUNCTIONS = ["count_products_changed", "count_product_moved", "count_category_added", "count_category_removed"]


def upgrade() -> None:
    op.create_table(
        "category_product_counts",
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("active_products", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("category_id", name=op.f("pk_category_product_counts")),
    )
    op.execute(_BACKFILL)
    for statement in _POSTGRES if op.get_context().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table, triggers in _TRIGGERS.items():
        for trigger in triggers:
            op.execute(f"DROP TRIGGER {trigger} ON {table}" if postgres else f"DROP TRIGGER {trigger}")
    if postgres:
        for function in _FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("category_product_counts")
