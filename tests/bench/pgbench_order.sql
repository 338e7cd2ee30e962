-- The service's whole order transaction by hand, for PostgreSQL's own ceiling: the statements a two-line
-- order sends today (adapters/sql/order_insert.py, stock_moves.py, events.py), in the same order, on the same
-- migrated database with its triggers: the caller read, BEGIN, the products locked in id order, the order
-- with its status change and lines in one statement, the stock update with its 2 ledger rows and the
-- order.placed event in the outbox (a payload of the service's size, ~550 bytes) in another, COMMIT.
-- `python -m tests.bench.same_work` prints both side by side. Run by tests/bench/run.py with
-- -D nprod=... -D nusers=...
\set a random(1, :nprod)
\set b random(1, :nprod - 1)
\set b CASE WHEN :b >= :a THEN :b + 1 ELSE :b END
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set u random(1, :nusers)
SELECT users.name, users.id, users.email, users.password_hash, users.is_active, users.is_admin,
  users.credentials_version, users.created_at, users.updated_at, users.last_login_at
  FROM users WHERE users.id = :u;
BEGIN;
SELECT products.name, products.description, products.stock_quantity, products.sku, products.price,
  products.low_stock_threshold, products.id, products.slug, products.is_active, products.category_id,
  products.version, products.created_at, products.updated_at
  FROM products WHERE products.id IN (:lo, :hi) ORDER BY products.id FOR UPDATE;
WITH new_order AS (
  INSERT INTO orders (order_number, user_id, status, total_amount, version, created_at, updated_at,
    shipping_address, billing_address, authorized_cents, captured_cents, refunded_cents)
  VALUES ('PGB-' || substr(md5(random()::text), 1, 19), :u, 'pending', 2.00, 1, now(), now(), NULL, NULL, 0, 0, 0)
  RETURNING orders.id),
new_status_changes AS (
  INSERT INTO order_status_events (order_id, from_status, to_status, at, actor_id, reason)
  SELECT new_order.id, NULL, 'pending', now(), :u, NULL FROM new_order),
new_lines AS (
  INSERT INTO order_lines (order_id, product_id, product_name, quantity, unit_price, line_total)
  SELECT new_order.id, :lo, 'Product', 1, 1.00, 1.00 FROM new_order
  UNION ALL SELECT new_order.id, :hi, 'Product', 1, 1.00, 1.00 FROM new_order
  RETURNING order_lines.order_id, order_lines.id, order_lines.product_id)
SELECT new_lines.order_id, new_lines.id AS line_id, new_lines.product_id FROM new_lines \aset
WITH moved AS (
  UPDATE products SET stock_quantity = products.stock_quantity + CASE WHEN products.id = :lo THEN -1
      WHEN products.id = :hi THEN -1 END, version = products.version + 1, updated_at = now()
    WHERE products.id IN (:lo, :hi) AND products.stock_quantity + CASE WHEN products.id = :lo THEN -1
      WHEN products.id = :hi THEN -1 END >= 0
    RETURNING products.id),
outbox AS (
  INSERT INTO events (type, resource_type, resource_id, actor_id, created_at, payload, sequence)
  SELECT 'order.placed', 'order', :order_id, :u, now(),
    jsonb_build_object('id', :order_id, 'user_id', :u, 'order_number', 'ORD-20261202-BP8UUG4C9P',
      'status', 'pending', 'version', 1, 'total_amount', '2.00', 'payment_status', 'unpaid',
      'created_at', now()::text, 'updated_at', now()::text, 'billing_address', NULL, 'shipping_address', NULL,
      'items', jsonb_build_array(
        jsonb_build_object('id', :line_id - 1, 'product_id', :lo, 'product_name', 'Product', 'quantity', 1,
          'unit_price', '1.00', 'line_total', '1.00'),
        jsonb_build_object('id', :line_id, 'product_id', :hi, 'product_name', 'Product', 'quantity', 1,
          'unit_price', '1.00', 'line_total', '1.00'))),
    (SELECT coalesce(max(events.sequence), 0) FROM events
      WHERE events.resource_type = 'order' AND events.resource_id = :order_id) + 1)
INSERT INTO stock_movements (product_id, delta, quantity, kind, reason, actor_id, order_id, created_at)
SELECT movement.product_id, movement.delta, movement.quantity, movement.kind, movement.reason,
  movement.actor_id, movement.order_id, movement.created_at
FROM (SELECT :lo AS product_id, -1 AS delta, 1 AS quantity, 'order' AS kind, NULL AS reason, :u AS actor_id,
        :order_id AS order_id, now() AS created_at
      UNION ALL SELECT :hi, -1, 1, 'order', NULL, :u, :order_id, now()) AS movement
WHERE movement.product_id IN (SELECT moved.id FROM moved)
RETURNING stock_movements.id;
COMMIT;
