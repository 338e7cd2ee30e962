"""revenue net of refunds in the kept sales totals

Revision ID: 0017_net_revenue
Revises: 0016_returns
Create Date: 2026-12-02 05:20:00

An order's revenue in the kept totals becomes its net revenue: its total less the refunds of its value,
refunds first returning what was captured above the total (an overpayment, never revenue):
net = total - max(0, refunded - max(0, captured - total)), in cents (domain.payments
`MoneyTotals.net_revenue`, stated here once: `_refunded`). A cancelled order still counts 0.

- order_totals (0004) and order_sales (0007): `revenue_cents` net, and `refunded_revenue_cents` (the
  refunds of the orders' value: gross = revenue + refunded), so /orders/stats and its periods lose nothing.
- user_sales (all time and the recent window of 0010) and user_day_sales: `revenue_cents` net; no column
  more (the top spenders' indexes rank the net revenue).
- The triggers fire on the money columns too (captured_cents, refunded_cents), but write kept rows only
  when an order's net changes: an authorisation, or a capture within the total, writes none. A refund moves
  the totals of the order's own buckets (by its creation time), in the refund's transaction.

0007's trigger generators are reused as 0010 does (loading the frozen modules): the cents they read from an
order become its net cents and its refunded revenue beside them, and order_sales' upsert gains the column.
order_totals' triggers (0004's, small) are written here with the new column; the downgrade re-creates 0004's.

The backfill moves the kept totals of the orders that already have refunds, in plain SQL (offline too): the
kept statements over those orders counted once as they were (-1) and once net (+1).
"""

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0017_net_revenue"
down_revision: str | None = "0016_returns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 16
REFUNDED = "refunded_revenue_cents"
# How 0007's generators read an order's cents (a row alias: r, o, n, NEW, OLD), replaced by `_net_columns`.
_GROSS = re.compile(r"CAST\(round\((\w+)\.total_amount \* 100\) AS BIGINT\) AS cents")


def _module(name: str, file: str) -> ModuleType:
    """A private copy of a released (frozen) revision's module."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cents(row: str) -> str:
    return f"CAST(round({row}.total_amount * 100) AS BIGINT)"


def _refunded(row: str, postgres: bool) -> str:
    """The refunds of the order's value, in cents: max(0, refunded - max(0, captured - total))."""
    most = "greatest" if postgres else "max"
    overpaid = f"{most}(0, {row}.captured_cents - {_cents(row)})"
    return f"{most}(0, {row}.refunded_cents - {overpaid})"


def _net(row: str, postgres: bool) -> str:
    return f"({_cents(row)} - {_refunded(row, postgres)})"


def _swap(statement: str, old: str, new: str) -> str:
    """`old` replaced in a generated statement; it must be there (a changed generator fails loudly)."""
    assert old in statement, old
    return statement.replace(old, new)


# --- order_totals (0004): per status and slot ---------------------------------------------------------


def _totals_row(row: str, sign: str, postgres: bool) -> str:
    return (
        f"UPDATE order_totals SET orders = orders {sign} 1,"
        f" revenue_cents = revenue_cents {sign} {_net(row, postgres)},"
        f" {REFUNDED} = {REFUNDED} {sign} {_refunded(row, postgres)}"
        f" WHERE status = {row}.status AND slot = {row}.id % {SLOTS}"
    )


def _totals_moved_when(postgres: bool) -> str:
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    return " OR ".join(
        f"{old} {differs} {new}"
        for old, new in [
            ("OLD.status", "NEW.status"),
            ("OLD.total_amount", "NEW.total_amount"),
            (_refunded("OLD", postgres), _refunded("NEW", postgres)),
        ]
    )


_TOTALS_MOVED_ON = "status, total_amount, captured_cents, refunded_cents"


def _totals_postgres() -> list[str]:
    sign = "(CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)"
    return [
        f"""CREATE OR REPLACE FUNCTION order_totals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE order_totals AS t
        SET orders = t.orders + d.n * {sign}, revenue_cents = t.revenue_cents + d.cents * {sign},
            {REFUNDED} = t.{REFUNDED} + d.refunded * {sign}
        FROM (
            SELECT c.status, c.id % {SLOTS} AS slot, count(*) AS n, sum({_net("c", True)}) AS cents,
                sum({_refunded("c", True)}) AS refunded
            FROM changed AS c GROUP BY 1, 2
        ) AS d
        WHERE t.status = d.status AND t.slot = d.slot;
        RETURN NULL;
    END $$""",
        # The old and the new status's rows in one order (by status), whichever way the order moved: a
        # fulfilment's cancellation moves shipped -> processing, the reverse of shipping, and the two must
        # not lock the same pair of rows in opposite orders (a deadlock).
        f"""CREATE OR REPLACE FUNCTION order_totals_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status <= NEW.status THEN
            {_totals_row("OLD", "-", True)};
            {_totals_row("NEW", "+", True)};
        ELSE
            {_totals_row("NEW", "+", True)};
            {_totals_row("OLD", "-", True)};
        END IF;
        RETURN NULL;
    END $$""",
        "DROP TRIGGER orders_moved_totals ON orders",
        f"""CREATE TRIGGER orders_moved_totals AFTER UPDATE OF {_TOTALS_MOVED_ON} ON orders FOR EACH ROW
    WHEN ({_totals_moved_when(True)}) EXECUTE FUNCTION order_totals_moved()""",
    ]


def _totals_sqlite() -> list[str]:
    return [
        *(f"DROP TRIGGER {name}" for name in _TOTALS_TRIGGERS),
        f"CREATE TRIGGER orders_inserted_totals AFTER INSERT ON orders"
        f" BEGIN {_totals_row('NEW', '+', False)}; END",
        f"CREATE TRIGGER orders_deleted_totals AFTER DELETE ON orders"
        f" BEGIN {_totals_row('OLD', '-', False)}; END",
        f"""CREATE TRIGGER orders_moved_totals AFTER UPDATE OF {_TOTALS_MOVED_ON} ON orders
    WHEN {_totals_moved_when(False)} BEGIN
        {_totals_row("OLD", "-", False)};
        {_totals_row("NEW", "+", False)};
    END""",
    ]


_TOTALS_TRIGGERS = ["orders_inserted_totals", "orders_deleted_totals", "orders_moved_totals"]


def _totals_0004(postgres: bool) -> list[str]:
    """0004's order_totals triggers as it made them (PostgreSQL: its functions replaced, the update trigger
    re-created; SQLite: all three re-created)."""
    old = _module("_history_at_scale_0004", "0004_history_at_scale.py")
    if not postgres:
        return [*(f"DROP TRIGGER {name}" for name in _TOTALS_TRIGGERS), *old._SQLITE]
    statements = [s.strip() for s in old._POSTGRES]
    functions = [
        s.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for s in statements
        if s.startswith("CREATE FUNCTION")
    ]
    moved = [s for s in statements if s.startswith("CREATE TRIGGER orders_moved_totals")]
    assert len(functions) == 2 and len(moved) == 1
    return [*functions, "DROP TRIGGER orders_moved_totals ON orders", *moved]


# --- order_sales, user_sales, user_day_sales (0007, widened by 0010) ------------------------------------


def _recent_spenders() -> ModuleType:
    return _module("_recent_spenders_0010", "0010_recent_spenders.py")


def _sales_0010() -> ModuleType:
    """0007's module as 0010 leaves it (the recent columns kept too)."""
    recent = _recent_spenders()
    return recent._widened(recent._sales_totals())


def _net_columns(statement: str, postgres: bool) -> str:
    """An order's cents in 0007's statements become its net cents, and its refunded revenue beside them."""
    return _GROSS.sub(
        lambda m: f"{_net(m[1], postgres)} AS cents, {_refunded(m[1], postgres)} AS refunded", statement
    )


def _order_sales(totals: ModuleType, source: str, postgres: bool, upsert: bool) -> str:
    """0007's order_sales upsert, plus the refunded revenue of the non-cancelled orders."""
    counts = ", ".join(f"sum(c.sign * CASE WHEN c.status = '{s}' THEN 1 ELSE 0 END)" for s in totals.STATUSES)

    def paid(column: str) -> str:
        return f"sum(CASE WHEN c.status <> 'cancelled' THEN c.sign * c.{column} ELSE 0 END)"

    added = ", ".join(
        f"{s} = order_sales.{s} + excluded.{s}" for s in [*totals.STATUSES, "revenue_cents", REFUNDED]
    )
    return (
        f"INSERT INTO order_sales (span, start, slot, {totals._COUNTS}, revenue_cents, {REFUNDED})"
        f" SELECT s.span, {totals._epoch(postgres, 'c.created_at')} / s.span * s.span, c.slot, {counts},"
        f" {paid('cents')}, {paid('refunded')}"
        f" FROM ({source}) AS c CROSS JOIN ({totals._SPANS}) AS s WHERE true GROUP BY 1, 2, 3"
        + (f" ON CONFLICT (span, start, slot) DO UPDATE SET {added}" if upsert else "")
    )


def _netted(totals: ModuleType) -> ModuleType:
    """0010's module whose triggers keep net revenue (and order_sales' refunded revenue), fired by the money
    columns too, writing only when an order's figures change."""
    kept, postgres_triggers, sqlite_triggers = totals._kept, totals._postgres, totals._sqlite

    def net_kept(source: str, postgres: bool, *, upsert: bool = True) -> list[str]:
        statements = kept(source, postgres, upsert=upsert)
        at = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO order_sales"))
        statements[at] = _order_sales(totals, source, postgres, upsert)
        return statements

    def net_postgres() -> list[str]:
        return [_net_columns(s, True) for s in postgres_triggers()]

    def net_sqlite() -> list[str]:
        moved = f" OR {_refunded('OLD', False)} IS NOT {_refunded('NEW', False)}"
        statements = []
        for statement in sqlite_triggers():
            if statement.startswith("CREATE TRIGGER orders_updated_sales"):
                columns = "UPDATE OF status, total_amount, created_at, user_id"
                statement = _swap(statement, columns, f"{columns}, captured_cents, refunded_cents")
                when = "OR OLD.user_id IS NOT NEW.user_id"
                statement = _swap(statement, when, when + moved)
            statements.append(_net_columns(statement, False))
        return statements

    # The PostgreSQL update trigger fires on every update of orders; its rows count when these differ.
    totals._MOVED = (
        f"(o.status, o.total_amount, o.created_at, o.user_id, {_refunded('o', True)}) IS DISTINCT FROM"
        f" (n.status, n.total_amount, n.created_at, n.user_id, {_refunded('n', True)})"
    )
    totals._kept, totals._postgres, totals._sqlite = net_kept, net_postgres, net_sqlite
    return totals


def _moved_to_net(totals: ModuleType, postgres: bool, sign: int) -> list[str]:
    """The kept statements over the orders that have refunds of their value: counted as they were kept
    (gross) with `-sign`, and net with `sign`. Plain SQL (the trigger-only lock left out)."""

    def rows(net: bool, counted: int) -> str:
        cents = _net("r", postgres) if net else _cents("r")
        refunded = _refunded("r", postgres) if net else "0"
        return (
            f"SELECT {counted} AS sign, r.id % {SLOTS} AS slot, r.user_id, r.status, r.created_at,"
            f" {cents} AS cents, {refunded} AS refunded FROM orders AS r WHERE {_refunded('r', postgres)} > 0"
        )

    source = f"{rows(False, -sign)} UNION ALL {rows(True, sign)}"
    return [s for s in totals._kept(source, postgres) if not s.startswith("PERFORM")]


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for table in ("order_totals", "order_sales"):  # in place: a batch copy would lose the triggers
        op.add_column(table, sa.Column(REFUNDED, sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        f"UPDATE order_totals SET revenue_cents = revenue_cents - m.refunded, {REFUNDED} = m.refunded"
        f" FROM (SELECT o.status, o.id % {SLOTS} AS slot, sum({_refunded('o', postgres)}) AS refunded"
        f"  FROM orders AS o WHERE o.refunded_cents > 0 GROUP BY 1, 2) AS m"
        " WHERE order_totals.status = m.status AND order_totals.slot = m.slot"
    )
    totals = _netted(_sales_0010())
    for statement in _moved_to_net(totals, postgres, 1):
        op.execute(statement)
    for statement in _totals_postgres() if postgres else _totals_sqlite():
        op.execute(statement)
    _recent_spenders()._replace_triggers(totals, postgres)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for statement in _totals_0004(postgres):
        op.execute(statement)
    _recent_spenders()._replace_triggers(_sales_0010(), postgres)
    for statement in _moved_to_net(_netted(_sales_0010()), postgres, -1):
        op.execute(statement)
    op.execute(f"UPDATE order_totals SET revenue_cents = revenue_cents + {REFUNDED}")
    for table in ("order_sales", "order_totals"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {REFUNDED}")
