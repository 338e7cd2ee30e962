"""Migrations on both dialects: empty -> head, head -> base -> head, and the models match the schema."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config
from adapters.sql.tables import compared, metadata
from tests.support.postgres import ThrowawayPostgres


def _diff(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": compared}
        )
        return compare_metadata(context, metadata)


def check_round_trip(url: str) -> None:
    config = alembic_config(url)
    engine = make_sync_engine(url)
    command.upgrade(config, "head")
    assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
    assert _diff(engine) == []
    command.check(config)  # the CLI's own "models match migrations" check
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert _diff(engine) == []
    engine.dispose()


def test_sqlite_round_trip(tmp_path) -> None:
    check_round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


def test_postgres_round_trip(postgres_server: ThrowawayPostgres | None, postgres_url: str) -> None:
    url = postgres_server.create_database("shop_migrations") if postgres_server else postgres_url
    check_round_trip(url)
