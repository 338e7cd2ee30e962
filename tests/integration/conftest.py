"""Integration fixtures: each test gets a clean, migrated database on both dialects."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from adapters.sql.engine import make_sync_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "clean_postgres")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(database_url)
    yield engine
    engine.dispose()
