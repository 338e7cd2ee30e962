"""The `shop` CLI against a real SQLite file: migrate, create-admin (twice), purge keys."""

import re
import socket

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import head_revisions
from entrypoints.cli import app


@pytest.fixture
def env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    return url


def test_migrate_then_create_admin_twice(env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    for _ in range(2):
        result = runner.invoke(
            app, ["create-admin", "--email", "Boss@Shop.test", "--password", "quartz-lantern-7"]
        )
        assert result.exit_code == 0, result.output
    engine = make_sync_engine(env)
    with engine.connect() as c:
        rows = c.execute(text("SELECT email, is_admin, is_active FROM users")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("boss@shop.test", True, True)]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8 characters"),
        ("password1", "most common passwords"),
        ("boss-the-admin", "local part"),
    ],
)
def test_create_admin_refuses_a_weak_password(env: str, password: str, reason: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    result = runner.invoke(app, ["create-admin", "--email", "Boss@b.test", "--password", password])
    said = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # rich's box, unwrapped
    assert result.exit_code == 2 and reason in said, result.output
    engine = make_sync_engine(env)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
    engine.dispose()
    engine = make_sync_engine(env)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
    engine.dispose()


def test_purge_idempotency_keys(env: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    result = runner.invoke(app, ["purge-idempotency-keys"])
    assert result.exit_code == 0 and "purged 0 expired keys" in result.output


def test_seed_demo_loads_users_categories_and_products(env: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    result = runner.invoke(app, ["seed-demo", "--users", "7", "--products", "5012"])
    assert result.exit_code == 0, result.output
    engine = make_sync_engine(env)
    with engine.connect() as c:
        counts = [
            c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("users", "categories", "products")
        ]
        stock = c.execute(text("SELECT min(stock_quantity) FROM products")).scalar_one()
    engine.dispose()
    assert counts == [7, 50, 5012] and stock > 0


def test_check_stock_reports_drift_with_exit_code_1(env: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    runner.invoke(app, ["seed-demo", "--users", "1", "--products", "3"])
    clean = runner.invoke(app, ["check-stock"])
    assert clean.exit_code == 0 and "agree for every product" in clean.output
    engine = make_sync_engine(env)
    with engine.begin() as c:  # a change behind the ledger's back
        c.execute(text("UPDATE products SET stock_quantity = stock_quantity - 2 WHERE sku = 'DEMO-00000002'"))
    engine.dispose()
    drifted = runner.invoke(app, ["check-stock"])
    assert drifted.exit_code == 1
    assert "DEMO-00000002" in drifted.output and "1 products drifted" in drifted.output
    assert "DEMO-00000001" not in drifted.output


def test_expire_orders_needs_a_ttl(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    refused = runner.invoke(app, ["expire-orders"])
    assert refused.exit_code != 0 and "SHOP_PENDING_ORDER_TTL is off" in refused.output
    monkeypatch.setenv("SHOP_PENDING_ORDER_TTL", "30m")
    done = runner.invoke(app, ["expire-orders"])
    assert done.exit_code == 0 and "expired 0 pending orders" in done.output


def test_serve_refuses_to_start_in_production_with_public_metrics(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_ENV", "production")
    monkeypatch.setenv("SHOP_SECRET_KEY", "a-production-secret-that-is-long-enough-to-count")
    monkeypatch.delenv("SHOP_METRICS_TOKEN", raising=False)
    monkeypatch.delenv("SHOP_METRICS_PORT", raising=False)
    with socket.socket() as taken:  # were the settings accepted, serving would stop here, not run on
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = CliRunner().invoke(app, ["serve", "--port", str(taken.getsockname()[1])])
    assert result.exit_code != 0
    assert "/metrics must not be public in production" in str(result.exception)


def test_migrate_to_a_revision_then_to_head(env: str) -> None:
    runner = CliRunner()
    partway = runner.invoke(app, ["migrate", "--to", "0003"])
    assert partway.exit_code == 0 and "is at revision 0003" in partway.output
    engine = make_sync_engine(env)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0003_security"
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0 and "is at the latest revision" in result.output
    with engine.connect() as c:
        versions = set(c.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    assert versions == set(head_revisions())
