"""The outbox written on its own (SqlEventRepository.flush) goes in batches of MAX_EVENTS_PER_STATEMENT
rows, each numbered on from the ones before it, on both dialects: a bulk deactivation of more accounts
than SQLite takes terms in one compound SELECT (500) is stored whole."""

import pytest
from sqlalchemy import Engine

import adapters.sql.events
from adapters.sql.unit_of_work import sync_unit_of_work
from application.lists import EventFilter
from application.users import Deactivation, deactivate_customers
from domain.events import EventType, ResourceType
from domain.users import User
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.helpers import count_statements

clock = FixedClock()


def accounts(engine: Engine, count: int) -> tuple[User, list[User]]:
    """An admin and `count` customers, added in one unit (no hashing: the password is not the point)."""
    with sync_unit_of_work(engine, present) as uow:
        boss = User.create(email="boss@shop.test", name="B", password_hash="h", at=clock.now(), is_admin=True)
        uow.users.add(boss)
        users = [
            User.create(email=f"u{i}@shop.test", name="U", password_hash="h", at=clock.now())
            for i in range(count)
        ]
        for user in users:
            uow.users.add(user)
        uow.commit()
    return boss, users


def user_events(engine: Engine) -> list[tuple[int, EventType, int]]:
    with sync_unit_of_work(engine, present) as uow:
        events = uow.events.feed(EventFilter(resource_type=ResourceType.USER), None, 1000)
    return [(e.resource_id, e.type, e.sequence) for e in events]


def test_a_bulk_deactivation_beyond_sqlites_compound_select_limit_is_stored_whole(engine: Engine) -> None:
    boss, users = accounts(engine, 501)
    ids = tuple(u.id for u in users)
    with count_statements(engine) as counter:
        changed = deactivate_customers(
            Deactivation(ids=ids), uow=sync_unit_of_work(engine, present), actor=boss, clock=clock
        )
    assert changed == 501
    inserts = [s for s in counter.statements if s.startswith("INSERT INTO events")]
    assert len(inserts) == 3, "250 + 250 + 1"
    assert user_events(engine) == [(i, EventType.USER_DEACTIVATED, 1) for i in ids]


def test_a_resources_events_split_across_batches_are_numbered_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapters.sql.events, "MAX_EVENTS_PER_STATEMENT", 2)
    boss, [ann, bob] = accounts(engine, 2)
    with sync_unit_of_work(engine, present) as uow, count_statements(engine) as counter:
        first, second = uow.users.get_many([ann.id, bob.id], for_update=True)  # type: ignore[list-item]
        first.deactivate(clock.now(), boss.id)
        first.reactivate(clock.now(), boss.id)
        second.deactivate(clock.now(), boss.id)
        first.deactivate(clock.now(), boss.id)
        uow.users.save(first)
        uow.users.save(second)
        uow.commit()
    assert len([s for s in counter.statements if s.startswith("INSERT INTO events")]) == 2
    assert user_events(engine) == [
        (ann.id, EventType.USER_DEACTIVATED, 1),
        (ann.id, EventType.USER_REACTIVATED, 2),
        (bob.id, EventType.USER_DEACTIVATED, 1),
        (ann.id, EventType.USER_DEACTIVATED, 3),
    ]
