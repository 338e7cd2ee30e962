-- The order transaction by hand, for PostgreSQL's own ceiling: check the buyer, two conditional stock
-- updates, the order, two lines, one status event. Run by tests/bench/run.py with -D nprod=... -D nusers=...
\set a random(1, :nprod)
\set b random(1, :nprod)
\set u random(1, :nusers)
BEGIN;
SELECT id, is_active FROM users WHERE id = :u;
UPDATE products SET stock_quantity = stock_quantity - 1, version = version + 1 WHERE id = :a AND stock_quantity >= 1;
UPDATE products SET stock_quantity = stock_quantity - 1, version = version + 1 WHERE id = :b AND stock_quantity >= 1;
INSERT INTO orders (order_number, user_id, status, total_amount, version, created_at, updated_at)
  VALUES ('PGB-' || substr(md5(random()::text), 1, 24), :u, 'pending', 2.00, 1, now(), now()) RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, product_id, product_name, quantity, unit_price, line_total)
  VALUES (:order_id, :a, 'p', 1, 1.00, 1.00), (:order_id, :b, 'p', 1, 1.00, 1.00);
INSERT INTO order_status_events (order_id, from_status, to_status, at, actor_id) VALUES (:order_id, NULL, 'pending', now(), :u);
END;
