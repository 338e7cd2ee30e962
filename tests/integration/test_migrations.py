"""Migrations on both dialects: empty -> head, head -> base -> head, and the models match the schema."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config, migrate
from adapters.sql.tables import compared, metadata
from adapters.sql.unit_of_work import sync_unit_of_work
from domain.catalog import name_key
from entrypoints.api.event_schemas import present
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


def keys_after_upgrade(url: str, names: list[str]) -> dict[str, str]:
    """Categories made before migration 0003, then the upgrade to head: their name keys."""
    migrate(url, "0002_counts")
    engine = make_sync_engine(url)
    with engine.begin() as connection:
        for i, name in enumerate(names):
            connection.execute(
                text(
                    "INSERT INTO categories (name, slug, created_at, updated_at)"
                    " VALUES (:name, :slug, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"name": name, "slug": f"c{i}"},
            )
    migrate(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, name_key FROM categories")).all()
    engine.dispose()
    return {name: key for name, key in rows}


def test_sqlite_name_keys_of_existing_categories_are_the_services(tmp_path) -> None:
    """Migrating a live database, the service's folding replaces SQLite's ASCII-only lower()."""
    names = ["Books", "HOME & Garden", "ÄRGER", "Straße"]
    keys = keys_after_upgrade(f"sqlite:///{tmp_path / 'keys.db'}", names)
    assert keys == {name: name_key(name) for name in names}
    assert keys["ÄRGER"] == "ärger" and keys["Straße"] == "strasse"


def test_postgres_name_keys_of_existing_categories_are_the_services(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    """Migrating a live database, the service's folding replaces the SQL's (exact only from PostgreSQL 18)."""
    url = postgres_server.create_database("shop_name_keys") if postgres_server else postgres_url
    names = ["Books", "ÄRGER", "Straße", "ﬁsh ΣΟΦΟΣ", "ſpice"]
    keys = keys_after_upgrade(url, names)
    assert keys == {name: name_key(name) for name in names}
    assert keys["Straße"] == "strasse" and keys["ſpice"] == "spice"


def orders_after_address_upgrade(url: str) -> None:
    """A database with an order from before migration 0012, upgraded: the order has no addresses and loads;
    the book's unique defaults hold in the database."""
    migrate(url, "0009_user_activity")
    engine = make_sync_engine(url)
    now = "CURRENT_TIMESTAMP"
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (email, name, password_hash, is_active, is_admin, credentials_version,"
                f" created_at, updated_at) VALUES ('ann@shop.test', 'Ann', 'h', true, false, 1, {now}, {now})"
            )
        )
        c.execute(
            text(
                "INSERT INTO orders (order_number, user_id, status, total_amount, version, created_at,"
                f" updated_at) VALUES ('ORD-OLD-1', 1, 'pending', 10, 1, {now}, {now})"
            )
        )
    migrate(url)
    with sync_unit_of_work(engine, present) as uow:
        order = uow.orders.get(1)
        assert (order.order_number, order.shipping_address, order.billing_address) == (
            "ORD-OLD-1",
            None,
            None,
        )
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM orders WHERE shipping_address IS NULL")).scalar_one() == 1
    row = (
        "INSERT INTO addresses (user_id, recipient_name, line1, city, postal_code, country,"
        " is_default_shipping, is_default_billing, created_at, updated_at)"
        f" VALUES (1, 'Ann', 'l1', 'c', 'p', 'DE', :s, :b, {now}, {now})"
    )
    with engine.begin() as c:
        for shipping, billing in [(True, False), (False, True), (False, False), (False, False)]:
            c.execute(text(row), {"s": shipping, "b": billing})
    for shipping, billing in [(True, False), (False, True)]:
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(text(row), {"s": shipping, "b": billing})
    engine.dispose()


def test_sqlite_orders_after_the_address_upgrade(tmp_path) -> None:
    orders_after_address_upgrade(f"sqlite:///{tmp_path / 'addresses.db'}")


def test_postgres_orders_after_the_address_upgrade(
    postgres_server: ThrowawayPostgres | None, postgres_url: str
) -> None:
    url = postgres_server.create_database("shop_addresses") if postgres_server else postgres_url
    orders_after_address_upgrade(url)
