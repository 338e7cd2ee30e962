"""SQLite "database is locked" is retried a bounded number of times, then answered with a clear 503."""

import asyncio
import sqlite3

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from sqlalchemy import text

from adapters.settings import Settings
from adapters.sql.engine import EngineOptions, make_async_engine, make_sync_engine
from adapters.sql.unit_of_work import MAX_ATTEMPTS, SqlUnitOfWorkRunner
from application.errors import ServiceUnavailable
from application.users import RegisterUser, register_user
from entrypoints.api.app import create_app
from entrypoints.api.event_schemas import present
from entrypoints.container import Container
from tests.doubles.security import FastPasswordHasher
from tests.integration.helpers import clock


@pytest.fixture
def locked(sqlite_url: str):
    """Another process holds SQLite's write lock until the test lets go."""
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    yield blocker
    blocker.execute("ROLLBACK")
    blocker.close()


def users(url: str) -> int:
    engine = make_sync_engine(url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM users")).scalar_one()
    engine.dispose()
    return n


def test_locked_database_is_retried_then_unavailable(sqlite_url: str, locked: sqlite3.Connection) -> None:
    async def scenario() -> int:
        engine = make_async_engine(sqlite_url, EngineOptions(sqlite_busy_timeout_ms=20))
        runner = SqlUnitOfWorkRunner(engine, present)
        cmd = RegisterUser("ann@shop.test", "Ann", "plum-kettle-42")
        with pytest.raises(ServiceUnavailable):
            await register_user(cmd, runner=runner, hasher=FastPasswordHasher(), clock=clock)
        locked.execute("ROLLBACK")  # the other writer finishes
        await register_user(cmd, runner=runner, hasher=FastPasswordHasher(), clock=clock)
        locked.execute("BEGIN IMMEDIATE")
        await engine.dispose()
        return runner.retries

    assert asyncio.run(scenario()) == MAX_ATTEMPTS - 1
    assert users(sqlite_url) == 1


def test_api_answers_503_problem_while_locked(sqlite_url: str, locked: sqlite3.Connection) -> None:
    container = Container()
    container.settings.override(
        providers.Object(Settings(database_url=sqlite_url, secret_key="k" * 40, _env_file=None))
    )
    container.async_engine.override(
        providers.Singleton(make_async_engine, sqlite_url, EngineOptions(sqlite_busy_timeout_ms=20))
    )
    container.password_hasher.override(providers.Object(FastPasswordHasher()))
    with TestClient(create_app(container)) as client:
        response = client.post(
            "/users", json={"email": "ann@shop.test", "name": "Ann", "password": "plum-kettle-42"}
        )
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert users(sqlite_url) == 0
