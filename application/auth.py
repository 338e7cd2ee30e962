"""Logging in and out, and who a token speaks for: the caller of every authenticated request."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from application.errors import AuthenticationFailed
from application.ports import (
    AccessToken,
    Clock,
    PasswordHasher,
    TokenClaims,
    TokenIssuer,
    UnitOfWork,
    UnitOfWorkRunner,
)
from application.throttling import NO_LIMITS, Bucket, Limits, count_attempt, forgive_in, login_buckets
from domain.errors import InvalidEmail
from domain.users import User, normalize_email

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LogIn:
    email: str
    password: str
    address: str | None = None  # the client's, for throttling


async def authenticate(
    cmd: LogIn,
    *,
    runner: UnitOfWorkRunner,
    hasher: PasswordHasher,
    tokens: TokenIssuer,
    clock: Clock,
    limits: Limits = NO_LIMITS,
) -> AccessToken:
    """Unknown email, wrong password and deactivated account fail alike, and cost the same."""
    email = _login_name(cmd.email)
    buckets = login_buckets(limits, email or cmd.email.strip().lower(), cmd.address)
    user = await runner.run(_open_login, clock, buckets, email)
    password_ok = await hasher.verify(cmd.password, user.password_hash if user else None)
    if user is None or not password_ok or not user.is_active:
        raise AuthenticationFailed("incorrect email or password")
    await runner.run(_close_login, clock, buckets, user)
    return tokens.issue(user)


def _login_name(email: str) -> str | None:
    """The normalized e-mail, or None for one no account can have."""
    try:
        return normalize_email(email)
    except InvalidEmail:
        return None


def _open_login(uow: UnitOfWork, clock: Clock, buckets: list[Bucket], email: str | None) -> User | None:
    count_attempt(uow, buckets, clock.now())
    if email is None:
        return None
    with uow:
        return uow.users.get_by_email(email)


def _close_login(uow: UnitOfWork, clock: Clock, buckets: list[Bucket], user: User) -> None:
    """The log-in succeeded: its attempt is forgiven and the time recorded, in one transaction."""
    now = clock.now()
    with uow:
        forgive_in(uow, buckets, now)
        user.record_login(now)
        uow.users.record_login(user)
        uow.commit()


def log_out(*, uow: UnitOfWork, actor: User, clock: Clock) -> None:
    """Revokes every token of the caller's, on every device."""
    with uow:
        actor.revoke_tokens(clock.now())
        uow.users.save(actor)
        uow.commit()


def identify(uow: UnitOfWork, claims: TokenClaims) -> User:
    """The active user a verified token speaks for, if the token has not been revoked since."""
    with uow:
        user = uow.users.get(claims.user_id)
    if user is None or not user.accepts_token_version(claims.credentials_version):
        raise AuthenticationFailed("the access token has been revoked; log in again")
    return user


def as_caller(uow: UnitOfWork, claims: TokenClaims | None, work: Callable[[UnitOfWork, User | None], T]) -> T:
    """Run `work(uow, caller)` with the caller identified in the same transaction; None is anonymous.

    One transaction instead of two: the API pays for one connection checkout and one BEGIN per request."""
    with uow:
        return work(uow, None if claims is None else identify(uow, claims))
