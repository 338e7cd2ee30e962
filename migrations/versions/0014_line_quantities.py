"""line quantities: what each order line shipped and got back, and the event types and ledger kind of both

Revision ID: 0014_line_quantities
Revises: 0013_payments
Create Date: 2026-12-02 05:20:00

- order_lines.quantity_shipped and quantity_returned, with CHECKs 0 <= returned <= shipped <= quantity, the
  database's own guard behind the domain's rule when two fulfilments or two returns race. The lines of an
  order already shipped or delivered (by a status change, before fulfilments existed) count as all shipped,
  so such an order can be returned; every other line starts with nothing shipped. Nothing was returned.
- stock_movements: the `return` kind (units an accepted return put back).
- events: fulfillment.created / cancelled, return.requested / accepted / rejected, order.refunded, and the
  `fulfillment` and `return` resources.

The CHECKs change as 0013_payments changes them (its `_set_checks` is loaded, not copied): PostgreSQL swaps the
constraints, SQLite edits its stored CREATE TABLE in place. SQLite adds each column with its CHECK in one
ALTER TABLE (a column constraint may name other columns). No data is read to decide what to emit.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0014_line_quantities"
down_revision: str | None = "0013_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_EVENTS = (
    "order.refunded",
    "fulfillment.created",
    "fulfillment.cancelled",
    "return.requested",
    "return.accepted",
    "return.rejected",
)
NEW_RESOURCES = ("fulfillment", "return")
KINDS = ("initial", "order", "cancellation", "expiry", "adjustment", "correction")
# (column, constraint, condition), in the order they are added; dropped in reverse (returned names shipped).
LINE_COLUMNS = (
    (
        "quantity_shipped",
        "ck_order_lines_shipped_within_quantity",
        "quantity_shipped >= 0 AND quantity_shipped <= quantity",
    ),
    (
        "quantity_returned",
        "ck_order_lines_returned_within_shipped",
        "quantity_returned >= 0 AND quantity_returned <= quantity_shipped",
    ),
)


def _payments() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_payments_0013", Path(__file__).with_name("0013_payments.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kinds(kinds: Sequence[str]) -> dict[str, str]:
    return {"ck_stock_movements_kind_known": f"kind IN ({', '.join(repr(k) for k in kinds)})"}


def upgrade() -> None:
    before = _payments()
    postgres = op.get_context().dialect.name == "postgresql"
    for column, name, condition in LINE_COLUMNS:
        if postgres:
            op.execute(f"ALTER TABLE order_lines ADD COLUMN {column} INTEGER DEFAULT 0 NOT NULL")
            op.execute(f"ALTER TABLE order_lines ADD CONSTRAINT {name} CHECK ({condition})")
        else:
            op.execute(
                f"ALTER TABLE order_lines ADD COLUMN {column} INTEGER DEFAULT 0 NOT NULL "
                f"CONSTRAINT {name} CHECK ({condition})"
            )
    op.execute(
        "UPDATE order_lines SET quantity_shipped = quantity WHERE order_id IN "
        "(SELECT id FROM orders WHERE status IN ('shipped', 'delivered'))"
    )
    before._set_checks(_kinds((*KINDS, "return")), table="stock_movements")
    before._set_checks(
        before._checks(
            before.EVENT_TYPES + before.PAYMENT_EVENTS + NEW_EVENTS,
            (*before.RESOURCES, "payment", *NEW_RESOURCES),
        )
    )


def downgrade() -> None:
    before = _payments()
    # Their events go first, so that the narrower CHECKs hold (deliveries cascade with events); a return's
    # movements stay in the ledger (a product's stock is their sum) as adjustments that say what they were.
    op.execute("DELETE FROM events WHERE type IN ({})".format(", ".join(f"'{t}'" for t in NEW_EVENTS)))
    op.execute(
        "UPDATE stock_movements SET kind = 'adjustment', reason = coalesce(reason, 'return') "
        "WHERE kind = 'return'"
    )
    before._set_checks(
        before._checks(before.EVENT_TYPES + before.PAYMENT_EVENTS, (*before.RESOURCES, "payment"))
    )
    before._set_checks(_kinds(KINDS), table="stock_movements")
    for column, name, _ in reversed(LINE_COLUMNS):
        if op.get_context().dialect.name == "postgresql":
            op.execute(f"ALTER TABLE order_lines DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE order_lines DROP COLUMN {column}")
