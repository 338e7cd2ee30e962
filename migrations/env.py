"""Alembic environment: the URL comes from the service's settings unless the caller passed a connection.

Offline mode (`shop migrate --sql`, adapters.sql.migrate.migration_sql) connects to nothing: it writes the
SQL for PostgreSQL with every value rendered inline. So the revisions decide
what to emit from `op.get_context().dialect.name`, never from reads through `op.get_bind()`."""

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlmodel.sql.sqltypes import AutoString

from adapters.settings import Settings
from adapters.sql.engine import make_sync_engine
from adapters.sql.tables import compared, metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render SQLModel's AutoString as a plain sa.String, so revisions never need `import sqlmodel`."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_object=compared,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        render_item=render_item,
    )


def write_sql() -> None:
    """Offline: the SQL goes to the config's output buffer, in one transaction (PostgreSQL's DDL is
    transactional: a script that fails half-way changes nothing). `paramstyle: named` keeps a `%` in a
    statement (`id % 16`) as written instead of doubled for psycopg's format style."""
    context.configure(
        dialect_name="postgresql",  # SQLite databases are migrated online, by `shop migrate`
        dialect_opts={"paramstyle": "named"},
        literal_binds=True,
        target_metadata=metadata,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    if context.is_offline_mode():
        write_sql()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("database_url") or Settings().database_url
    engine = make_sync_engine(url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
