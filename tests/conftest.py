"""Shared fixtures: a real PostgreSQL (started here when SHOP_TEST_DATABASE_URL is unset) and SQLite files."""

import gc
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, select, text, update

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from adapters.sql.sales import window_target
from adapters.sql.tables import metadata, sales_window
from tests.support.postgres import ThrowawayPostgres

# Property tests try a quick sample in the fast suite and a thorough one in `make test`
# (`--hypothesis-profile=thorough`). No deadline: the machine's load is not the rule under test.
settings.register_profile(
    "fast", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", settings.get_profile("fast"), max_examples=300)
settings.load_profile("fast")


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is imported and collected lives for the whole run: keep it out of every later garbage
    collection (~0.7 s of the fast suite's ~8 s)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres | None]:
    """Our own throwaway server, unless the environment names one to use."""
    if os.environ.get("SHOP_TEST_DATABASE_URL"):
        yield None
        return
    try:
        server = ThrowawayPostgres()
        server.start()
    except (OSError, subprocess.CalledProcessError) as error:  # one clear line, not a traceback per test
        output = getattr(error, "stderr", b"") or b""
        pytest.exit(
            f"cannot start the throwaway PostgreSQL server: {error} {output.decode(errors='replace')}", 3
        )
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: ThrowawayPostgres | None) -> str:
    """A migrated PostgreSQL database shared by the session; tests clean it with `clean_postgres`."""
    if postgres_server is None:
        url = os.environ["SHOP_TEST_DATABASE_URL"]
    else:
        url = postgres_server.create_database("shop_test")
    migrate(url)
    return url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(postgres_url)
    yield engine
    engine.dispose()


def truncate_all(engine: Engine) -> None:
    """Back to what a freshly migrated database holds."""
    made_once = ("order_totals", "sales_window")
    tables = [t for t in metadata.sorted_tables if t.name not in made_once]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())
        connection.execute(
            text("UPDATE order_totals SET orders = 0, revenue_cents = 0, refunded_revenue_cents = 0")
        )
        days = connection.execute(select(sales_window.c.days)).scalar_one()  # as migrated: ending today
        connection.execute(update(sales_window).values(first_day=window_target(datetime.now(UTC), days)))
        # Every category's active products, none yet.
        connection.execute(
            text("INSERT INTO category_product_counts (category_id, active_products) VALUES (0, 0)")
        )


@pytest.fixture
def clean_postgres(postgres_url: str, postgres_engine: Engine) -> str:
    truncate_all(postgres_engine)
    return postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url)
    return url
