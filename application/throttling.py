"""How often a client may try a password or register: fixed windows of attempts, counted in the database
through `ThrottleRepository`, so the limits hold across worker processes and restarts.

Attempts are counted before the password is checked (concurrent guesses cannot slip past the limit) and a
successful log-in takes its attempt back, so the limits count failures."""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.errors import TooManyAttempts
from application.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class Rate:
    attempts: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    """None switches a limit off."""

    login_per_account: Rate | None = None
    login_per_address: Rate | None = None
    registration_per_address: Rate | None = None


NO_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    rate: Rate
    per_account: bool = False


def login_buckets(limits: Limits, email: str, address: str | None) -> list[Bucket]:
    buckets = _bucket("login-account", email, limits.login_per_account, per_account=True)
    if address is not None:
        buckets += _bucket("login-address", address, limits.login_per_address)
    return buckets


def registration_buckets(limits: Limits, address: str | None) -> list[Bucket]:
    return _bucket("registration-address", address, limits.registration_per_address)


def count_attempt(uow: UnitOfWork, buckets: list[Bucket], now: datetime) -> None:
    """Count one attempt in every bucket and commit it (a refused attempt counts too); raise TooManyAttempts
    when any bucket is over its rate, with the seconds until the last of those windows ends."""
    if not buckets:
        return
    with uow:
        attempts = [(bucket, uow.throttle.hit(bucket.key, now, bucket.rate.window)) for bucket in buckets]
        uow.commit()
    over = [a.window_ends for bucket, a in attempts if a.count > bucket.rate.attempts]
    if over:
        raise TooManyAttempts(max(1, math.ceil((max(over) - now).total_seconds())))


def forgive_attempt(uow: UnitOfWork, buckets: list[Bucket]) -> None:
    """The attempt succeeded: the account starts afresh, the address gets its attempt back."""
    if not buckets:
        return
    with uow:
        for bucket in buckets:
            if bucket.per_account:
                uow.throttle.clear(bucket.key)
            else:
                uow.throttle.forgive(bucket.key)
        uow.commit()


def _bucket(kind: str, subject: str | None, rate: Rate | None, per_account: bool = False) -> list[Bucket]:
    if rate is None or subject is None:
        return []
    # Hashed: a fixed-length key, and no e-mail address or client address kept in the table.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()
    return [Bucket(f"{kind}:{digest[:40]}", rate, per_account)]


def purge_ended_windows(*, uow: UnitOfWork, clock: Clock) -> int:
    with uow:
        purged = uow.throttle.purge(clock.now())
        uow.commit()
    return purged
