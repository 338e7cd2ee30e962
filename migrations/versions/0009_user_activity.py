"""users' last log-in, for bulk deactivation of the customers not seen since a time

Revision ID: 0009_user_activity
Revises: 0008_category_stats
Create Date: 2026-12-02 00:30:00

- users.last_login_at: set on every successful log-in (in the log-in's closing transaction); null for an
  account that has not logged in since this revision (POST /users/bulk-deactivate then uses created_at).
- ix_users_active_last_login_created (is_active, last_login_at, created_at): serves both branches of "not
  seen since" (logged in before the time; never logged in and registered before it) as index ranges.

No data is read to decide what to emit, so the revision renders the same SQL offline (`--sql`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_user_activity"
down_revision: str | None = "0008_category_stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added and dropped in place, never by batch mode's copy of the table (which would lose triggers).
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_users_active_last_login_created", "users", ["is_active", "last_login_at", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_users_active_last_login_created", table_name="users")
    op.execute("ALTER TABLE users DROP COLUMN last_login_at")
