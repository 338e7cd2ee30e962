"""Order history for benchmarks and trying the service at scale: millions of orders, two lines and a
creation event each, spread over the past year, made inside PostgreSQL (INSERT ... SELECT over
generate_series, a chunk per transaction: nothing crosses the wire, faster than COPY from Python).

The rows are consistent by construction: buyers are demo users, lines name demo products, live orders
took their units from stock with their ledger movements, and the order totals' triggers count every chunk
(one firing per statement)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from domain.orders import OrderStatus

CHUNK = 200_000
HISTORY = timedelta(days=365)
LINE_PRICE = "10.00"
# Most of a year's orders are long delivered.
_MIX = ["delivered"] * 5 + ["shipped", "processing", "confirmed", "pending", "cancelled"]
assert set(_MIX) == {s.value for s in OrderStatus}

_BOUNDS = text(
    "SELECT (SELECT coalesce(max(id), 0) FROM orders),"
    " (SELECT min(id) FROM users WHERE email LIKE '%@demo.shop'),"
    " (SELECT count(*) FROM users WHERE email LIKE '%@demo.shop'),"
    " (SELECT min(id) FROM products WHERE sku LIKE 'DEMO-%'),"
    " (SELECT count(*) FROM products WHERE sku LIKE 'DEMO-%')"
)
# Order i: bought by one of the demo users, at a moment (last - i) steps before `newest`.
_ORDERS = text("""
INSERT INTO orders (id, order_number, user_id, status, total_amount, version, created_at, updated_at)
SELECT i, 'ORD-' || to_char(at AT TIME ZONE 'UTC', 'YYYYMMDD') || '-H' || i,
       :user0 + (i * 7919) % :users, (CAST(:mix AS text[]))[1 + i % :mixes], 2 * CAST(:price AS numeric),
       1, at, at
FROM (SELECT i, CAST(:newest AS timestamptz) - (:last - i) * CAST(:step AS interval) AS at
      FROM generate_series(CAST(:lo AS bigint), :hi) AS i) AS g
""")
# Two lines of different products: the second is offset by 1 .. products - 1 from the first. A shipped or
# delivered order's lines are all shipped.
_LINES = text("""
INSERT INTO order_lines
    (order_id, product_id, product_name, quantity, unit_price, line_total, quantity_shipped)
SELECT i, :product0 + (i * 31 + k * (1 + i % 97 % (:products - 1))) % :products, 'Demo product', 1,
       CAST(:price AS numeric), CAST(:price AS numeric),
       CASE WHEN (CAST(:mix AS text[]))[1 + i % :mixes] IN ('shipped', 'delivered') THEN 1 ELSE 0 END
FROM generate_series(CAST(:lo AS bigint), :hi) AS i, (VALUES (0), (1)) AS line(k)
""")
# ... in one fulfilment of all their units, as migration 0015 gives the orders shipped before it.
_FULFILMENTS = text("""
INSERT INTO fulfillments (order_id, status, created_at, updated_at, version)
SELECT id, 'fulfilled', created_at, created_at, 1 FROM orders
WHERE id BETWEEN :lo AND :hi AND status IN ('shipped', 'delivered') ORDER BY id
""")
_FULFILMENT_LINES = text("""
INSERT INTO fulfillment_lines (fulfillment_id, order_line_id, quantity)
SELECT f.id, l.id, l.quantity FROM fulfillments f JOIN order_lines l ON l.order_id = f.order_id
WHERE f.order_id BETWEEN :lo AND :hi ORDER BY l.id
""")
_EVENTS = text("""
INSERT INTO order_status_events (order_id, from_status, to_status, at, actor_id)
SELECT id, NULL, 'pending', created_at, user_id FROM orders WHERE id BETWEEN :lo AND :hi
""")

# The stock the chunk's live orders took, and their `order` movements: as placing them would have, so the
# ledger reconciles (`shop check-stock`). After a line, its product holds its stock after the chunk plus the
# units of the chunk's later lines.
_TAKE = text("""
WITH taken AS (
    SELECT l.product_id, l.quantity, o.id AS order_id, o.user_id, o.created_at
    FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE o.id BETWEEN :lo AND :hi AND o.status <> 'cancelled'
), moved AS (
    UPDATE products p SET stock_quantity = p.stock_quantity - t.units
    FROM (SELECT product_id, sum(quantity) AS units FROM taken GROUP BY product_id) AS t
    WHERE p.id = t.product_id
    RETURNING p.id, p.stock_quantity
)
INSERT INTO stock_movements (product_id, delta, quantity, kind, actor_id, order_id, created_at)
SELECT t.product_id, -t.quantity,
       m.stock_quantity + coalesce(sum(t.quantity) OVER (
           PARTITION BY t.product_id ORDER BY t.created_at DESC, t.order_id DESC
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
       'order', t.user_id, t.order_id, t.created_at
FROM taken t JOIN moved m ON m.id = t.product_id
""")


def seed_demo_orders(
    engine: Engine, *, orders_count: int, progress: Callable[[str, int], None] = lambda table, n: None
) -> None:
    """Add `orders_count` orders after the last one, placed over the year before now by the demo users
    from the demo products (`seed_demo` first). PostgreSQL only."""
    if orders_count == 0:
        return
    if engine.dialect.name != "postgresql":
        raise ValueError("generating order history needs PostgreSQL (SHOP_DATABASE_URL=postgresql://...)")
    with engine.connect() as connection:
        first, user0, users, product0, products = connection.execute(_BOUNDS).one()
    if users == 0 or products < 2:
        raise ValueError("order history needs demo users and at least 2 demo products: seed them first")
    last = first + orders_count
    shape = {
        "user0": user0,
        "users": users,
        "product0": product0,
        "products": products,
        "mix": _MIX,
        "mixes": len(_MIX),
        "price": LINE_PRICE,
        "newest": datetime.now(UTC),
        "last": last,
        "step": HISTORY / max(orders_count, 1),
    }
    for lo in range(first + 1, last + 1, CHUNK):
        bounds = {"lo": lo, "hi": min(lo + CHUNK - 1, last)}
        with engine.begin() as connection:
            connection.execute(_ORDERS, shape | bounds)
            connection.execute(_LINES, shape | bounds)
            connection.execute(_EVENTS, bounds)
            connection.execute(_FULFILMENTS, bounds)
            connection.execute(_FULFILMENT_LINES, bounds)
            connection.execute(_TAKE, bounds)
        progress("orders", bounds["hi"] - lo + 1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Ids were given, not drawn: the next order placed continues after them.
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('orders', 'id'), :last)"), {"last": last}
        )
        connection.execute(
            text(
                "VACUUM ANALYZE orders, order_lines, order_status_events, stock_movements, fulfillments,"
                " fulfillment_lines"
            )
        )
