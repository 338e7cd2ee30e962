"""sales totals kept per time bucket, per customer and per customer and day

Revision ID: 0007_sales
Revises: 0006_events
Create Date: 2026-12-02 00:30:00

- order_sales: orders per status and revenue (cents, cancelled excluded) per UTC bucket of 15 minutes, one
  hour and one day (`span` seconds, `start` seconds since the epoch), in 16 slots (an order counts in slot
  id % 16, as in order_totals, so that concurrent orders do not queue on one row per bucket): the sales
  report by period reads a period's whole days, hours and quarters instead of its orders.
- user_sales: a customer's orders per status, revenue, first and last order time (GET /users/{id}/stats;
  the all-time top spenders on ix_user_sales_revenue_user).
- user_day_sales: a customer's non-cancelled orders and revenue per UTC day (top spenders of a period).

All three are kept by triggers on orders, in the transaction of the order's change: statement-level on
PostgreSQL (one upsert per table and statement, over all its rows), row-level on SQLite; and backfilled
from the orders here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_sales"
down_revision: str | None = "0006_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("pending", "confirmed", "processing", "shipped", "delivered", "cancelled")
SPANS = (900, 3600, 86400)
SLOTS = 16
DAY = 86400
_COUNTS = ", ".join(STATUSES)
_SPANS = " UNION ALL ".join(f"SELECT {s} AS span" for s in SPANS)


def _epoch(postgres: bool, column: str) -> str:
    """Whole seconds since the epoch of a timestamp (orders are after 1970: division floors)."""
    if postgres:
        return f"CAST(floor(extract(epoch FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _source(rows: str, sign: int, *, where: str = "") -> str:
    """The changed orders as (sign, slot, user_id, status, created_at, cents): `rows` is a table or a row
    alias."""
    if rows in ("NEW", "OLD"):  # SQLite's row-level triggers
        return (
            f"SELECT {sign} AS sign, {rows}.id % {SLOTS} AS slot, {rows}.user_id AS user_id, "
            f"{rows}.status AS status, {rows}.created_at AS created_at, "
            f"CAST(round({rows}.total_amount * 100) AS BIGINT) AS cents"
        )
    return (
        f"SELECT {sign} AS sign, r.id % {SLOTS} AS slot, r.user_id, r.status, r.created_at, "
        f"CAST(round(r.total_amount * 100) AS BIGINT) AS cents FROM {rows} AS r {where}"
    )


def _kept(source: str, postgres: bool, *, upsert: bool = True) -> list[str]:
    """The statements that add the signed rows of `source` to the three kept tables."""
    counts = ", ".join(f"sum(c.sign * CASE WHEN c.status = '{s}' THEN 1 ELSE 0 END)" for s in STATUSES)
    paid = "CASE WHEN c.status <> 'cancelled' THEN c.sign ELSE 0 END"
    revenue = "sum(CASE WHEN c.status <> 'cancelled' THEN c.sign * c.cents ELSE 0 END)"

    def added(table: str) -> str:
        return ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in [*STATUSES, "revenue_cents"])

    earliest, latest = ("least", "greatest") if postgres else ("min", "max")
    epoch = _epoch(postgres, "c.created_at")

    def conflict(keys: str, sets: str) -> str:
        return f" ON CONFLICT ({keys}) DO UPDATE SET {sets}" if upsert else ""

    return [
        f"INSERT INTO order_sales (span, start, slot, {_COUNTS}, revenue_cents)"
        f" SELECT s.span, {epoch} / s.span * s.span, c.slot, {counts}, {revenue}"
        f" FROM ({source}) AS c CROSS JOIN ({_SPANS}) AS s WHERE true GROUP BY 1, 2, 3"
        + conflict("span, start, slot", added("order_sales")),
        f"INSERT INTO user_sales (user_id, {_COUNTS}, revenue_cents, first_order_at, last_order_at)"
        f" SELECT c.user_id, {counts}, {revenue}, min(c.created_at), max(c.created_at)"
        f" FROM ({source}) AS c WHERE true GROUP BY c.user_id"
        + conflict(
            "user_id",
            f"{added('user_sales')},"
            f" first_order_at = coalesce({earliest}(user_sales.first_order_at, excluded.first_order_at),"
            " user_sales.first_order_at, excluded.first_order_at),"
            f" last_order_at = coalesce({latest}(user_sales.last_order_at, excluded.last_order_at),"
            " user_sales.last_order_at, excluded.last_order_at)",
        ),
        f"INSERT INTO user_day_sales (day, user_id, orders, revenue_cents)"
        f" SELECT {epoch} / {DAY} * {DAY}, c.user_id, sum({paid}), {revenue}"
        f" FROM ({source}) AS c WHERE c.status <> 'cancelled' GROUP BY 1, 2"
        + conflict(
            "day, user_id",
            "orders = user_day_sales.orders + excluded.orders,"
            " revenue_cents = user_day_sales.revenue_cents + excluded.revenue_cents",
        ),
    ]


# An order deleted (or moved to another customer or time) may have been a customer's first or last.
_RECOUNT_FIRST_LAST = """UPDATE user_sales SET
    first_order_at = (SELECT min(o.created_at) FROM orders o WHERE o.user_id = user_sales.user_id),
    last_order_at = (SELECT max(o.created_at) FROM orders o WHERE o.user_id = user_sales.user_id)
    WHERE user_id IN ({users})"""

_MOVED = (
    "(o.status, o.total_amount, o.created_at, o.user_id)"
    " IS DISTINCT FROM (n.status, n.total_amount, n.created_at, n.user_id)"
)
_PAIRS = "old_rows AS o JOIN new_rows AS n ON n.id = o.id"


def _postgres() -> list[str]:
    def function(name: str, statements: list[str]) -> str:
        body = ";\n        ".join(statements)
        return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body};
        RETURN NULL;
    END $$"""

    def moved(row: str, sign: int) -> str:
        return (
            f"SELECT {sign} AS sign, {row}.id % {SLOTS} AS slot, {row}.user_id, {row}.status, {row}.created_at,"
            f" CAST(round({row}.total_amount * 100) AS BIGINT) AS cents FROM {_PAIRS} WHERE {_MOVED}"
        )

    moved_users = (
        f"SELECT o.user_id FROM {_PAIRS} WHERE o.created_at IS DISTINCT FROM n.created_at"
        " OR o.user_id IS DISTINCT FROM n.user_id"
    )
    return [
        function("order_sales_inserted", _kept(_source("new_rows", 1), True)),
        function(
            "order_sales_deleted",
            _kept(_source("old_rows", -1), True)
            + [_RECOUNT_FIRST_LAST.format(users="SELECT user_id FROM old_rows")],
        ),
        function(
            "order_sales_updated",
            _kept(f"{moved('o', -1)} UNION ALL {moved('n', 1)}", True)
            + [_RECOUNT_FIRST_LAST.format(users=moved_users)],
        ),
        """CREATE TRIGGER orders_inserted_sales AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION order_sales_inserted()""",
        """CREATE TRIGGER orders_deleted_sales AFTER DELETE ON orders REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION order_sales_deleted()""",
        """CREATE TRIGGER orders_updated_sales AFTER UPDATE ON orders
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION order_sales_updated()""",
    ]


def _sqlite() -> list[str]:
    def trigger(name: str, event: str, statements: list[str], when: str = "") -> str:
        body = ";\n        ".join(statements)
        return f"CREATE TRIGGER {name} AFTER {event} ON orders {when} BEGIN\n        {body};\n    END"

    def kept(source: str) -> list[str]:
        return _kept(source, False)

    moved = (
        "WHEN OLD.status IS NOT NEW.status OR OLD.total_amount IS NOT NEW.total_amount"
        " OR OLD.created_at IS NOT NEW.created_at OR OLD.user_id IS NOT NEW.user_id"
    )
    return [
        trigger("orders_inserted_sales", "INSERT", kept(_source("NEW", 1))),
        trigger(
            "orders_deleted_sales",
            "DELETE",
            kept(_source("OLD", -1)) + [_RECOUNT_FIRST_LAST.format(users="OLD.user_id")],
        ),
        trigger(
            "orders_updated_sales",
            "UPDATE OF status, total_amount, created_at, user_id",
            kept(f"{_source('OLD', -1)} UNION ALL {_source('NEW', 1)}")
            + [_RECOUNT_FIRST_LAST.format(users="OLD.user_id, NEW.user_id")],
            moved,
        ),
    ]


_TRIGGERS = ["orders_inserted_sales", "orders_deleted_sales", "orders_updated_sales"]
_FUNCTIONS = ["order_sales_inserted", "order_sales_deleted", "order_sales_updated"]


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(s, sa.BigInteger(), nullable=False) for s in STATUSES]


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    op.create_table(
        "order_sales",
        sa.Column("span", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        *_counts(),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("span", "start", "slot", name=op.f("pk_order_sales")),
    )
    op.create_table(
        "user_sales",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        *_counts(),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("first_order_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_sales")),
    )
    op.create_index("ix_user_sales_revenue_user", "user_sales", ["revenue_cents", "user_id"])
    op.create_table(
        "user_day_sales",
        sa.Column("day", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "user_id", name=op.f("pk_user_day_sales")),
    )
    # The backfill: the same statements as the triggers', over every order, into empty tables.
    for statement in _kept(_source("orders", 1), postgres, upsert=False):
        op.execute(statement)
    for statement in _postgres() if postgres else _sqlite():
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON orders" if postgres else f"DROP TRIGGER {trigger}")
    if postgres:
        for function in _FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("user_day_sales")
    op.drop_index("ix_user_sales_revenue_user", table_name="user_sales")
    op.drop_table("user_sales")
    op.drop_table("order_sales")
