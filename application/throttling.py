"""How often a client may try a password or register: fixed windows of attempts, counted in the database
through `ThrottleRepository`, so the limits hold across worker processes and restarts.

Attempts are counted before the password is checked (concurrent guesses cannot slip past the limit), in the
buckets of an attempt in order, stopping at the first that is over: an attempt refused there checks no
password and counts in none of the later buckets. A successful log-in takes its attempt back, so the limits
count failures.

Log-ins follow OWASP's authentication guidance, so that nobody can lock an owner out of their account:
- per (account, client address), tight: one client guessing one account. Over it, only that client waits.
- per client address: one client guessing many accounts.
- per account, looser: many clients guessing one account. Over it, clients that have logged in to the
  account before (remembered for `Limits.known_client_for`) still get in; new ones wait."""

import hashlib
import ipaddress
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

    login_per_account_and_address: Rate | None = None
    login_per_address: Rate | None = None
    login_per_account: Rate | None = None  # waived for known clients
    registration_per_address: Rate | None = None  # also one's own e-mail changes: both tell if one is taken
    known_client_for: timedelta = timedelta(days=90)  # after a successful log-in from a client address


NO_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class KnownClient:
    """A client address that has logged in to an account, remembered under `key` for `kept_for`."""

    key: str
    kept_for: timedelta


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    rate: Rate
    cleared_by_success: bool = False  # the one client's bucket starts afresh; the others get one attempt back
    waived_for: KnownClient | None = None  # over the rate, this client still passes if it is known


def login_buckets(limits: Limits, email: str, address: str | None) -> list[Bucket]:
    """In the order they are checked (module docstring); without a client address (the CLI, tests) only the
    per-account limit applies, waived for nobody."""
    if address is None:
        return _bucket("login-account", email, limits.login_per_account)
    address = _subscriber(address)
    client = f"{email}\n{address}"
    return (
        _bucket("login-client", client, limits.login_per_account_and_address, cleared_by_success=True)
        + _bucket("login-address", address, limits.login_per_address)
        + _bucket(
            "login-account",
            email,
            limits.login_per_account,
            waived_for=KnownClient(_key("login-known", client), limits.known_client_for),
        )
    )


def registration_buckets(limits: Limits, address: str | None) -> list[Bucket]:
    return _bucket("registration-address", _subscriber(address), limits.registration_per_address)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _subscriber(address: str | None) -> str | None:
    """An IPv6 client by its /64, the block one subscriber usually holds whole (it could otherwise take a
    fresh address per guess); an IPv4 client, also one seen through IPv4-mapping or NAT64, by its address;
    anything unparsable as it is."""
    if address is None:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv4Address):
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed in _NAT64:
        return str(ipaddress.IPv4Address(int(parsed) & 0xFFFFFFFF))
    return str(ipaddress.IPv6Network((int(parsed) >> 64 << 64, 64)))


def count_attempt(uow: UnitOfWork, buckets: list[Bucket], now: datetime) -> None:
    """Count one attempt in each bucket up to the first that is over its rate, and commit (a refused
    attempt counts too); then raise TooManyAttempts with the seconds until that bucket's window ends."""
    if not buckets:
        return
    with uow:
        refused_until = _first_over(uow, buckets, now)
        uow.commit()
    if refused_until is not None:
        raise TooManyAttempts(max(1, math.ceil((refused_until - now).total_seconds())))


def _first_over(uow: UnitOfWork, buckets: list[Bucket], now: datetime) -> datetime | None:
    for bucket in buckets:
        attempts = uow.throttle.hit(bucket.key, now, bucket.rate.window)
        if attempts.count <= bucket.rate.attempts:
            continue
        if bucket.waived_for is None or not uow.throttle.remembers(bucket.waived_for.key, now):
            return attempts.window_ends
    return None


def forgive_attempt(uow: UnitOfWork, buckets: list[Bucket], now: datetime) -> None:
    """The attempt succeeded: the client's bucket starts afresh, the others get their attempt back, and the
    client is remembered where a bucket waives its limit for known clients."""
    if not buckets:
        return
    with uow:
        forgive_in(uow, buckets, now)
        uow.commit()


def forgive_in(uow: UnitOfWork, buckets: list[Bucket], now: datetime) -> None:
    """`forgive_attempt`'s writes, in a transaction the caller opened and commits (a log-in's, which also
    records the log-in)."""
    for bucket in buckets:
        if bucket.cleared_by_success:
            uow.throttle.clear(bucket.key)
        else:
            uow.throttle.forgive(bucket.key)
        if bucket.waived_for is not None:
            uow.throttle.remember(bucket.waived_for.key, now + bucket.waived_for.kept_for)


def _bucket(
    kind: str,
    subject: str | None,
    rate: Rate | None,
    *,
    cleared_by_success: bool = False,
    waived_for: KnownClient | None = None,
) -> list[Bucket]:
    if rate is None or subject is None:
        return []
    return [Bucket(_key(kind, subject), rate, cleared_by_success, waived_for)]


def _key(kind: str, subject: str) -> str:
    # Hashed: a fixed-length key, and no e-mail address or client address kept in the table.
    # Equivalent mutants: codec names are case-insensitive.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()  # pragma: no mutate
    return f"{kind}:{digest[:40]}"


def purge_ended_windows(*, uow: UnitOfWork, clock: Clock) -> int:
    with uow:
        purged = uow.throttle.purge(clock.now())
        uow.commit()
    return purged
