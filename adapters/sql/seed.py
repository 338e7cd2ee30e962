"""Demo data for benchmarks and trying the API: many users, categories and products, inserted in large
multi-row batches through Core (no use case per row: this is a loader, not a business operation)."""

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, exists, func, insert, literal, select, text

from adapters.sql import mapping
from adapters.sql.tables import categories, products, stock_movements, users
from domain.catalog import Category
from domain.stock import MovementKind

BATCH = 5_000
CATEGORIES = 50
DEMO_PASSWORD = "plum-kettle-42"


def demo_email(i: int) -> str:
    return f"user{i}@demo.shop"


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _demo_categories(connection: Connection, now: datetime) -> list[int]:
    demo = categories.c.name.like("Demo category %")
    existing = connection.execute(select(categories.c.id).where(demo)).scalars().all()
    if existing:
        return list(existing)
    demo_categories = [
        Category.create(name=f"Demo category {i}", description=None, parent_id=None, at=now)
        for i in range(1, CATEGORIES + 1)
    ]
    rows = [mapping.values(categories, category) for category in demo_categories]
    return list(connection.execute(insert(categories).returning(categories.c.id), rows).scalars().all())


def seed_demo(
    engine: Engine,
    *,
    users_count: int,
    products_count: int,
    password_hash: str,
    progress: Callable[[str, int], None] = lambda table, n: None,
    seed: int = 1,
) -> None:
    """Add `users_count` customers (all with DEMO_PASSWORD), the CATEGORIES demo categories (once) and
    `products_count` products with plenty of stock; running it again adds more, numbered on from the last.
    Reports each inserted batch through `progress(table, rows)`."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        category_ids = _demo_categories(connection, now)
        first_user = (
            1 + connection.execute(select(func.count()).where(users.c.email.like("%@demo.shop"))).scalar_one()
        )
        first_product = (
            1 + connection.execute(select(func.count()).where(products.c.sku.like("DEMO-%"))).scalar_one()
        )
    progress("categories", CATEGORIES)

    user_rows = (
        {
            "email": demo_email(i),
            "name": f"Demo user {i}",
            "password_hash": password_hash,
            "is_active": True,
            "is_admin": False,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(first_user, first_user + users_count)
    )
    product_rows = (
        {
            "name": f"Demo product {i}",
            "slug": f"demo-product-{i}",
            "sku": f"DEMO-{i:08d}",
            "description": None,
            "price": Decimal(rng.randint(100, 50_000)) / 100,
            "stock_quantity": 1_000_000,
            "is_active": True,
            "category_id": category_ids[i % len(category_ids)],
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(first_product, first_product + products_count)
    )
    for table, rows in (("users", user_rows), ("products", product_rows)):
        target = users if table == "users" else products
        for batch in _batches(rows):
            with engine.begin() as connection:
                _insert(connection, target, batch)
            progress(table, len(batch))
    with engine.begin() as connection:
        connection.execute(_OPENING_BALANCES)
    _vacuum_analyze(engine)


# Each new demo product's `initial` stock movement, as Product.create would have raised it.
_OPENING_BALANCES = insert(stock_movements).from_select(
    ["product_id", "delta", "quantity", "kind", "reason", "created_at"],
    select(
        products.c.id,
        products.c.stock_quantity,
        products.c.stock_quantity,
        literal(MovementKind.INITIAL.value),
        literal("demo data"),
        products.c.created_at,
    ).where(
        products.c.sku.like("DEMO-%"),
        ~exists().where(stock_movements.c.product_id == products.c.id),
    ),
)


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: one COPY per batch, the fastest way in, and one firing of the statement-level count
    triggers (an executemany would be one INSERT, so one firing, per row). Elsewhere, a plain executemany."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    # Typed Optional: None only once the pool has closed the connection, which this one is not.
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _vacuum_analyze(engine: Engine) -> None:
    """After a bulk load, as autovacuum would later: fresh planner statistics, and a visibility map that
    lets the product list's count be an index-only scan instead of a visit to every matching row."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE users, products, stock_movements"))
