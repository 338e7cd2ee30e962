"""The repository contract runs against the in-memory fakes, SQLite and PostgreSQL alike."""

from collections.abc import Callable, Iterator

import pytest

from adapters.sql.engine import make_sync_engine
from adapters.sql.unit_of_work import sync_unit_of_work
from application.ports import UnitOfWork
from entrypoints.api.event_schemas import present
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWork

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_uow(request: pytest.FixtureRequest) -> Iterator[MakeUow]:
    if request.param == "memory":
        store = InMemoryStore()
        yield lambda: InMemoryUnitOfWork(store)
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "clean_postgres")
    engine = make_sync_engine(url)
    yield lambda: sync_unit_of_work(engine, present)
    engine.dispose()
