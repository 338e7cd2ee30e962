"""User use cases: registration, login, reading, updating, deactivating, admin creation."""

from datetime import timedelta

import pytest

from adapters.clock import FixedClock
from adapters.memory import InMemoryUnitOfWork
from adapters.security import FastPasswordHasher, JwtTokenIssuer
from application.errors import AuthenticationFailed, Conflict, Forbidden, NotFound
from application.ports import UserFilter
from application.users import (
    RegisterUser,
    UserPatch,
    as_caller,
    authenticate,
    deactivate_user,
    ensure_admin,
    get_user,
    identify,
    list_users,
    register_user,
    update_user,
)
from tests.unit.conftest import World, dump


@pytest.fixture
def tokens(clock: FixedClock) -> JwtTokenIssuer:
    return JwtTokenIssuer("test-secret-key-that-is-long-enough", timedelta(minutes=30), clock)


def test_register_stores_lower_cased_email_and_a_hash(world: World, uow: InMemoryUnitOfWork) -> None:
    user = world.customer("Ann@Shop.TEST")
    stored = uow.store.tables.users[user.id]
    assert stored.email == "ann@shop.test"
    assert stored.password_hash != "password1" and world.hasher.verify("password1", stored.password_hash)
    assert (stored.is_active, stored.is_admin) == (True, False)


def test_register_duplicate_email_in_any_case_conflicts(world: World, uow: InMemoryUnitOfWork) -> None:
    world.customer("ann@shop.test")
    before = dump(uow.store)
    with pytest.raises(Conflict):
        world.customer("ANN@shop.test")
    assert dump(uow.store) == before


def test_authenticate_issues_a_token_for_the_user(world: World, uow, hasher, tokens) -> None:
    user = world.customer()
    token = authenticate(uow, hasher, tokens, "ANN@shop.test", "password1")
    assert token.token_type == "bearer" and token.expires_in == 1800
    assert identify(uow, tokens.read(token.access_token)).id == user.id


@pytest.mark.parametrize(
    ("email", "password", "deactivate"),
    [
        ("nobody@shop.test", "password1", False),
        ("ann@shop.test", "wrong-pass", False),
        ("ann@shop.test", "password1", True),
    ],
    ids=["unknown-email", "wrong-password", "deactivated"],
)
def test_authentication_failures_look_alike(
    world, uow, hasher, tokens, clock, email, password, deactivate
) -> None:
    user = world.customer()
    if deactivate:
        deactivate_user(uow, clock, user, user.id)
    with pytest.raises(AuthenticationFailed, match="incorrect email or password"):
        authenticate(uow, hasher, tokens, email, password)


def test_deactivated_users_tokens_stop_working_at_once(world, uow, hasher, tokens, clock) -> None:
    user = world.customer()
    token = authenticate(uow, hasher, tokens, "ann@shop.test", "password1").access_token
    deactivate_user(uow, clock, world.admin, user.id)
    with pytest.raises(AuthenticationFailed):
        identify(uow, tokens.read(token))


def test_expired_and_forged_tokens_are_refused(world, uow, hasher, tokens, clock) -> None:
    world.customer()
    token = authenticate(uow, hasher, tokens, "ann@shop.test", "password1").access_token
    with pytest.raises(AuthenticationFailed, match="invalid"):
        tokens.read(token + "x")
    clock.advance(timedelta(minutes=31))
    with pytest.raises(AuthenticationFailed, match="expired"):
        tokens.read(token)


def test_token_for_a_missing_user_is_refused(uow, tokens) -> None:
    with pytest.raises(AuthenticationFailed):
        identify(uow, tokens.read(tokens.issue(404).access_token))


def test_as_caller_runs_the_work_as_the_identified_user_in_one_transaction(world, uow) -> None:
    ann = world.customer()
    seen: list[tuple[object, bool]] = []

    def work(inner: InMemoryUnitOfWork, actor: object) -> str:
        seen.append((actor, inner is uow))
        inner.users.get(ann.id)  # still inside the caller's `with` block: the repositories work
        return "done"

    assert as_caller(uow, ann.id, work) == "done"
    assert as_caller(uow, None, work) == "done"
    assert seen == [(uow.store.tables.users[ann.id], True), (None, True)]


def test_as_caller_refuses_a_deactivated_user_without_running_the_work(world, uow, clock) -> None:
    ann = world.customer()
    deactivate_user(uow, clock, world.admin, ann.id)
    ran: list[object] = []
    with pytest.raises(AuthenticationFailed):
        as_caller(uow, ann.id, lambda _uow, actor: ran.append(actor))
    assert ran == []


def test_users_see_themselves_admins_see_all(world: World, uow: InMemoryUnitOfWork) -> None:
    ann, bob = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    assert get_user(uow, ann, ann.id).email == "ann@shop.test"
    assert get_user(uow, world.admin, bob.id).email == "bob@shop.test"
    with pytest.raises(NotFound):
        get_user(uow, ann, bob.id)
    with pytest.raises(NotFound):
        get_user(uow, world.admin, 999)


def test_list_users_is_admin_only_and_filters(
    world: World, uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    ann, bob = world.customer("ann@shop.test"), world.customer("bob@example.org")
    deactivate_user(uow, clock, bob, bob.id)
    with pytest.raises(Forbidden):
        list_users(uow, ann, UserFilter(), 20, 0)
    admin = world.admin
    assert list_users(uow, admin, UserFilter(), 20, 0).total == 3
    assert [u.email for u in list_users(uow, admin, UserFilter(q="EXAMPLE"), 20, 0).items] == [
        "bob@example.org"
    ]
    assert list_users(uow, admin, UserFilter(is_active=False), 20, 0).total == 1
    page = list_users(uow, admin, UserFilter(), 1, 1)
    assert (len(page.items), page.total, page.limit, page.offset) == (1, 3, 1, 1)


def test_update_user_fields(world: World, uow, hasher, clock) -> None:
    ann = world.customer()
    clock.advance(timedelta(minutes=1))
    updated = update_user(
        uow, hasher, clock, ann, ann.id, UserPatch(email="NEW@shop.test", name="Anne", password="newpassword")
    )
    stored = uow.store.tables.users[ann.id]
    assert (stored.email, stored.name, updated.updated_at) == ("new@shop.test", "Anne", clock.now())
    assert hasher.verify("newpassword", stored.password_hash)


def test_customers_cannot_grant_themselves_admin(world: World, uow, hasher, clock) -> None:
    ann = world.customer()
    before = dump(uow.store)
    with pytest.raises(Forbidden):
        update_user(uow, hasher, clock, ann, ann.id, UserPatch(is_admin=True))
    assert dump(uow.store) == before
    update_user(uow, hasher, clock, world.admin, ann.id, UserPatch(is_admin=True, is_active=False))
    assert uow.store.tables.users[ann.id].is_admin is True


def test_update_to_a_taken_email_conflicts(world: World, uow, hasher, clock) -> None:
    ann, _ = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    before = dump(uow.store)
    with pytest.raises(Conflict):
        update_user(uow, hasher, clock, ann, ann.id, UserPatch(email="BOB@shop.test", name="x"))
    assert dump(uow.store) == before


def test_update_other_customer_is_not_found(world: World, uow, hasher, clock) -> None:
    ann, bob = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    before = dump(uow.store)
    with pytest.raises(NotFound):
        update_user(uow, hasher, clock, ann, bob.id, UserPatch(name="x"))
    with pytest.raises(NotFound):
        deactivate_user(uow, clock, ann, bob.id)
    assert dump(uow.store) == before


def test_deactivate_keeps_the_user(world: World, uow, clock) -> None:
    ann = world.customer()
    deactivate_user(uow, clock, ann, ann.id)
    assert uow.store.tables.users[ann.id].is_active is False


def test_ensure_admin_creates_then_promotes_idempotently(uow, hasher: FastPasswordHasher, clock) -> None:
    register_user(uow, hasher, clock, RegisterUser("boss@shop.test", "Boss", "password1"))
    first = ensure_admin(uow, hasher, clock, "BOSS@shop.test", "adminpass", "Boss")
    second = ensure_admin(uow, hasher, clock, "boss@shop.test", "adminpass", "Boss")
    assert first.id == second.id
    users = list(uow.store.tables.users.values())
    assert len(users) == 1 and users[0].is_admin and hasher.verify("adminpass", users[0].password_hash)
    created = ensure_admin(uow, hasher, clock, "new@shop.test", "adminpass", "New")
    assert uow.store.tables.users[created.id].is_admin
