"""Use cases for users and authentication."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from application.access import require_admin, require_self_or_admin
from application.errors import AuthenticationFailed, Conflict, Forbidden, NotFound
from application.patch import UNSET, changes
from application.ports import (
    AccessToken,
    Clock,
    DuplicateKey,
    Page,
    PasswordHasher,
    TokenIssuer,
    UnitOfWork,
    UserFilter,
)
from domain.users import User, normalize_email

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RegisterUser:
    email: str
    name: str
    password: str


@dataclass(frozen=True, slots=True)
class UserPatch:
    email: object = UNSET
    name: object = UNSET
    password: object = UNSET
    is_active: object = UNSET
    is_admin: object = UNSET


def register_user(uow: UnitOfWork, hasher: PasswordHasher, clock: Clock, cmd: RegisterUser) -> User:
    password_hash = hasher.hash(cmd.password)  # slow on purpose: done before the transaction opens
    now = clock.now()
    user = User(email=cmd.email, name=cmd.name, password_hash=password_hash, created_at=now, updated_at=now)
    with uow:
        _ensure_email_free(uow, user.email)
        _add(uow, user)
        uow.commit()
    return user


def authenticate(
    uow: UnitOfWork, hasher: PasswordHasher, tokens: TokenIssuer, email: str, password: str
) -> AccessToken:
    """Unknown email, wrong password and deactivated account fail alike, and cost the same."""
    with uow:
        user = uow.users.get_by_email(normalize_email(email))
    password_ok = hasher.verify(password, user.password_hash if user else hasher.dummy_hash())
    if user is None or not password_ok or not user.is_active:
        raise AuthenticationFailed("incorrect email or password")
    assert user.id is not None
    return tokens.issue(user.id)


def identify(uow: UnitOfWork, user_id: int) -> User:
    """The active user a verified token speaks for; deactivated users are locked out at once."""
    with uow:
        user = uow.users.get(user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed()
    return user


def as_caller(uow: UnitOfWork, user_id: int | None, work: Callable[[UnitOfWork, Any], T]) -> T:
    """Run `work(uow, caller)` with the caller identified in the same transaction; None is anonymous.

    One transaction instead of two: the API pays for one connection checkout and one BEGIN per request."""
    with uow:
        return work(uow, None if user_id is None else identify(uow, user_id))


def get_user(uow: UnitOfWork, actor: User, user_id: int) -> User:
    require_self_or_admin(actor, user_id, "user", user_id)
    with uow:
        return _load(uow, user_id)


def list_users(uow: UnitOfWork, actor: User, filters: UserFilter, limit: int, offset: int) -> Page[User]:
    require_admin(actor, "list users")
    with uow:
        return uow.users.list(filters, limit, offset)


def update_user(
    uow: UnitOfWork, hasher: PasswordHasher, clock: Clock, actor: User, user_id: int, patch: UserPatch
) -> User:
    require_self_or_admin(actor, user_id, "user", user_id)
    sent = changes(patch)
    if ("is_active" in sent or "is_admin" in sent) and not actor.is_admin:
        raise Forbidden("only admins may change is_active or is_admin")
    if "password" in sent:
        sent["password_hash"] = hasher.hash(str(sent.pop("password")))
    with uow:
        user = _load(uow, user_id)
        if "email" in sent:
            email = normalize_email(str(sent.pop("email")))
            if email != user.email:
                _ensure_email_free(uow, email)
            user.change_email(email)
        for name, value in sent.items():
            setattr(user, name, value)
        user.updated_at = clock.now()
        _save(uow, user)
        uow.commit()
    return user


def deactivate_user(uow: UnitOfWork, clock: Clock, actor: User, user_id: int) -> None:
    require_self_or_admin(actor, user_id, "user", user_id)
    with uow:
        user = _load(uow, user_id)
        if user.is_active:
            user.deactivate(clock.now())
            uow.users.save(user)
            uow.commit()


def ensure_admin(
    uow: UnitOfWork, hasher: PasswordHasher, clock: Clock, email: str, password: str, name: str
) -> User:
    """Create an admin, or promote (and reactivate) an existing user; running it twice is harmless."""
    password_hash = hasher.hash(password)
    now = clock.now()
    with uow:
        user = uow.users.get_by_email(normalize_email(email))
        if user is None:
            user = User(email=email, name=name, password_hash=password_hash, created_at=now, updated_at=now)
            user.is_admin = True
            _add(uow, user)
        else:
            user.is_admin = True
            user.is_active = True
            user.password_hash = password_hash
            user.updated_at = now
            uow.users.save(user)
        uow.commit()
    return user


def _load(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
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
