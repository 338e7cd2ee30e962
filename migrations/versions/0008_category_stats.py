"""per-category product statistics, kept by triggers

Revision ID: 0008_category_stats
Revises: 0006_events
Create Date: 2026-12-02 00:30:00

`GET /categories/{id}/stats` and `GET /categories/stats` report, over a category's active products, their
count, Σ price, units in stock, stock value (Σ price × stock) and how many are at or below their low-stock
threshold. Summing them took every product of the category (the whole catalog for a root with descendants);
this table keeps the sums, in cents (exact on SQLite too), per category and slot (product id % 16: concurrent
orders of different products update different rows instead of queueing on one). Minimum and maximum price
are not kept (a delete would need a rescan): ix_products_category_active_price answers them with one index
probe per category.

Every order moves stock, so the products' update trigger runs on the order path. On PostgreSQL it is one
statement-level trigger (transition tables: one call per UPDATE statement, whatever its rows), which
updates one row per (category, slot) the statement touched, in key order (no deadlock between two orders).
On SQLite, a row trigger that updates one row by its key (two when a product changes category or
activity).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_category_stats"
down_revision: str | None = "0007_sales"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 16
_SLOT_ROWS = " UNION ALL ".join(f"SELECT {k} AS slot" for k in range(SLOTS))
# A price in cents: exact numeric on PostgreSQL (Σ price × stock may pass a BIGINT), integer on SQLite.
_PG_CENTS = "round({0}.price * 100)"
_SQLITE_CENTS = "CAST(round({0}.price * 100) AS INTEGER)"
# A product's slot. PostgreSQL's spelled mod(), which no driver's parameter style (psycopg's %s) can
# misread, online or printed by `shop migrate --sql`; SQLite's oldest builds have no mod().
_PG_SLOT = f"mod({{0}}.id, {SLOTS})"
_SQLITE_SLOT = f"{{0}}.id % {SLOTS}"
_KEPT = ["active_products", "price_cents", "stock_units", "stock_value_cents", "low_stock"]


def _share(row: str, cents: str) -> list[str]:
    """A product's share of each kept column, in _KEPT's order (`cents`: how its price is made cents)."""
    price = cents.format(row)
    low = f"CASE WHEN {row}.stock_quantity <= {row}.low_stock_threshold THEN 1 ELSE 0 END"
    return ["1", price, f"{row}.stock_quantity", f"{price} * {row}.stock_quantity", low]


def _backfill(cents: str, slot: str) -> str:
    """What the triggers keep from now on, summed once for the products already there."""
    shares = zip(_KEPT, _share("p", cents), strict=True)
    return f"""
INSERT INTO category_stats (category_id, slot, {", ".join(_KEPT)})
SELECT c.id, s.slot, {", ".join(f"coalesce(a.{k}, 0)" for k in _KEPT)}
FROM categories AS c CROSS JOIN ({_SLOT_ROWS}) AS s
LEFT JOIN (
    SELECT p.category_id, {slot.format("p")} AS slot,
        {", ".join(f"sum({v}) AS {k}" for k, v in shares)}
    FROM products AS p WHERE p.is_active AND p.category_id IS NOT NULL
    GROUP BY p.category_id, {slot.format("p")}
) AS a ON a.category_id = c.id AND a.slot = s.slot
"""


def _pg_shares(table: str, sign: str) -> str:
    values = ", ".join(f"{sign}({v}) AS {k}" for k, v in zip(_KEPT, _share("r", _PG_CENTS), strict=True))
    return (
        f"SELECT r.category_id, {_PG_SLOT.format('r')} AS slot, {values} FROM {table} AS r "
        "WHERE r.is_active AND r.category_id IS NOT NULL"
    )


def _pg_function(name: str, shares: str) -> str:
    """Apply the summed shares of the statement's rows, one UPDATE per (category, slot) in key order."""
    sums = ", ".join(f"sum(s.{k}) AS {k}" for k in _KEPT)
    moved = " OR ".join(f"sum(s.{k}) <> 0" for k in _KEPT)
    sets = ", ".join(f"{k} = {k} + d.{k}" for k in _KEPT)
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE d record;
    BEGIN
        FOR d IN
            SELECT s.category_id, s.slot, {sums} FROM ({shares}) AS s
            GROUP BY s.category_id, s.slot HAVING {moved} ORDER BY s.category_id, s.slot
        LOOP
            UPDATE category_stats SET {sets} WHERE category_id = d.category_id AND slot = d.slot;
        END LOOP;
        RETURN NULL;
    END $$
    """


_POSTGRES = [
    _pg_function("category_stats_added", _pg_shares("changed", "")),
    _pg_function("category_stats_removed", _pg_shares("changed", "-")),
    _pg_function(
        "category_stats_updated", f"{_pg_shares('new_rows', '')} UNION ALL {_pg_shares('old_rows', '-')}"
    ),
    """CREATE TRIGGER products_inserted_stats AFTER INSERT ON products REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION category_stats_added()""",
    """CREATE TRIGGER products_deleted_stats AFTER DELETE ON products REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION category_stats_removed()""",
    # Transition tables allow no column list: it runs once per UPDATE statement of products.
    """CREATE TRIGGER products_updated_stats AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION category_stats_updated()""",
    f"""
    CREATE FUNCTION category_stats_opened() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO category_stats (category_id, slot, {", ".join(_KEPT)})
        SELECT NEW.id, s.slot, 0, 0, 0, 0, 0 FROM ({_SLOT_ROWS}) AS s;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER categories_added_stats AFTER INSERT ON categories FOR EACH ROW
    EXECUTE FUNCTION category_stats_opened()""",
    """
    CREATE FUNCTION category_stats_closed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM category_stats WHERE category_id = OLD.id;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER categories_removed_stats AFTER DELETE ON categories FOR EACH ROW
    EXECUTE FUNCTION category_stats_closed()""",
]


def _sqlite_apply(row: str, sign: str, less: str | None = None) -> str:
    """Add (or take away) the row's shares; with `less`, the difference between two versions of it."""
    shares = _share(row, _SQLITE_CENTS)
    old = _share(less, _SQLITE_CENTS) if less else ["0"] * len(_KEPT)
    sets = ", ".join(f"{k} = {k} {sign} ({v}) - ({o})" for k, v, o in zip(_KEPT, shares, old, strict=True))
    where = f"category_id = {row}.category_id AND slot = {_SQLITE_SLOT.format(row)}"
    return f"UPDATE category_stats SET {sets} WHERE {where}"


_STAYS = "OLD.is_active AND NEW.is_active AND NEW.category_id IS OLD.category_id"
_KEPT_COLUMNS = "price, stock_quantity, is_active, category_id, low_stock_threshold"

# SQLite has row-level triggers only. An order's stock update runs the first update trigger once per line:
# one UPDATE of a row by its primary key. A product that changes category or activity runs the second.
_SQLITE = [
    f"""CREATE TRIGGER products_inserted_stats AFTER INSERT ON products
    WHEN NEW.is_active AND NEW.category_id IS NOT NULL BEGIN
        {_sqlite_apply("NEW", "+")};
    END""",
    f"""CREATE TRIGGER products_deleted_stats AFTER DELETE ON products
    WHEN OLD.is_active AND OLD.category_id IS NOT NULL BEGIN
        {_sqlite_apply("OLD", "-")};
    END""",
    f"""CREATE TRIGGER products_updated_stats AFTER UPDATE OF {_KEPT_COLUMNS} ON products
    WHEN {_STAYS} AND NEW.category_id IS NOT NULL BEGIN
        {_sqlite_apply("NEW", "+", less="OLD")};
    END""",
    f"""CREATE TRIGGER products_moved_stats AFTER UPDATE OF {_KEPT_COLUMNS} ON products
    WHEN (OLD.is_active OR NEW.is_active) AND NOT ({_STAYS}) BEGIN
        {_sqlite_apply("OLD", "-")} AND OLD.is_active;
        {_sqlite_apply("NEW", "+")} AND NEW.is_active;
    END""",
    f"""CREATE TRIGGER categories_added_stats AFTER INSERT ON categories BEGIN
        INSERT INTO category_stats (category_id, slot, {", ".join(_KEPT)})
        SELECT NEW.id, s.slot, 0, 0, 0, 0, 0 FROM ({_SLOT_ROWS}) AS s;
    END""",
    """CREATE TRIGGER categories_removed_stats AFTER DELETE ON categories BEGIN
        DELETE FROM category_stats WHERE category_id = OLD.id;
    END""",
]

_TRIGGERS = {
    "products": ["products_inserted_stats", "products_deleted_stats", "products_updated_stats"],
    "categories": ["categories_added_stats", "categories_removed_stats"],
}
_SQLITE_ONLY = ["products_moved_stats"]
_FUNCTIONS = [
    "category_stats_added",
    "category_stats_removed",
    "category_stats_updated",
    "category_stats_opened",
    "category_stats_closed",
]


def upgrade() -> None:
    op.create_table(
        "category_stats",
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("active_products", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("stock_units", sa.BigInteger(), nullable=False),
        sa.Column("stock_value_cents", sa.Numeric(38, 0), nullable=False),
        sa.Column("low_stock", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("category_id", "slot", name=op.f("pk_category_stats")),
    )
    postgres = op.get_context().dialect.name == "postgresql"
    op.execute(_backfill(_PG_CENTS, _PG_SLOT) if postgres else _backfill(_SQLITE_CENTS, _SQLITE_SLOT))
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table, triggers in _TRIGGERS.items():
        for trigger in triggers:
            op.execute(f"DROP TRIGGER {trigger} ON {table}" if postgres else f"DROP TRIGGER {trigger}")
    for trigger in [] if postgres else _SQLITE_ONLY:
        op.execute(f"DROP TRIGGER {trigger}")
    if postgres:
        for function in _FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("category_stats")
