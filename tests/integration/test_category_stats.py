"""The per-category sums kept by migration 0008's triggers, against a recount of the products, after what
the service never does itself but SQL by hand or a bulk load may: many rows inserted, updated and deleted
in one statement (PostgreSQL's statement-level triggers), and the backfill of a database that already had
products."""

from alembic import command
from sqlalchemy import Engine, text

from adapters.sql.migrate import alembic_config
from tests.integration.helpers import admin, product

KEPT = text(
    "SELECT category_id, sum(active_products), sum(price_cents), sum(stock_units), sum(stock_value_cents),"
    " sum(low_stock) FROM category_stats GROUP BY category_id ORDER BY category_id"
)
# The same, counted: every category, with zeros where it has no active product.
RECOUNT = text(
    "SELECT c.id, count(p.id), coalesce(sum(round(p.price * 100)), 0), coalesce(sum(p.stock_quantity), 0),"
    " coalesce(sum(round(p.price * 100) * p.stock_quantity), 0),"
    " coalesce(sum(CASE WHEN p.stock_quantity <= p.low_stock_threshold THEN 1 ELSE 0 END), 0)"
    " FROM categories AS c LEFT JOIN products AS p ON p.category_id = c.id AND p.is_active"
    " GROUP BY c.id ORDER BY c.id"
)


def rows(engine: Engine, query) -> list[tuple[int, ...]]:
    with engine.connect() as connection:
        return [tuple(int(v) for v in row) for row in connection.execute(query)]


def test_bulk_statements_by_hand_keep_the_sums_right(engine: Engine) -> None:
    boss = admin(engine)
    with engine.begin() as connection:
        for i in range(1, 5):
            connection.execute(
                text(
                    "INSERT INTO categories (name, name_key, slug, created_at, updated_at)"
                    " VALUES (:n, :n, :n, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"n": f"c{i}"},
            )
        ids = [r[0] for r in connection.execute(text("SELECT id FROM categories ORDER BY id"))]
        # 40 products over 4 categories and every slot, in one INSERT; some inactive, some without one
        values = ", ".join(
            f"('P{i}', 'p{i}', 'S-{i}', {i}.{i % 100:02d}, {i * 3}, {'false' if i % 7 == 0 else 'true'},"
            f" {ids[i % 4] if i % 9 else 'NULL'}, {i * 2 if i % 3 == 0 else 'NULL'}, 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            for i in range(1, 41)
        )
        connection.execute(
            text(
                "INSERT INTO products (name, slug, sku, price, stock_quantity, is_active, category_id,"
                f" low_stock_threshold, version, created_at, updated_at) VALUES {values}"
            )
        )
    product(engine, boss, "ONE", stock=5, category_id=ids[0])  # and one through the service
    assert rows(engine, KEPT) == rows(engine, RECOUNT)
    statements = [
        "UPDATE products SET stock_quantity = stock_quantity + 1 WHERE id % 2 = 0",
        "UPDATE products SET price = price + 1.01, is_active = NOT is_active WHERE id % 5 = 1",
        f"UPDATE products SET category_id = {ids[3]} WHERE id % 4 = 2",
        "UPDATE products SET low_stock_threshold = stock_quantity WHERE low_stock_threshold IS NULL",
        "UPDATE products SET version = version + 1",  # nothing kept moves
        "DELETE FROM products WHERE id % 6 = 0",
        f"DELETE FROM categories WHERE id = {ids[1]}",
    ]
    for statement in statements:
        with engine.begin() as connection:
            connection.execute(text(statement))
        assert rows(engine, KEPT) == rows(engine, RECOUNT), statement
    assert len(rows(engine, KEPT)) == 3


def test_the_migration_sums_the_products_already_there(engine: Engine, database_url: str) -> None:
    boss = admin(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO categories (name, name_key, slug, created_at, updated_at)"
                " VALUES ('c', 'c', 'c', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        category = connection.execute(text("SELECT id FROM categories")).scalar_one()
    for i in range(20):
        product(engine, boss, f"B-{i}", stock=i, price=f"{i}.99", category_id=category)
    config = alembic_config(database_url)
    command.downgrade(config, "0008_category_stats-1")
    with engine.begin() as connection:  # written while nothing keeps the sums
        connection.execute(text("UPDATE products SET stock_quantity = stock_quantity + 7 WHERE id % 3 = 0"))
    command.upgrade(config, "head")
    kept = rows(engine, KEPT)
    assert kept == rows(engine, RECOUNT) and kept[0][1] == 20
