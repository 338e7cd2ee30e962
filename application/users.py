"""Use cases for users: registration, reading, updating, deactivation, admins.

Those that hash or check a password are async flows over a `UnitOfWorkRunner`: they read what they need in
one short unit of work, await the (slow) hasher holding no connection, and write in another. The rest are
plain use cases run inside one unit of work."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.access import require_admin, require_may_change_account_flags, require_self_or_admin
from application.auth import as_caller
from application.errors import (
    Conflict,
    CurrentPasswordRequired,
    IncorrectPassword,
    NotFound,
    RowRefused,
)
from application.lists import Page, UserFilter, Window
from application.patch import UNSET, Unset, sent
from application.ports import (
    Clock,
    DuplicateKey,
    PasswordHasher,
    TokenClaims,
    UnitOfWork,
    UnitOfWorkRunner,
    UserStats,
)
from application.throttling import (
    NO_LIMITS,
    Bucket,
    Limits,
    count_attempt,
    forgive_attempt,
    login_buckets,
    registration_buckets,
)
from domain.errors import DomainError
from domain.passwords import check_password
from domain.users import User, normalize_email

MAX_BULK_USERS = 100  # per POST /users/bulk: bounds the hashing one request queues in the hasher's pool
MAX_DEACTIVATE_IDS = 1_000  # ids one POST /users/bulk-deactivate may list
MAX_DEACTIVATED_PER_CALL = 1_000  # accounts one call deactivates by last log-in; call again for the rest


@dataclass(frozen=True, slots=True)
class RegisterUser:
    email: str
    name: str
    password: str
    address: str | None = None  # the client's, for throttling; None from the CLI and tests


@dataclass(frozen=True, slots=True)
class UserPatch:
    email: str | Unset = UNSET
    name: str | Unset = UNSET
    password: str | Unset = UNSET
    current_password: str | Unset = UNSET
    is_active: bool | Unset = UNSET
    is_admin: bool | Unset = UNSET

    def changes_credentials(self) -> bool:
        return sent(self.email) or sent(self.password)


async def register_user(
    cmd: RegisterUser,
    *,
    runner: UnitOfWorkRunner,
    hasher: PasswordHasher,
    clock: Clock,
    limits: Limits = NO_LIMITS,
) -> User:
    check_password(cmd.password, cmd.email)
    await runner.run(_admit_registration, clock, registration_buckets(limits, cmd.address), cmd.email)
    password_hash = await hasher.hash(cmd.password)
    return await runner.run(_store_new_user, clock, cmd, password_hash)


def _admit_registration(uow: UnitOfWork, clock: Clock, buckets: list[Bucket], email: str) -> None:
    """Throttled and checked for a taken e-mail before the password is hashed; the insert checks again."""
    count_attempt(uow, buckets, clock.now())
    with uow:
        _ensure_email_free(uow, normalize_email(email))


def _store_new_user(uow: UnitOfWork, clock: Clock, cmd: RegisterUser, password_hash: str) -> User:
    now = clock.now()
    user = User.create(email=cmd.email, name=cmd.name, password_hash=password_hash, at=now)
    with uow:
        _add(uow, user)
        uow.commit()
    return user


def current_user(*, uow: UnitOfWork, actor: User) -> User:
    """The caller, as identified in this unit of work."""
    return actor


def get_user(user_id: int, *, uow: UnitOfWork, actor: User) -> User:
    require_self_or_admin(actor, user_id, "user", user_id)
    with uow:
        return _load(uow, user_id)


def list_users(filters: UserFilter, window: Window, *, uow: UnitOfWork, actor: User) -> Page[User]:
    require_admin(actor, "list users")
    with uow:
        return uow.users.list(filters, window)


async def update_user(
    user_id: int,
    patch: UserPatch,
    *,
    runner: UnitOfWorkRunner,
    claims: TokenClaims,
    hasher: PasswordHasher,
    clock: Clock,
    limits: Limits = NO_LIMITS,
    address: str | None = None,
) -> User:
    """Check, then hash (holding no connection), then write, re-checking that nothing moved meanwhile.

    Changing one's own e-mail or password needs the current password, whose wrong guesses count against
    the account's log-in limits (from the client's `address`); admins changing another user's do not. The
    password is checked before anything else about the change, and a new e-mail of one's own then counts
    against the client's registration limit: whether an address is taken is told to nobody who has not
    proved a password, and no more often than `POST /users` tells it."""

    def plan(uow: UnitOfWork, actor: User | None) -> User:
        assert actor is not None
        return _plan_update(uow, actor, user_id, patch, lock=False)

    target = await runner.run(as_caller, claims, plan)
    # The plan refused one's own credentials change without a current password.
    if claims.user_id == user_id and patch.changes_credentials() and isinstance(patch.current_password, str):
        buckets = login_buckets(limits, target.email, address)
        await runner.run(count_attempt, buckets, clock.now())
        if not await hasher.verify(patch.current_password, target.password_hash):
            raise IncorrectPassword()
        await runner.run(forgive_attempt, buckets, clock.now())
        if _new_email(patch, target) is not None:
            await runner.run(count_attempt, registration_buckets(limits, address), clock.now())
    if sent(patch.password):
        check_password(patch.password, patch.email if sent(patch.email) else target.email)
    password_hash = await hasher.hash(patch.password) if sent(patch.password) else None

    def apply(uow: UnitOfWork, actor: User | None) -> User:
        assert actor is not None
        # Locked: a concurrent status change waits, then this one sees it (its event is raised once).
        user = _plan_update(uow, actor, user_id, patch, lock=True)
        if user.credentials_version != target.credentials_version:
            raise Conflict("the account's credentials changed meanwhile; reload and retry")
        new_email = _new_email(patch, user)
        if new_email is not None:
            _ensure_email_free(uow, new_email)
        _apply(user, patch, password_hash, clock, actor.id)
        _save(uow, user)
        uow.commit()
        return user

    return await runner.run(as_caller, claims, apply)


def _new_email(patch: UserPatch, user: User) -> str | None:
    """The e-mail the patch gives the user, normalised, if it is another one."""
    if not sent(patch.email) or normalize_email(patch.email) == user.email:
        return None
    return normalize_email(patch.email)


def _plan_update(uow: UnitOfWork, actor: User, user_id: int, patch: UserPatch, *, lock: bool) -> User:
    """Who may change what; the user as stored now (locked if `lock`)."""
    require_self_or_admin(actor, user_id, "user", user_id)
    if sent(patch.is_active) or sent(patch.is_admin):
        require_may_change_account_flags(actor)
    if actor.id == user_id and patch.changes_credentials() and not sent(patch.current_password):
        raise CurrentPasswordRequired()
    with uow:
        return _load(uow, user_id, for_update=lock)


def _apply(
    user: User, patch: UserPatch, password_hash: str | None, clock: Clock, actor_id: int | None
) -> None:
    user.update(
        at=clock.now(),
        email=patch.email,
        name=patch.name,
        is_admin=patch.is_admin,
        is_active=patch.is_active,
        password_hash=password_hash,
        actor_id=actor_id,
    )


def deactivate_user(user_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> None:
    require_self_or_admin(actor, user_id, "user", user_id)
    with uow:
        user = _load(uow, user_id, for_update=True)
        if user.deactivate(clock.now(), actor.id):
            uow.users.save(user)
            uow.commit()


async def ensure_admin(
    email: str, password: str, name: str, *, runner: UnitOfWorkRunner, hasher: PasswordHasher, clock: Clock
) -> User:
    """Create an admin, or promote, reactivate and reset the password of an existing user (which revokes
    that user's earlier tokens); running it twice is harmless."""
    check_password(password, email)
    password_hash = await hasher.hash(password)
    return await runner.run(_store_admin, clock, email, password_hash, name)


def _store_admin(uow: UnitOfWork, clock: Clock, email: str, password_hash: str, name: str) -> User:
    now = clock.now()
    with uow:
        user = uow.users.get_by_email(normalize_email(email))
        if user is None:
            user = User.create(email=email, name=name, password_hash=password_hash, at=now, is_admin=True)
            _add(uow, user)
        else:
            user.update(at=now, is_admin=True, is_active=True, password_hash=password_hash)
            uow.users.save(user)
        uow.commit()
    return user


# --- bulk administration, erasure and statistics ---------------------------------------------------------


async def register_users(
    rows: Sequence[RegisterUser],
    *,
    runner: UnitOfWorkRunner,
    claims: TokenClaims,
    hasher: PasswordHasher,
    clock: Clock,
) -> list[User]:
    """An admin registers up to MAX_BULK_USERS accounts, all or none: the first row that breaks a rule
    (its e-mail, its password, an e-mail given twice or already registered) is refused as `RowRefused`
    naming its index. Checked, then hashed concurrently in the hasher's pool holding no connection, then
    checked again and written in one transaction."""

    def check(uow: UnitOfWork, actor: User | None) -> None:
        assert actor is not None
        require_admin(actor, "register users in bulk")
        with uow:
            _check_batch(uow, rows)

    await runner.run(as_caller, claims, check)
    hashes = await asyncio.gather(*(hasher.hash(row.password) for row in rows))

    def store(uow: UnitOfWork, actor: User | None) -> list[User]:
        check(uow, actor)  # again: an e-mail may have been registered meanwhile
        now = clock.now()
        created = []
        for index, (row, password_hash) in enumerate(zip(rows, hashes, strict=True)):
            user = User.create(email=row.email, name=row.name, password_hash=password_hash, at=now)
            try:
                _add(uow, user)
            except Conflict as error:  # lost a race with another registration of the same e-mail
                raise RowRefused(index, error) from None
            created.append(user)
        uow.commit()
        return created

    return await runner.run(as_caller, claims, store)


def _check_batch(uow: UnitOfWork, rows: Sequence[RegisterUser]) -> None:
    """RowRefused for the first row at fault, if any."""
    first_row_of: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            email = normalize_email(row.email)
            check_password(row.password, email)
        except DomainError as error:
            raise RowRefused(index, error) from None
        if email in first_row_of:
            raise RowRefused(index, Conflict(f"the email {email} is also in row {first_row_of[email]}"))
        first_row_of[email] = index
    taken = uow.users.taken_emails(list(first_row_of))
    for email, index in first_row_of.items():
        if email in taken:
            raise RowRefused(index, Conflict(f"the email {email} is already registered"))


@dataclass(frozen=True, slots=True)
class Deactivation:
    """Which customers to deactivate: those not seen since a time, or those listed (exactly one)."""

    last_login_before: datetime | None = None
    ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if (self.last_login_before is None) == (self.ids is None):
            raise ValueError("give either last_login_before or ids")


def deactivate_customers(criteria: Deactivation, *, uow: UnitOfWork, actor: User, clock: Clock) -> int:
    """How many customers were deactivated (each as a single deactivation does it: `User.deactivate`,
    which revokes their tokens and records its `user.deactivated`, stored in the same transaction).
    Admins, unknown ids and accounts already inactive are left alone. By time, at most
    MAX_DEACTIVATED_PER_CALL per call; calling again picks up the rest. The accounts are read locked, so
    a concurrent deactivation of the same ones waits and then finds them inactive: one event each."""
    require_admin(actor, "deactivate users in bulk")
    now = clock.now()
    with uow:
        if criteria.ids is not None:
            candidates = uow.users.get_many(criteria.ids, for_update=True)
        else:
            assert criteria.last_login_before is not None
            candidates = uow.users.customers_not_seen_since(
                criteria.last_login_before, MAX_DEACTIVATED_PER_CALL, for_update=True
            )
        changed = [user for user in candidates if not user.is_admin and user.deactivate(now, actor.id)]
        for user in changed:
            uow.users.save(user)
        uow.commit()
    return len(changed)


def erase_user(user_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> User:
    """Anonymise a customer's account (`User.erase`), keeping the row their orders refer to, and delete
    their address book. Erasing it again answers the same and changes nothing; one's own account (an
    admin's) is refused."""
    require_admin(actor, "erase accounts")
    if actor.id == user_id:
        raise Conflict("you cannot erase your own account")
    with uow:
        user = _load(uow, user_id, for_update=True)
        if user.erase(clock.now(), actor.id):
            uow.users.save(user)
            # Its address book goes too; its orders keep their address copies, as they keep the rest.
            book = uow.addresses.book(user_id, for_update=True)
            book.clear()
            uow.addresses.save(book)
            uow.commit()
    return user


def user_stats(
    registered_from: datetime | None,
    registered_to: datetime | None,
    *,
    uow: UnitOfWork,
    actor: User,
) -> UserStats:
    require_admin(actor, "read user statistics")
    with uow:
        return uow.users.stats(registered_from, registered_to)


def _load(uow: UnitOfWork, user_id: int, *, for_update: bool = False) -> User:
    user = uow.users.get(user_id, for_update=for_update)
    if user is None:
        raise NotFound("user", user_id)
    return user


def _ensure_email_free(uow: UnitOfWork, email: str) -> None:
    if uow.users.get_by_email(email) is not None:
        raise Conflict(f"the email {email} is already registered")


def _add(uow: UnitOfWork, user: User) -> None:
    try:
        uow.users.add(user)
    except DuplicateKey:  # lost a race with another registration of the same email
        raise Conflict(f"the email {user.email} is already registered") from None


def _save(uow: UnitOfWork, user: User) -> None:
    try:
        uow.users.save(user)
    except DuplicateKey:
        raise Conflict(f"the email {user.email} is already registered") from None
