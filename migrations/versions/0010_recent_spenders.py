"""the last 30 days' spend kept per customer, for a top-spenders ranking that stays flat

Revision ID: 0010_recent_spenders
Revises: 0009_user_activity
Create Date: 2026-12-02 02:40:00

- sales_window: one row, `first_day` (seconds since the epoch of a UTC midnight): the first day whose orders
  count in the recent columns below; `days` (30): how long the window is. The housekeeping job moves it
  forward every day (adapters.sql.sales.roll_window_statements).
- user_sales.recent_orders / recent_revenue_cents: the customer's non-cancelled orders and revenue since
  `first_day`, kept by 0007's triggers in the same statement as the all-time totals (no statement more per
  order); ix_user_sales_recent_revenue_user ranks them, so "top spenders of the last 30 days" reads the first
  entries of an index instead of a month of per-customer days.

The triggers are 0007's, with the user_sales statement widened: this revision loads 0007's module (frozen,
as every released revision is) and replaces that one statement, so the rest is not written twice.

A change to an order from before the day before yesterday first takes a share lock on sales_window's row
(PostgreSQL): the job's move of the window locks it for update, so it never subtracts a day's totals while
a change to that day is still uncommitted. New orders and recent ones never wait for it.

First day: today (UTC, when the SQL is applied) and the 29 days before it, backfilled from user_day_sales.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0010_recent_spenders"
down_revision: str | None = "0009_user_activity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAYS = 30
DAY = 86400
_RANKINGS = [
    ("ix_user_sales_revenue_user", "revenue_cents"),
    ("ix_user_sales_recent_revenue_user", "recent_revenue_cents"),
]


def _sales_totals() -> ModuleType:
    """A private copy of revision 0007's module: its trigger statements, to widen one of them."""
    spec = importlib.util.spec_from_file_location(
        "_sales_totals_0007", Path(__file__).with_name("0007_sales_totals.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _today(postgres: bool) -> str:
    if postgres:
        return "CAST(floor(extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC'))) AS BIGINT)"
    return "CAST(strftime('%s', date('now')) AS INTEGER)"


def _widened(totals: ModuleType) -> ModuleType:
    """0007's module whose trigger statements also keep the recent columns."""
    kept = totals._kept

    def recent_kept(source: str, postgres: bool, *, upsert: bool = True) -> list[str]:
        order_sales, _, user_day_sales = kept(source, postgres, upsert=upsert)
        statements = [order_sales, _user_sales(totals, source, postgres), user_day_sales]
        if postgres:
            statements.insert(0, _lock_for_old_days(source))
        return statements

    totals._kept = recent_kept
    return totals


def _lock_for_old_days(source: str) -> str:
    return (
        "PERFORM 1 FROM sales_window WHERE EXISTS"
        f" (SELECT 1 FROM ({source}) AS c WHERE c.created_at < now() - interval '2 days') FOR SHARE"
    )


def _user_sales(totals: ModuleType, source: str, postgres: bool) -> str:
    """0007's user_sales upsert, plus the recent orders and revenue: those of days from sales_window's."""
    statuses = totals.STATUSES
    counts = ", ".join(f"sum(c.sign * CASE WHEN c.status = '{s}' THEN 1 ELSE 0 END)" for s in statuses)
    since = "(SELECT first_day FROM sales_window)"
    recent = f"c.status <> 'cancelled' AND {totals._epoch(postgres, 'c.created_at')} >= {since}"
    earliest, latest = ("least", "greatest") if postgres else ("min", "max")
    added = ", ".join(
        f"{s} = user_sales.{s} + excluded.{s}"
        for s in [*statuses, "revenue_cents", "recent_orders", "recent_revenue_cents"]
    )
    return (
        f"INSERT INTO user_sales (user_id, {totals._COUNTS}, revenue_cents, first_order_at, last_order_at,"
        " recent_orders, recent_revenue_cents)"
        f" SELECT c.user_id, {counts},"
        " sum(CASE WHEN c.status <> 'cancelled' THEN c.sign * c.cents ELSE 0 END),"
        " min(c.created_at), max(c.created_at),"
        f" sum(CASE WHEN {recent} THEN c.sign ELSE 0 END),"
        f" sum(CASE WHEN {recent} THEN c.sign * c.cents ELSE 0 END)"
        f" FROM ({source}) AS c WHERE true GROUP BY c.user_id"
        f" ON CONFLICT (user_id) DO UPDATE SET {added},"
        f" first_order_at = coalesce({earliest}(user_sales.first_order_at, excluded.first_order_at),"
        " user_sales.first_order_at, excluded.first_order_at),"
        f" last_order_at = coalesce({latest}(user_sales.last_order_at, excluded.last_order_at),"
        " user_sales.last_order_at, excluded.last_order_at)"
    )


def _replace_triggers(totals: ModuleType, postgres: bool) -> None:
    """Re-create 0007's trigger functions (PostgreSQL) or triggers (SQLite) from `totals`."""
    if postgres:
        for statement in totals._postgres():
            if statement.startswith("CREATE FUNCTION"):  # the triggers call them by name: kept as they are
                op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        return
    for trigger in totals._TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    for statement in totals._sqlite():
        op.execute(statement)


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    op.create_table(
        "sales_window",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("first_day", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_sales_window_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_window")),
    )
    op.execute(
        f"INSERT INTO sales_window (id, first_day, days) SELECT 1, {_today(postgres)} - {(DAYS - 1) * DAY}, {DAYS}"
    )
    # Added in place, never by batch mode's copy of the table (which would lose nothing here, but is slow).
    for name in ("recent_orders", "recent_revenue_cents"):
        op.add_column("user_sales", sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE user_sales SET recent_orders = r.orders, recent_revenue_cents = r.revenue_cents"
        " FROM (SELECT d.user_id, sum(d.orders) AS orders, sum(d.revenue_cents) AS revenue_cents"
        "  FROM user_day_sales AS d WHERE d.day >= (SELECT first_day FROM sales_window) GROUP BY d.user_id) AS r"
        " WHERE user_sales.user_id = r.user_id"
    )
    # Both rankings in the order they are read (revenue descending, ties by id ascending): 0007's ascending
    # index, read backwards, gave ties in the wrong order, so the planner sorted every customer instead.
    op.drop_index("ix_user_sales_revenue_user", table_name="user_sales")
    for name, revenue in _RANKINGS:
        op.create_index(name, "user_sales", [sa.text(f"{revenue} DESC"), "user_id"])
    _replace_triggers(_widened(_sales_totals()), postgres)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    _replace_triggers(_sales_totals(), postgres)
    for name, _ in _RANKINGS:
        op.drop_index(name, table_name="user_sales")
    op.create_index("ix_user_sales_revenue_user", "user_sales", ["revenue_cents", "user_id"])
    for name in ("recent_revenue_cents", "recent_orders"):
        op.execute(f"ALTER TABLE user_sales DROP COLUMN {name}")
    op.drop_table("sales_window")
