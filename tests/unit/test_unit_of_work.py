"""The in-memory Unit of Work keeps nothing unless commit() was called."""

from datetime import UTC, datetime

import pytest

from domain.users import User
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWork

AT = datetime(2026, 11, 22, tzinfo=UTC)


def new_user() -> User:
    return User("a@b.test", "A", "h", AT, AT)


def test_uncommitted_work_is_discarded(uow: InMemoryUnitOfWork, store: InMemoryStore) -> None:
    with uow:
        uow.users.add(new_user())
    assert store.tables.users == {}


def test_work_is_discarded_on_error(uow: InMemoryUnitOfWork, store: InMemoryStore) -> None:
    with pytest.raises(ValueError), uow:
        uow.users.add(new_user())
        raise ValueError("boom")
    assert store.tables.users == {}


def test_committed_work_is_kept_and_counted(uow: InMemoryUnitOfWork, store: InMemoryStore) -> None:
    with uow:
        uow.users.add(new_user())
        uow.commit()
    assert [u.email for u in store.tables.users.values()] == ["a@b.test"]
    assert uow.commits == 1


def test_entities_read_are_copies(uow: InMemoryUnitOfWork, store: InMemoryStore) -> None:
    with uow:
        user = new_user()
        uow.users.add(user)
        uow.commit()
    with uow:
        loaded = uow.users.get(user.id)
        assert loaded is not None
        loaded.name = "changed but not saved"
        uow.commit()
    assert store.tables.users[user.id].name == "A"


def test_repositories_refuse_use_outside_a_transaction(uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(RuntimeError):
        uow.users.get(1)
