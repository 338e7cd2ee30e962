"""credentials versions, Unicode-folded category names, throttle windows

Revision ID: 0003_security
Revises: 0002_counts
Create Date: 2026-11-22 12:00:00

- users.credentials_version: every access token carries it; bumping it revokes the user's earlier tokens.
- categories.name_key replaces the unique index on lower(name): SQLite's lower() folds ASCII only, so
  'Ärger' and 'ärger' were two names there and one on PostgreSQL. The key is computed by the service
  (domain.catalog.name_key), so both databases compare names alike.
- throttle_windows: attempts at logging in and registering, counted across workers and restarts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from domain.catalog import name_key

revision: str = "0003_security"
down_revision: str | None = "0002_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns are added and dropped in place, never by batch mode's copy of the table: on SQLite that copy
    # would lose the count triggers of migration 0002.
    op.add_column(
        "users", sa.Column("credentials_version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    _add_name_keys()
    op.drop_index("uq_categories_name_lower", table_name="categories")
    op.create_index("uq_categories_name_key", "categories", ["name_key"], unique=True)

    op.create_table(
        "throttle_windows",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_ends", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_windows")),
    )
    op.create_index(op.f("ix_throttle_windows_window_ends"), "throttle_windows", ["window_ends"])


# The keys of the categories already there, in SQL (the migration also runs offline, as `shop migrate --sql`).
# PostgreSQL 18's casefold() under its builtin Unicode collation is domain.catalog.name_key's full case
# folding (Straße = STRASSE); before 18, lower() under the database's collation, which folds the same but
# for the few letters whose fold is not their lower case (ß, ſ, final sigma...). SQLite's lower() folds
# ASCII only. Online, `_service_keys` then writes the service's own keys; offline, the service rewrites a
# category's key whenever it saves the category.
_POSTGRES_KEYS = """
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 180000 THEN
        EXECUTE 'UPDATE categories
                 SET name_key = normalize(casefold(normalize(name, NFKC) COLLATE pg_unicode_fast), NFKC)';
    ELSE
        UPDATE categories SET name_key = normalize(lower(normalize(name, NFKC)), NFKC);
    END IF;
END $$
"""
_SQLITE_KEYS = "UPDATE categories SET name_key = lower(name)"


def _add_name_keys() -> None:
    """SQLite adds a NOT NULL column only with a default, so there it starts as '' until filled."""
    postgres = op.get_context().dialect.name == "postgresql"
    default = None if postgres else ""
    op.add_column(
        "categories",
        sa.Column("name_key", sa.String(length=400), nullable=postgres, server_default=default),
    )
    op.execute(_POSTGRES_KEYS if postgres else _SQLITE_KEYS)
    if not context.is_offline_mode():
        _service_keys()
    if postgres:
        op.alter_column("categories", "name_key", existing_type=sa.String(length=400), nullable=False)


def _service_keys() -> None:
    """Migrating a live database, the service's own folding replaces the SQL's approximation; only the
    printed SQL (`shop migrate --sql`) keeps it."""
    connection = op.get_bind()
    categories = sa.table("categories", sa.column("id", sa.Integer), sa.column("name", sa.String))
    for category_id, name in connection.execute(sa.select(categories.c.id, categories.c.name)).all():
        connection.execute(
            sa.text("UPDATE categories SET name_key = :key WHERE id = :id"),
            {"key": name_key(name), "id": category_id},
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_throttle_windows_window_ends"), table_name="throttle_windows")
    op.drop_table("throttle_windows")
    op.drop_index("uq_categories_name_key", table_name="categories")
    op.execute("ALTER TABLE categories DROP COLUMN name_key")
    op.create_index("uq_categories_name_lower", "categories", [sa.text("lower(name)")], unique=True)
    op.execute("ALTER TABLE users DROP COLUMN credentials_version")
