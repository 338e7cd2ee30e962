"""Accounts at their edges: how attempts are counted and forgiven (per account whatever form of the address
is typed, per client address), what the throttle table holds, races while a password is hashed, and the
times a change stamps."""

import hashlib
from datetime import timedelta

import pytest

from application.errors import AuthenticationFailed, Conflict, Forbidden, IncorrectPassword, TooManyAttempts
from application.ports import Attempts, DuplicateKey, TokenClaims
from application.products import ProductPatch, update_product
from application.throttling import Limits, Rate, purge_ended_windows
from application.users import (
    RegisterUser,
    UserPatch,
    deactivate_user,
    ensure_admin,
    register_user,
    update_user,
)
from domain.users import User
from tests.doubles.memory import InMemoryUnitOfWork, InMemoryUnitOfWorkRunner
from tests.doubles.races import lose_the_race
from tests.unit.conftest import World, done, dump
from tests.unit.test_users import ADDRESS, LIMITS, log_in, read_back, update


def key(kind: str, subject: str) -> str:
    return f"{kind}:{hashlib.sha256(subject.encode()).hexdigest()[:40]}"


def test_the_throttle_table_keeps_hashes_never_addresses(world: World, tokens, clock) -> None:
    world.customer()
    with pytest.raises(AuthenticationFailed):
        log_in(world.run, world.hasher, tokens, clock, password="wrong-pass", address=ADDRESS, limits=LIMITS)
    done(
        register_user(
            RegisterUser("bo@shop.test", "Bo", "plum-kettle-42", ADDRESS),
            runner=world.run,
            hasher=world.hasher,
            clock=clock,
            limits=LIMITS,
        )
    )
    assert set(world.uow.store.tables.throttle) == {
        key("login-client", f"ann@shop.test\n{ADDRESS}"),
        key("login-account", "ann@shop.test"),
        key("login-address", ADDRESS),
        key("registration-address", ADDRESS),
    }


def test_without_a_client_address_only_the_account_is_counted(world: World, tokens, clock) -> None:
    world.customer()
    with pytest.raises(AuthenticationFailed):
        log_in(world.run, world.hasher, tokens, clock, password="wrong-pass", limits=LIMITS)
    assert set(world.uow.store.tables.throttle) == {key("login-account", "ann@shop.test")}


def test_every_form_of_an_address_counts_against_one_account(world: World, tokens, clock) -> None:
    world.customer()
    for typed in ("ANN@shop.test", " ａｎｎ@shop.test", "ann@SHOP.test"):  # full-width folds to ASCII
        with pytest.raises(AuthenticationFailed):
            log_in(world.run, world.hasher, tokens, clock, typed, "wrong-pass", limits=LIMITS)
    with pytest.raises(TooManyAttempts):
        log_in(world.run, world.hasher, tokens, clock, limits=LIMITS)


def test_an_address_no_account_can_have_is_refused_and_counted(world: World, tokens, clock) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="^incorrect email or password$"):
            log_in(world.run, world.hasher, tokens, clock, "a\ud800b@shop.test", limits=LIMITS)
    with pytest.raises(TooManyAttempts):
        log_in(world.run, world.hasher, tokens, clock, "a\ud800b@shop.test", limits=LIMITS)


def test_a_success_gives_the_address_its_attempt_back(world: World, tokens, clock) -> None:
    world.customer()
    limits = Limits(login_per_address=Rate(2, timedelta(minutes=15)))
    with pytest.raises(AuthenticationFailed):
        log_in(world.run, world.hasher, tokens, clock, password="wrong-pass", address=ADDRESS, limits=limits)
    for _ in range(3):  # without forgiveness the second success would be over the limit of 2
        assert log_in(world.run, world.hasher, tokens, clock, address=ADDRESS, limits=limits)
    assert world.uow.store.tables.throttle[key("login-address", ADDRESS)].count == 1


def test_the_wait_is_at_least_a_second(world: World, tokens, clock) -> None:
    limits = Limits(login_per_account=Rate(1, timedelta(seconds=1)))
    with pytest.raises(AuthenticationFailed):
        log_in(world.run, world.hasher, tokens, clock, "x@shop.test", limits=limits)
    clock.advance(timedelta(milliseconds=600))
    with pytest.raises(TooManyAttempts) as refused:
        log_in(world.run, world.hasher, tokens, clock, "x@shop.test", limits=limits)
    assert refused.value.retry_after == 1
    assert str(refused.value) == "too many attempts; retry in 1 seconds"


def test_ended_windows_are_purged_and_counted(world: World, tokens, clock) -> None:
    for email in ("a@shop.test", "b@shop.test"):
        with pytest.raises(AuthenticationFailed):
            log_in(world.run, world.hasher, tokens, clock, email, limits=LIMITS)
    assert purge_ended_windows(uow=world.uow, clock=clock) == 0
    clock.advance(timedelta(minutes=16))
    assert purge_ended_windows(uow=world.uow, clock=clock) == 2
    assert world.uow.store.tables.throttle == {}


def test_the_right_current_password_clears_the_clients_failures_and_remembers_it(world: World, clock) -> None:
    ann = world.customer()
    with pytest.raises(IncorrectPassword, match="^current_password is not your current password$"):
        done(_update(world, ann, address=ADDRESS, password="new-password", current_password="wrong-pass"))
    done(_update(world, ann, address=ADDRESS, password="new-password", current_password="plum-kettle-42"))
    throttle = world.uow.store.tables.throttle
    assert key("login-client", f"ann@shop.test\n{ADDRESS}") not in throttle
    assert throttle[key("login-account", "ann@shop.test")].count == 1  # its attempt back, no more
    assert throttle[key("login-known", f"ann@shop.test\n{ADDRESS}")] == Attempts(
        0, clock.now() + LIMITS.known_client_for
    )


def test_a_wrong_current_password_is_refused_before_a_taken_email_is_told(world: World) -> None:
    ann, _ = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    before = dump(world.uow.store)["users"]
    for _ in range(2):
        with pytest.raises(IncorrectPassword):
            done(_update(world, ann, address=ADDRESS, email="bob@shop.test", current_password="wrong-pass"))
    with pytest.raises(TooManyAttempts):  # counted: the limit ends the probing, never a 409
        done(_update(world, ann, address=ADDRESS, email="bob@shop.test", current_password="wrong-pass"))
    assert dump(world.uow.store)["users"] == before


def test_only_a_caller_who_proved_the_password_learns_the_email_is_taken(world: World) -> None:
    ann, _ = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    before = dump(world.uow.store)["users"]
    with pytest.raises(Conflict, match="^the email bob@shop.test is already registered$"):
        done(_update(world, ann, address=ADDRESS, email="bob@shop.test", current_password="plum-kettle-42"))
    assert dump(world.uow.store)["users"] == before
    assert key("login-client", f"ann@shop.test\n{ADDRESS}") not in world.uow.store.tables.throttle


def test_probing_addresses_with_ones_own_password_is_bounded_like_registering(world: World) -> None:
    ann, _ = world.customer("ann@shop.test"), world.customer("bob@shop.test")
    before = dump(world.uow.store)["users"]
    outcomes = []
    for email in ("bob@shop.test", "bob@shop.test", "free@shop.test"):  # LIMITS: 2 an hour a client
        try:
            done(_update(world, ann, address=ADDRESS, email=email, current_password="plum-kettle-42"))
        except (Conflict, TooManyAttempts) as refused:
            outcomes.append(type(refused))
    assert outcomes == [Conflict, Conflict, TooManyAttempts]
    assert dump(world.uow.store)["users"] == before
    assert world.uow.store.tables.throttle[key("registration-address", ADDRESS)].count == 3
    done(
        _update(world, ann, address=ADDRESS, name="Ann B", current_password="plum-kettle-42")
    )  # not an e-mail


def test_resending_ones_own_email_asks_nothing(world: World) -> None:
    ann = world.customer("ann@shop.test")
    done(_update(world, ann, address=ADDRESS, email="ANN@shop.test", current_password="plum-kettle-42"))
    assert key("registration-address", ADDRESS) not in world.uow.store.tables.throttle


def _update(world: World, actor: User, address: str | None = None, **changes: object):  # type: ignore[no-untyped-def]
    claims = TokenClaims(actor.id, read_back(world.uow, actor.id).credentials_version)  # type: ignore[arg-type]
    return update_user(
        actor.id,
        UserPatch(**changes),
        runner=world.run,
        claims=claims,
        hasher=world.hasher,
        clock=world.clock,
        limits=LIMITS,
        address=address,
    )


def test_an_admin_resetting_a_password_is_not_checked_against_a_current_one(world: World) -> None:
    bob = world.customer("bob@shop.test")
    changed = update(world, world.admin, bob.id, password="reset-pass", current_password="anything")
    assert done(world.hasher.verify("reset-pass", changed.password_hash))


def test_resending_ones_own_email_or_sku_is_no_conflict(world: World) -> None:
    bob = world.customer("bob@shop.test")
    assert update(world, world.admin, bob.id, email="BOB@shop.test").email == "bob@shop.test"
    p = world.product("SKU-1")
    assert (
        update_product(
            p.id, ProductPatch(sku="sku-1"), uow=world.uow, actor=world.admin, clock=world.clock
        ).sku
        == "SKU-1"
    )


class ChangingHasher:
    """Hashes, and meanwhile (as another request would) changes the account's password."""

    def __init__(self, world: World, user_id: int) -> None:
        self.world, self.user_id = world, user_id

    async def hash(self, password: str) -> str:
        with InMemoryUnitOfWork(self.world.uow.store) as uow:
            user = uow.users.get(self.user_id)
            user.change_password(await self.world.hasher.hash("changed-meanwhile"), self.world.clock.now())
            uow.users.save(user)
            uow.commit()
        return await self.world.hasher.hash(password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return await self.world.hasher.verify(password, password_hash)


def test_credentials_changed_while_hashing_are_a_conflict(world: World) -> None:
    bob = world.customer("bob@shop.test")
    admin = world.admin
    claims = TokenClaims(admin.id, admin.credentials_version)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="^the account's credentials changed meanwhile; reload and retry$"):
        done(
            update_user(
                bob.id,
                UserPatch(password="new-password"),
                runner=world.run,
                claims=claims,
                hasher=ChangingHasher(world, bob.id),
                clock=world.clock,
            )
        )
    assert done(world.hasher.verify("changed-meanwhile", read_back(world.uow, bob.id).password_hash))


def test_an_email_taken_between_check_and_write_is_a_conflict(world: World) -> None:
    store = world.uow.store
    admin = world.admin  # made before the snapshots that prove nothing changed

    class Racing(InMemoryUnitOfWorkRunner):
        async def run(self, work, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            uow = InMemoryUnitOfWork(store)
            lose_the_race(uow.users, "add", DuplicateKey())
            lose_the_race(uow.users, "save", DuplicateKey())
            return work(uow, *args, **kwargs)

    before = dump(store)
    with pytest.raises(Conflict, match="^the email new@shop.test is already registered$"):
        done(
            register_user(
                RegisterUser("New@shop.test", "N", "plum-kettle-42"),
                runner=Racing(store),
                hasher=world.hasher,
                clock=world.clock,
            )
        )
    assert dump(store) == before
    bob = world.customer("bob@shop.test")
    before = dump(store)
    claims = TokenClaims(admin.id, admin.credentials_version)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="^the email taken@shop.test is already registered$"):
        done(
            update_user(
                bob.id,
                UserPatch(email="taken@shop.test"),
                runner=Racing(store),
                claims=claims,
                hasher=world.hasher,
                clock=world.clock,
            )
        )
    assert dump(store) == before


def test_changes_stamp_the_time_they_were_made(world: World) -> None:
    bob = world.customer("bob@shop.test")
    world.clock.advance(timedelta(minutes=3))
    deactivate_user(bob.id, uow=world.uow, actor=world.admin, clock=world.clock)
    assert read_back(world.uow, bob.id).updated_at == world.clock.now()
    world.clock.advance(timedelta(minutes=3))
    back = update(world, world.admin, bob.id, is_active=True)
    assert (back.is_active, back.updated_at) == (True, world.clock.now())
    # ensure_admin promotes, reactivates and resets the password of an existing account, stamped now.
    deactivate_user(bob.id, uow=world.uow, actor=world.admin, clock=world.clock)
    world.clock.advance(timedelta(minutes=3))
    promoted = done(
        ensure_admin(
            "bob@shop.test", "boss-pass", "Bob", runner=world.run, hasher=world.hasher, clock=world.clock
        )
    )
    stored = read_back(world.uow, promoted.id)
    assert (stored.is_admin, stored.is_active, stored.updated_at) == (True, True, world.clock.now())
    assert done(world.hasher.verify("boss-pass", stored.password_hash))


def test_a_customer_may_not_change_account_flags_even_their_own(world: World) -> None:
    ann = world.customer()
    before = dump(world.uow.store)
    for flags in ({"is_admin": True}, {"is_active": False}):
        with pytest.raises(Forbidden, match="^only admins may change is_active or is_admin$"):
            update(world, ann, ann.id, **flags)
    assert dump(world.uow.store) == before
