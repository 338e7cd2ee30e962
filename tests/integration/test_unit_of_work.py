"""The SQL Units of Work, sync and async: roll back by default and on error, keep what was committed."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from adapters.sql.engine import make_async_engine, make_sync_engine
from adapters.sql.tables import users
from adapters.sql.unit_of_work import SqlUnitOfWorkRunner, sync_unit_of_work
from application.ports import UnitOfWork
from domain.users import User
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, product

T0 = datetime(2026, 11, 22, tzinfo=UTC)


def count_users(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(users)).scalar_one()


def add_user(uow: UnitOfWork, commit: bool, email: str = "a@b.test") -> None:
    with uow:
        uow.users.add(User(email, "A", "h", T0, T0))
        if commit:
            uow.commit()


def test_rolls_back_uncommitted_work_by_default(engine: Engine) -> None:
    add_user(sync_unit_of_work(engine, present), commit=False)
    assert count_users(engine) == 0


def test_rolls_back_on_error(engine: Engine) -> None:
    uow = sync_unit_of_work(engine, present)
    with pytest.raises(RuntimeError), uow:
        uow.users.add(User("a@b.test", "A", "h", T0, T0))
        raise RuntimeError("boom")
    assert count_users(engine) == 0


def test_keeps_committed_work(engine: Engine) -> None:
    add_user(sync_unit_of_work(engine, present), commit=True)
    assert count_users(engine) == 1


def test_a_unit_of_work_can_run_several_transactions(engine: Engine) -> None:
    uow = sync_unit_of_work(engine, present)
    add_user(uow, commit=True, email="one@b.test")
    add_user(uow, commit=False, email="two@b.test")
    add_user(uow, commit=True, email="three@b.test")
    assert count_users(engine) == 2


def test_async_unit_of_work_commits_and_rolls_back(database_url: str, engine: Engine) -> None:
    async def scenario() -> None:
        async_engine = make_async_engine(database_url)
        runner = SqlUnitOfWorkRunner(async_engine, present)
        await runner.run(add_user, True, "kept@b.test")
        await runner.run(add_user, False, "dropped@b.test")

        def fail(uow: UnitOfWork) -> None:
            with uow:
                uow.users.add(User("failed@b.test", "A", "h", T0, T0))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await runner.run(fail)
        await async_engine.dispose()

    asyncio.run(scenario())
    with engine.connect() as connection:
        assert connection.execute(select(users.c.email)).scalars().all() == ["kept@b.test"]


class _SerializationFailure(Exception):
    sqlstate = "40001"


def test_async_unit_of_work_retries_serialization_failures(database_url: str, engine: Engine) -> None:
    """A conflict the database aborted us for runs the whole transaction again, on a fresh session."""
    attempts: list[int] = []

    def flaky(uow: UnitOfWork) -> None:
        attempts.append(1)
        with uow:
            uow.users.add(User(f"try{len(attempts)}@b.test", "A", "h", T0, T0))
            if len(attempts) < 3:
                raise OperationalError("UPDATE ...", {}, _SerializationFailure())
            uow.commit()

    async def scenario() -> int:
        async_engine = make_async_engine(database_url)
        runner = SqlUnitOfWorkRunner(async_engine, present)
        await runner.run(flaky)
        await async_engine.dispose()
        return runner.retries

    assert asyncio.run(scenario()) == 2
    with engine.connect() as connection:
        assert connection.execute(select(users.c.email)).scalars().all() == ["try3@b.test"]


@pytest.mark.postgres
def test_a_locking_read_opens_the_transaction_and_holds_its_lock(clean_postgres: str) -> None:
    """Reads run outside a transaction until the first write or lock: the lock must still be held."""
    engine = make_sync_engine(clean_postgres)
    item = product(engine, admin(engine), "LOCK-1", stock=3)
    uow = sync_unit_of_work(engine, present)
    with uow, engine.connect() as other:
        uow.users.get(1)  # a plain read first: no transaction yet
        assert not uow.tx.begun
        uow.products.get(item.id, for_update=True)
        assert uow.tx.begun
        with pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(text("SELECT id FROM products WHERE id = :i FOR UPDATE NOWAIT"), {"i": item.id})
    engine.dispose()


@pytest.mark.postgres
def test_a_dead_pooled_connection_is_replaced_without_an_error(clean_postgres: str) -> None:
    """No ping at checkout: the first statement on a dead connection fails, and the run starts again."""
    engine = make_sync_engine(clean_postgres)

    async def scenario() -> tuple[int, int]:
        async_engine = make_async_engine(clean_postgres)
        runner = SqlUnitOfWorkRunner(async_engine, present)
        await runner.run(add_user, True, "before@b.test")  # leaves a connection in the pool
        with engine.connect() as killer:
            killed = killer.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        await runner.run(add_user, True, "after@b.test")
        await async_engine.dispose()
        return killed, runner.retries

    killed, retries = asyncio.run(scenario())
    assert killed >= 1 and retries == 1
    assert count_users(engine) == 2
    engine.dispose()
