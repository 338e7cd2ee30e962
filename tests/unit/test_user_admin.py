"""Issue 26's user administration over the fakes: log-in times, bulk registration and deactivation,
erasure, statistics, and the password policy wherever a password is set. Every refusal asserts its answer
and that nothing changed."""

import asyncio
from datetime import timedelta

import pytest

from application.auth import LogIn, authenticate, identify
from application.errors import AuthenticationFailed, Conflict, Forbidden, NotFound, RowRefused
from application.ports import TokenClaims, UserStats
from application.users import (
    MAX_BULK_USERS,
    MAX_DEACTIVATE_IDS,
    MAX_DEACTIVATED_PER_CALL,
    Deactivation,
    RegisterUser,
    UserPatch,
    deactivate_customers,
    ensure_admin,
    erase_user,
    register_user,
    register_users,
    update_user,
    user_stats,
)
from domain.errors import AdminNotErasable, InvalidEmail, WeakPassword
from domain.users import User
from tests.doubles.security import FastPasswordHasher
from tests.unit.conftest import World, done, dump

GOOD = "plum-kettle-42"


def claims_of(world: World, user: User) -> TokenClaims:
    with world.uow:
        stored = world.uow.users.get(user.id)  # type: ignore[arg-type]
    assert stored is not None
    return TokenClaims(stored.id, stored.credentials_version)  # type: ignore[arg-type]


def stored(world: World, user_id: int) -> User:
    with world.uow:
        user = world.uow.users.get(user_id)
    assert user is not None
    return user


def log_in(world: World, tokens, email: str, password: str = GOOD) -> str:  # type: ignore[no-untyped-def]
    cmd = LogIn(email, password)
    flow = authenticate(cmd, runner=world.run, hasher=world.hasher, tokens=tokens, clock=world.clock)
    return done(flow).access_token


def bulk(world: World, rows: list[RegisterUser], actor: User | None = None) -> list[User]:
    return done(
        register_users(
            rows,
            runner=world.run,
            claims=claims_of(world, actor or world.admin),
            hasher=world.hasher,
            clock=world.clock,
        )
    )


def rows(*emails: str, password: str = GOOD) -> list[RegisterUser]:
    return [RegisterUser(e, f"User {i}", password) for i, e in enumerate(emails)]


# --- last_login_at ------------------------------------------------------------------------------------


def test_a_successful_log_in_records_its_time_and_nothing_else(world: World, tokens) -> None:
    ann = world.customer()
    world.clock.advance(timedelta(hours=2))
    log_in(world, tokens, "ann@shop.test")
    after = stored(world, ann.id)  # type: ignore[arg-type]
    assert after.last_login_at == world.clock.now()
    assert (after.updated_at, after.credentials_version) == (ann.updated_at, 1)


def test_a_failed_log_in_records_nothing(world: World, tokens) -> None:
    ann = world.customer()
    with pytest.raises(AuthenticationFailed):
        log_in(world, tokens, "ann@shop.test", "wrong-pass")
    assert stored(world, ann.id).last_login_at is None  # type: ignore[arg-type]


# --- bulk registration ----------------------------------------------------------------------------------


def test_bulk_registration_creates_every_row_in_order(world: World) -> None:
    assert world.admin
    created = bulk(world, rows("A@shop.test", "b@shop.test", "c@shop.test"))
    assert [u.email for u in created] == ["a@shop.test", "b@shop.test", "c@shop.test"]
    for user in created:
        again = stored(world, user.id)  # type: ignore[arg-type]
        assert (again.is_admin, again.is_active, again.created_at) == (False, True, world.clock.now())
        assert done(world.hasher.verify(GOOD, again.password_hash))


class CountingHasher(FastPasswordHasher):
    """Yields to the event loop inside each hash, to see how many are under way at once."""

    def __init__(self) -> None:
        self.running = self.most = 0

    async def hash(self, password: str) -> str:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0)
        self.running -= 1
        return await super().hash(password)


def test_bulk_registration_hashes_the_rows_concurrently(world: World) -> None:
    assert world.admin
    world.hasher = CountingHasher()
    bulk(world, rows("a@shop.test", "b@shop.test", "c@shop.test"))
    assert world.hasher.most == 3


@pytest.mark.parametrize(
    ("batch", "index", "error", "message"),
    [
        (
            rows("a@shop.test", "b@shop.test", "A@SHOP.test"),
            2,
            Conflict,
            "the email a@shop.test is also in row 0",
        ),
        (
            rows("a@shop.test", "taken@shop.test"),
            1,
            Conflict,
            "the email taken@shop.test is already registered",
        ),
        (
            [RegisterUser("a@shop.test", "A", GOOD), RegisterUser("b@shop.test", "B", "password123")],
            1,
            WeakPassword,
            "the password is too weak: it is one of the most common passwords found in breaches",
        ),
        (
            [RegisterUser("a@shop.test", "A", GOOD), RegisterUser("b\u200b@shop.test", "B", GOOD)],
            1,
            InvalidEmail,
            "an e-mail address may not contain spaces, control or invisible characters",
        ),
        (
            [RegisterUser("carol@shop.test", "C", "carol-is-here")],
            0,
            WeakPassword,
            "the password is too weak: it contains the e-mail address's local part",
        ),
    ],
    ids=["twice-in-batch", "already-registered", "common-password", "invalid-email", "local-part"],
)
def test_a_refused_row_is_named_and_nothing_is_created(world: World, batch, index, error, message) -> None:
    assert world.admin
    world.customer("taken@shop.test")
    before = dump(world.uow.store)
    with pytest.raises(RowRefused) as refused:
        bulk(world, batch)
    assert (refused.value.index, type(refused.value.error), str(refused.value.error)) == (
        index,
        error,
        message,
    )
    assert str(refused.value) == f"row {index}: {message}"
    assert dump(world.uow.store) == before


def test_bulk_registration_is_for_admins(world: World) -> None:
    ann = world.customer()
    before = dump(world.uow.store)
    with pytest.raises(Forbidden, match="^only admins may register users in bulk$"):
        bulk(world, rows("x@shop.test"), actor=ann)
    assert dump(world.uow.store) == before


def test_a_row_registered_meanwhile_is_refused_at_the_write(world: World) -> None:
    """The second check, after hashing, finds what another request stored while the rows were hashed."""
    assert world.admin

    class RacingHasher(FastPasswordHasher):
        async def hash(self, password: str) -> str:
            if password == "racer-password-1":
                done_elsewhere = register_user(
                    RegisterUser("b@shop.test", "B", GOOD),
                    runner=world.run,
                    hasher=FastPasswordHasher(),
                    clock=world.clock,
                )
                await done_elsewhere
            return await super().hash(password)

    world.hasher = RacingHasher()
    batch = [RegisterUser("a@shop.test", "A", "racer-password-1"), RegisterUser("b@shop.test", "B", GOOD)]
    with pytest.raises(RowRefused) as refused:
        bulk(world, batch)
    assert (refused.value.index, str(refused.value.error)) == (
        1,
        "the email b@shop.test is already registered",
    )
    with world.uow:
        assert world.uow.users.get_by_email("a@shop.test") is None


def test_bulk_limits() -> None:
    assert (MAX_BULK_USERS, MAX_DEACTIVATE_IDS, MAX_DEACTIVATED_PER_CALL) == (100, 1000, 1000)


# --- bulk deactivation ----------------------------------------------------------------------------------


def test_deactivation_by_time_uses_the_last_log_in_or_else_registration(world: World, tokens) -> None:
    admin = world.admin  # registered at t0, never logged in: an admin, so spared
    old_never = world.customer("old@shop.test")  # registered at t0, never logged in
    seen_early = world.customer("early@shop.test")
    log_in(world, tokens, "early@shop.test")  # last log-in at t0
    returning = world.customer("back@shop.test")  # registered at t0 ...
    world.clock.advance(timedelta(days=10))
    recent_never = world.customer("new@shop.test")  # registered at t0 + 10 d, never logged in
    world.clock.advance(timedelta(days=10))
    log_in(world, tokens, "back@shop.test")  # ... and logged in at t0 + 20 d
    cutoff = world.clock.now() - timedelta(days=15)  # t0 + 5 d
    changed = deactivate_customers(
        Deactivation(last_login_before=cutoff), uow=world.uow, actor=admin, clock=world.clock
    )
    assert changed == 2
    assert [stored(world, u.id).is_active for u in (old_never, seen_early)] == [False, False]  # type: ignore[arg-type]
    assert [stored(world, u.id).is_active for u in (returning, recent_never, admin)] == [True, True, True]  # type: ignore[arg-type]


def test_the_cut_off_itself_is_not_before(world: World) -> None:
    ann = world.customer()
    changed = deactivate_customers(
        Deactivation(last_login_before=ann.created_at), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert changed == 0 and stored(world, ann.id).is_active  # type: ignore[arg-type]


def test_deactivation_revokes_tokens_like_the_single_one(world: World, tokens) -> None:
    ann = world.customer()
    token = log_in(world, tokens, "ann@shop.test")
    world.clock.advance(timedelta(minutes=1))
    changed = deactivate_customers(
        Deactivation(ids=(ann.id,)),
        uow=world.uow,
        actor=world.admin,
        clock=world.clock,  # type: ignore[arg-type]
    )
    after = stored(world, ann.id)  # type: ignore[arg-type]
    assert (changed, after.is_active, after.credentials_version, after.updated_at) == (
        1,
        False,
        2,
        world.clock.now(),
    )
    with pytest.raises(AuthenticationFailed, match="revoked"):
        identify(world.uow, tokens.read(token))


def test_deactivation_by_ids_skips_admins_unknown_and_inactive(world: World) -> None:
    admin = world.admin
    ann, bob = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    deactivate_customers(Deactivation(ids=(bob.id,)), uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    before = stored(world, bob.id)  # type: ignore[arg-type]
    ids = (admin.id, ann.id, bob.id, 999_999, ann.id)
    changed = deactivate_customers(Deactivation(ids=ids), uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    assert changed == 1
    assert stored(world, admin.id).is_active and not stored(world, ann.id).is_active  # type: ignore[arg-type]
    assert stored(world, bob.id).credentials_version == before.credentials_version  # type: ignore[arg-type]


def test_deactivation_by_time_stops_at_the_limit_per_call(world: World, monkeypatch) -> None:
    monkeypatch.setattr("application.users.MAX_DEACTIVATED_PER_CALL", 2)
    users = [world.customer(f"u{i}@shop.test") for i in range(3)]
    world.clock.advance(timedelta(days=1))
    criteria = Deactivation(last_login_before=world.clock.now())
    first = deactivate_customers(criteria, uow=world.uow, actor=world.admin, clock=world.clock)
    assert first == 2
    assert sum(stored(world, u.id).is_active for u in users) == 1  # type: ignore[arg-type,misc]
    assert deactivate_customers(criteria, uow=world.uow, actor=world.admin, clock=world.clock) == 1
    assert deactivate_customers(criteria, uow=world.uow, actor=world.admin, clock=world.clock) == 0


def test_bulk_deactivation_is_for_admins(world: World) -> None:
    ann = world.customer()
    before = dump(world.uow.store)
    with pytest.raises(Forbidden, match="^only admins may deactivate users in bulk$"):
        deactivate_customers(Deactivation(ids=(ann.id,)), uow=world.uow, actor=ann, clock=world.clock)  # type: ignore[arg-type]
    assert dump(world.uow.store) == before


def test_a_deactivation_names_exactly_one_criterion(world: World) -> None:
    with pytest.raises(ValueError, match="^give either last_login_before or ids$"):
        Deactivation()
    with pytest.raises(ValueError, match="^give either last_login_before or ids$"):
        Deactivation(last_login_before=world.clock.now(), ids=(1,))


# --- erasure ------------------------------------------------------------------------------------------


def test_erase_anonymises_keeps_orders_and_answers_the_same_twice(world: World, tokens) -> None:
    ann = world.customer()
    order = world.order(ann, (world.product(), 2))
    token = log_in(world, tokens, "ann@shop.test")
    world.clock.advance(timedelta(minutes=1))
    first = erase_user(ann.id, uow=world.uow, actor=world.admin, clock=world.clock)  # type: ignore[arg-type]
    assert (first.email, first.name, first.is_active) == (
        f"erased-{ann.id}@erased.invalid",
        "Erased user",
        False,
    )
    after_first = dump(world.uow.store)
    world.clock.advance(timedelta(minutes=1))
    second = erase_user(ann.id, uow=world.uow, actor=world.admin, clock=world.clock)  # type: ignore[arg-type]
    assert (second.email, second.updated_at, second.credentials_version) == (
        first.email,
        first.updated_at,
        first.credentials_version,
    )
    assert dump(world.uow.store) == after_first
    assert world.uow.store.tables.orders[order.id].user_id == ann.id  # type: ignore[index]
    with pytest.raises(AuthenticationFailed):
        identify(world.uow, tokens.read(token))
    with pytest.raises(AuthenticationFailed):
        log_in(world, tokens, "ann@shop.test")
    # the address is free again
    assert world.customer("ann@shop.test").id != ann.id


@pytest.mark.parametrize(
    ("who", "error", "message"),
    [
        ("self", Conflict, "you cannot erase your own account"),
        ("admin", AdminNotErasable, r"is an admin; demote them \(is_admin=false\) to erase the account$"),
        ("missing", NotFound, "user 999999 was not found"),
        ("as-customer", Forbidden, "only admins may erase accounts"),
    ],
)
def test_erase_refusals_change_nothing(world: World, who: str, error: type, message: str) -> None:
    admin = world.admin
    other = done(
        ensure_admin(
            "boss@shop.test", "quartz-harbor-3", "B", runner=world.run, hasher=world.hasher, clock=world.clock
        )
    )
    ann = world.customer()
    target, actor = {
        "self": (admin.id, admin),
        "admin": (other.id, admin),
        "missing": (999_999, admin),
        "as-customer": (ann.id, ann),
    }[who]
    before = dump(world.uow.store)
    with pytest.raises(error, match=message):
        erase_user(target, uow=world.uow, actor=actor, clock=world.clock)  # type: ignore[arg-type]
    assert dump(world.uow.store) == before


# --- statistics ---------------------------------------------------------------------------------------


def test_user_stats_count_each_kind_and_the_period_inclusively(world: World) -> None:
    admin = world.admin
    start = world.clock.now()
    ann = world.customer("ann@shop.test")
    world.clock.advance(timedelta(days=1))
    bob = world.customer("bob@shop.test")
    world.clock.advance(timedelta(days=1))
    world.customer("cid@shop.test")
    deactivate_customers(Deactivation(ids=(bob.id,)), uow=world.uow, actor=admin, clock=world.clock)  # type: ignore[arg-type]
    world.order(ann, (world.product(), 1))
    everything = user_stats(None, None, uow=world.uow, actor=admin)
    assert everything == UserStats(total=4, active=3, inactive=1, admins=1, registered=4, with_orders=1)
    middle = user_stats(bob.created_at, bob.created_at, uow=world.uow, actor=admin)
    assert middle.registered == 1
    assert user_stats(start + timedelta(days=1), None, uow=world.uow, actor=admin).registered == 2
    assert user_stats(None, start, uow=world.uow, actor=admin).registered == 2  # the admin and ann
    assert user_stats(start + timedelta(days=3), None, uow=world.uow, actor=admin).registered == 0


def test_user_stats_are_for_admins(world: World) -> None:
    ann = world.customer()
    with pytest.raises(Forbidden, match="^only admins may read user statistics$"):
        user_stats(None, None, uow=world.uow, actor=ann)


# --- the policy wherever a password is set --------------------------------------------------------------


def test_registration_refuses_a_weak_password_before_anything(world: World) -> None:
    before = dump(world.uow.store)
    with pytest.raises(WeakPassword, match="most common"):
        done(
            register_user(
                RegisterUser("zed@shop.test", "Z", "iloveyou1"),
                runner=world.run,
                hasher=world.hasher,
                clock=world.clock,
            )
        )
    assert dump(world.uow.store) == before


def test_ensure_admin_refuses_a_weak_password(world: World) -> None:
    before = dump(world.uow.store)
    with pytest.raises(WeakPassword, match="local part"):
        done(
            ensure_admin(
                "root@shop.test",
                "root-secret-1",
                "R",
                runner=world.run,
                hasher=world.hasher,
                clock=world.clock,
            )
        )
    assert dump(world.uow.store) == before


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"password": "password123"}, "most common"),
        ({"password": "my-ann-secret"}, "local part"),
        ({"password": "my-zoe-secret", "email": "zoe@shop.test"}, "local part"),  # the new e-mail's
    ],
)
def test_a_new_password_is_checked_against_the_accounts_e_mail(
    world: World, changes: dict, match: str
) -> None:
    ann = world.customer()
    before = dump(world.uow.store)
    with pytest.raises(WeakPassword, match=match):
        done(
            update_user(
                ann.id,  # type: ignore[arg-type]
                UserPatch(current_password=GOOD, **changes),
                runner=world.run,
                claims=claims_of(world, ann),
                hasher=world.hasher,
                clock=world.clock,
            )
        )
    assert dump(world.uow.store) == before


def test_an_admin_reset_is_checked_too_and_old_passwords_still_log_in(world: World, tokens) -> None:
    ann = world.customer()
    with world.uow:  # a password set under the old rules, stored as it was
        old = world.uow.users.get(ann.id)  # type: ignore[arg-type]
        assert old is not None
        old.password_hash = done(world.hasher.hash("password"))
        world.uow.users.save(old)
        world.uow.commit()
    assert log_in(world, tokens, "ann@shop.test", "password")
    with pytest.raises(WeakPassword):
        done(
            update_user(
                ann.id,  # type: ignore[arg-type]
                UserPatch(password="12345678"),
                runner=world.run,
                claims=claims_of(world, world.admin),
                hasher=world.hasher,
                clock=world.clock,
            )
        )
