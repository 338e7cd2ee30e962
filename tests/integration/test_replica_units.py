"""The PostgreSQL side of read replicas that needs no standby: the WAL position a write records for
read-your-writes (and none without replicas, nor for a read), and the replica pools' read-only transactions
(tests/e2e/test_replicas.py runs the rest against a real hot standby)."""

import asyncio

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import InternalError

from adapters.sql.engine import make_async_engine
from adapters.sql.tables import users
from adapters.sql.unit_of_work import SqlUnitOfWorkRunner
from adapters.sql.wal import POSITION, ReadPosition, parse_lsn
from application.ports import UnitOfWork
from entrypoints.api.event_schemas import present
from tests.integration.helpers import count_statements
from tests.integration.test_unit_of_work import add_user

pytestmark = pytest.mark.postgres


def run(url: str, work, *args, read_only: bool = False, track_commits: bool = False) -> ReadPosition:  # type: ignore[no-untyped-def]
    position = ReadPosition()

    async def scenario() -> None:
        engine = make_async_engine(url, read_only=read_only, instrumented=False)
        token = POSITION.set(position)
        try:
            await SqlUnitOfWorkRunner(engine, present, track_commits=track_commits).run(work, *args)
        finally:
            POSITION.reset(token)
            await engine.dispose()

    asyncio.run(scenario())
    return position


def insert_position(engine: Engine) -> int:
    with engine.connect() as c:
        return parse_lsn(c.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()) or 0


def test_a_commit_records_a_position_past_it_when_replicas_are_configured(
    clean_postgres: str, postgres_engine: Engine
) -> None:
    before = insert_position(postgres_engine)
    position = run(clean_postgres, add_user, True, "ann@b.test", track_commits=True)
    assert position.committed_at is not None and before < position.committed_at <= insert_position(
        postgres_engine
    )


def test_nothing_is_recorded_nor_sent_for_a_read_or_without_replicas(
    clean_postgres: str, postgres_engine: Engine
) -> None:
    def read(uow: UnitOfWork) -> None:
        with uow:
            uow.users.get(1)

    assert run(clean_postgres, read, track_commits=True).committed_at is None
    assert run(clean_postgres, add_user, False, "rolled@b.test", track_commits=True).committed_at is None
    assert run(clean_postgres, add_user, True, "ann@b.test").committed_at is None
    with postgres_engine.connect() as c:
        assert c.execute(select(func.count()).select_from(users)).scalar_one() == 1


def test_the_extra_statement_is_one_and_only_after_a_commit(clean_postgres: str) -> None:
    async def statements(track_commits: bool) -> list[str]:
        engine = make_async_engine(clean_postgres, instrumented=False)
        with count_statements(engine.sync_engine) as counter:
            runner = SqlUnitOfWorkRunner(engine, present, track_commits=track_commits)
            await runner.run(add_user, True, f"{track_commits}@b.test")
        await engine.dispose()
        return counter.statements

    plain, tracked = asyncio.run(statements(False)), asyncio.run(statements(True))
    assert tracked[:-1] == plain and "pg_current_wal_insert_lsn" in tracked[-1]


def test_a_replica_pool_refuses_to_write_even_on_a_server_that_is_not_a_standby(
    clean_postgres: str, postgres_engine: Engine
) -> None:
    with pytest.raises(InternalError) as refused:
        run(clean_postgres, add_user, True, "ann@b.test", read_only=True)
    assert getattr(refused.value.orig, "sqlstate", None) == "25006"
    with postgres_engine.connect() as c:
        assert c.execute(select(func.count()).select_from(users)).scalar_one() == 0
