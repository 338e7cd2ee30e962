"""Issue 26's user status events: the User aggregate records user.deactivated, user.reactivated and
user.erased, exactly one per change and none for a no-op, and every use case that changes an account's
status stores them through the Unit of Work (over the fakes), with the public representation as payload."""

from datetime import UTC, datetime, timedelta

import pytest

from application.errors import Forbidden
from application.users import (
    Deactivation,
    UserPatch,
    deactivate_customers,
    deactivate_user,
    ensure_admin,
    erase_user,
    get_user,
    update_user,
)
from domain.errors import AdminNotErasable
from domain.events import DomainEvent, Event, EventType, ResourceType
from domain.users import ERASED_NAME, User
from tests.unit.conftest import World, done, dump
from tests.unit.test_user_admin import claims_of, stored

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(hours=1)


def account(*, active: bool = True, admin: bool = False) -> User:
    user = User.create(email="u@shop.test", name="U", password_hash="hash", at=AT, is_admin=admin)
    user.id, user.is_active = 5, active
    return user


def recorded(user: User) -> list[tuple[EventType, datetime, int | None]]:
    return [(e.type, e.at, e.actor_id) for e in user.take_events()]


# --- the aggregate --------------------------------------------------------------------------------------


def test_deactivating_records_one_event_and_revokes_tokens() -> None:
    user = account()
    assert user.deactivate(LATER, actor_id=1) is True
    assert (user.is_active, user.credentials_version, user.updated_at) == (False, 2, LATER)
    [event] = user.domain_events
    assert event.subject is user and event.resource_type is ResourceType.USER and event.resource_id == 5
    assert recorded(user) == [(EventType.USER_DEACTIVATED, LATER, 1)]
    assert user.domain_events == []


def test_deactivating_an_inactive_account_changes_nothing_and_records_nothing() -> None:
    user = account(active=False)
    assert user.deactivate(LATER, actor_id=1) is False
    assert (user.is_active, user.credentials_version, user.updated_at) == (False, 1, AT)
    assert recorded(user) == []


def test_reactivating_records_one_event_and_keeps_tokens_revoked() -> None:
    user = account(active=False)
    assert user.reactivate(LATER, actor_id=1) is True
    assert (user.is_active, user.credentials_version, user.updated_at) == (True, 1, LATER)
    assert recorded(user) == [(EventType.USER_REACTIVATED, LATER, 1)]
    assert user.reactivate(LATER + timedelta(minutes=1), actor_id=1) is False
    assert (user.is_active, user.updated_at) == (True, LATER)
    assert recorded(user) == []


def test_an_update_records_the_status_change_it_makes_and_only_that() -> None:
    user = account()
    user.update(at=LATER, name="New")
    user.update(at=LATER, is_active=True, actor_id=1)  # active already
    assert recorded(user) == []
    user.update(at=LATER, is_active=False, actor_id=1)
    user.update(at=LATER, is_active=False, actor_id=1)  # inactive already
    assert recorded(user) == [(EventType.USER_DEACTIVATED, LATER, 1)]
    user.update(at=LATER, is_active=True, actor_id=2)
    user.update(at=LATER, is_active=True)  # actor_id defaults to nobody, and nothing changes anyway
    assert recorded(user) == [(EventType.USER_REACTIVATED, LATER, 2)]
    user.update(at=LATER, is_active=False)
    assert recorded(user) == [(EventType.USER_DEACTIVATED, LATER, None)]


@pytest.mark.parametrize("active", [True, False])
def test_erasing_records_user_erased_only_once(active: bool) -> None:
    user = account(active=active)
    assert user.erase(LATER, actor_id=1) is True
    assert recorded(user) == [(EventType.USER_ERASED, LATER, 1)]  # not user.deactivated besides
    assert user.erase(LATER, actor_id=1) is False
    assert recorded(user) == []
    user.erase(LATER)
    assert user.erase(LATER) is False


def test_erasing_records_nobody_as_actor_by_default_and_refuses_admins_silently() -> None:
    user = account()
    user.erase(LATER)
    assert recorded(user) == [(EventType.USER_ERASED, LATER, None)]
    admin = account(admin=True)
    with pytest.raises(AdminNotErasable):
        admin.erase(LATER, actor_id=1)
    assert recorded(admin) == [] and admin.is_active is True


def test_an_event_of_a_user_not_stored_yet_has_no_resource_id() -> None:
    user = User.create(email="u@shop.test", name="U", password_hash="hash", at=AT)
    with pytest.raises(AssertionError, match="^events are collected once the resource is stored$"):
        _ = DomainEvent(EventType.USER_DEACTIVATED, user, AT).resource_id


# --- the use cases, over the fakes ----------------------------------------------------------------------


def user_events(world: World) -> list[Event]:
    return [e for e in world.uow.store.tables.outbox if e.resource_type is ResourceType.USER]


def test_a_single_deactivation_stores_its_event_with_the_public_account(world: World) -> None:
    admin, ann = world.admin, world.customer()
    world.uow.store.locks.clear()
    deactivate_user(ann.id, uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    assert world.uow.store.locks == [("user", ann.id)]
    [event] = user_events(world)
    after = stored(world, ann.id)  # type: ignore[arg-type]
    assert (event.type, event.resource_id, event.sequence, event.actor_id, event.created_at) == (
        EventType.USER_DEACTIVATED,
        ann.id,
        1,
        admin.id,
        world.clock.now(),
    )
    assert event.payload == {
        "id": ann.id,
        "email": "ann@shop.test",
        "name": "Ann",
        "is_active": False,
        "is_admin": False,
        "created_at": after.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": after.updated_at.isoformat().replace("+00:00", "Z"),
        "last_login_at": None,
    }
    before = dump(world.uow.store)
    deactivate_user(ann.id, uow=world.uow, actor=ann, clock=world.clock)  # type: ignore[arg-type]
    assert dump(world.uow.store) == before  # inactive already: no event


def test_a_deactivation_by_oneself_names_oneself(world: World) -> None:
    ann = world.customer()
    deactivate_user(ann.id, uow=world.uow, actor=ann, clock=world.clock)  # type: ignore[arg-type]
    assert [(e.type, e.actor_id) for e in user_events(world)] == [(EventType.USER_DEACTIVATED, ann.id)]


def test_bulk_deactivation_stores_one_event_per_changed_customer(world: World) -> None:
    admin = world.admin
    ann, bob, cy = (world.customer(f"{n}@shop.test") for n in ("ann", "bob", "cy"))
    deactivate_user(bob.id, uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    world.uow.store.locks.clear()
    ids = (ann.id, bob.id, cy.id, admin.id, 999)
    world.clock.advance(timedelta(minutes=5))
    changed = deactivate_customers(Deactivation(ids=ids), uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    assert changed == 2
    assert sorted(world.uow.store.locks) == sorted(("user", i) for i in (ann.id, bob.id, cy.id, admin.id))
    assert [(e.type, e.resource_id, e.sequence, e.actor_id) for e in user_events(world)] == [
        (EventType.USER_DEACTIVATED, bob.id, 1, admin.id),
        (EventType.USER_DEACTIVATED, ann.id, 1, admin.id),
        (EventType.USER_DEACTIVATED, cy.id, 1, admin.id),
    ]
    assert all(e.payload["is_active"] is False for e in user_events(world))
    assert deactivate_customers(Deactivation(ids=ids), uow=world.uow, actor=admin, clock=world.clock) == 0  # type: ignore[arg-type]
    assert len(user_events(world)) == 3


def test_bulk_deactivation_by_time_locks_and_records_what_it_changes(world: World) -> None:
    admin, ann = world.admin, world.customer()
    world.clock.advance(timedelta(days=2))
    world.uow.store.locks.clear()
    criteria = Deactivation(last_login_before=world.clock.now())
    assert deactivate_customers(criteria, uow=world.uow, actor=admin, clock=world.clock) == 1
    assert world.uow.store.locks == [("user", ann.id)]
    assert [(e.type, e.resource_id) for e in user_events(world)] == [(EventType.USER_DEACTIVATED, ann.id)]


def test_a_refused_bulk_deactivation_stores_no_event(world: World) -> None:
    ann, bob = world.customer(), world.customer("bob@shop.test")
    before = dump(world.uow.store)
    with pytest.raises(Forbidden):
        deactivate_customers(Deactivation(ids=(bob.id,)), uow=world.uow, actor=ann, clock=world.clock)  # type: ignore[arg-type]
    assert dump(world.uow.store) == before and user_events(world) == []


def test_erasure_stores_the_anonymised_account_once(world: World) -> None:
    admin, ann = world.admin, world.customer()
    world.uow.store.locks.clear()
    erase_user(ann.id, uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    # The account, then its address book (which locks the account's row too).
    assert world.uow.store.locks == [("user", ann.id), ("user", ann.id)]
    [event] = user_events(world)
    assert (event.type, event.actor_id) == (EventType.USER_ERASED, admin.id)
    assert (event.payload["email"], event.payload["name"], event.payload["is_active"]) == (
        f"erased-{ann.id}@erased.invalid",
        ERASED_NAME,
        False,
    )
    assert "password_hash" not in event.payload and "Ann" not in str(event.payload)
    erase_user(ann.id, uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    assert len(user_events(world)) == 1


def patch_user(world: World, actor: User, user_id: int, patch: UserPatch) -> User:
    return done(
        update_user(
            user_id,
            patch,
            runner=world.run,
            claims=claims_of(world, actor),
            hasher=world.hasher,
            clock=world.clock,
        )
    )


def test_a_patch_of_the_status_records_its_event_once_and_locks_the_account(world: World) -> None:
    admin, ann = world.admin, world.customer()
    world.uow.store.locks.clear()
    patch_user(world, admin, ann.id, UserPatch(is_active=False))  # type: ignore[arg-type]
    assert world.uow.store.locks == [("user", ann.id)]  # the write locks it; the plan before does not
    patch_user(world, admin, ann.id, UserPatch(is_active=False, name="Ann B"))  # type: ignore[arg-type]
    patch_user(world, admin, ann.id, UserPatch(is_active=True))  # type: ignore[arg-type]
    patch_user(world, admin, ann.id, UserPatch(is_active=True))  # type: ignore[arg-type]
    assert [(e.type, e.sequence, e.actor_id, e.payload["is_active"]) for e in user_events(world)] == [
        (EventType.USER_DEACTIVATED, 1, admin.id, False),
        (EventType.USER_REACTIVATED, 2, admin.id, True),
    ]
    assert user_events(world)[1].payload["name"] == "Ann B"


def test_reading_an_account_locks_nothing_and_records_nothing(world: World) -> None:
    admin, ann = world.admin, world.customer()
    world.uow.store.locks.clear()
    assert get_user(ann.id, uow=world.uow, actor=admin).id == ann.id  # type: ignore[arg-type]
    assert world.uow.store.locks == [] and user_events(world) == []


def test_ensure_admin_reactivating_an_account_records_it_with_no_actor(world: World) -> None:
    admin, ann = world.admin, world.customer()
    deactivate_user(ann.id, uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    done(
        ensure_admin(
            "ann@shop.test",
            "quartz-lantern-9",
            "Ann",
            runner=world.run,
            hasher=world.hasher,
            clock=world.clock,
        )
    )
    assert [(e.type, e.actor_id) for e in user_events(world)] == [
        (EventType.USER_DEACTIVATED, admin.id),
        (EventType.USER_REACTIVATED, None),
    ]


def test_a_status_change_without_an_actor_names_nobody() -> None:
    user = account()
    user.deactivate(LATER)
    user.reactivate(LATER)
    assert recorded(user) == [
        (EventType.USER_DEACTIVATED, LATER, None),
        (EventType.USER_REACTIVATED, LATER, None),
    ]
