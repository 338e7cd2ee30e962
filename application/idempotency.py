"""Idempotent order placement: a key claimed in its own transaction, completed in the order's.

Claiming first (and committing) is what lets a repeat that arrives while the first request is still
running be told 409 instead of placing a second order."""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from application.auth import as_caller
from application.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from application.orders import PlaceOrder, get_order, place_order_as_caller
from application.ports import (
    NO_COUNTERS,
    BusinessEvent,
    Clock,
    Counters,
    IdempotencyRecord,
    TokenClaims,
    UnitOfWork,
    UnitOfWorkRunner,
)
from domain.orders import Order
from domain.users import User

KEY_TTL = timedelta(hours=24)
# A claim still unfinished after this long belongs to a request that died; its key may be reused.
ABANDONED_AFTER = timedelta(minutes=2)


def fingerprint(cmd: PlaceOrder) -> str:
    items = [[i.product_id, i.quantity] for i in cmd.items]
    # Equivalent mutants: a digest is only ever compared with one made by this same function.
    body: dict[str, Any] = {"items": items, "user_id": cmd.user_id}  # pragma: no mutate
    # Only when given, so a request without addresses keeps the digest it had before they existed.
    for name, choice in (("shipping", cmd.shipping_address), ("billing", cmd.billing_address)):
        if choice is not None:
            body[name] = choice if isinstance(choice, int) else choice.as_dict()
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()  # pragma: no mutate


def claim_key(uow: UnitOfWork, clock: Clock, user_id: int, key: str, digest: str) -> int | None:
    """Claim `key` for this request; return the order id to replay when it was already used."""
    now = clock.now()
    with uow:
        existing = uow.idempotency.claim(IdempotencyRecord(user_id, key, digest, now))
        if existing is not None and _is_dead(existing, now):
            uow.idempotency.release(user_id, key)
            existing = uow.idempotency.claim(IdempotencyRecord(user_id, key, digest, now))
        if existing is None:
            uow.commit()
            return None
    if existing.fingerprint != digest:
        raise IdempotencyKeyReused()
    if existing.order_id is None:
        raise IdempotencyKeyInUse()
    return existing.order_id


def release_key(uow: UnitOfWork, user_id: int, key: str) -> None:
    with uow:
        uow.idempotency.release(user_id, key)
        uow.commit()


def purge_expired_keys(*, uow: UnitOfWork, clock: Clock) -> int:
    with uow:
        purged = uow.idempotency.purge(clock.now() - KEY_TTL)
        uow.commit()
    return purged


async def place_order_idempotently(
    cmd: PlaceOrder,
    key: str,
    *,
    runner: UnitOfWorkRunner,
    claims: TokenClaims,
    clock: Clock,
    counters: Counters = NO_COUNTERS,
) -> Order:
    """The first request with `key` places the order; a repeat with the same body gets that order back.

    Each step identifies the caller (the `claims` of a verified token) in its own transaction."""
    digest = fingerprint(cmd)

    def claim(uow: UnitOfWork, actor: User | None) -> int | None:
        assert actor is not None and actor.id is not None
        return claim_key(uow, clock, actor.id, key, digest)

    replay_id = await runner.run(as_caller, claims, claim)
    if replay_id is not None:
        replayed = await runner.run(
            as_caller, claims, lambda uow, actor: get_order(replay_id, uow=uow, actor=actor)
        )
        counters.count(BusinessEvent.IDEMPOTENT_REPLAY)
        return replayed
    try:
        return await runner.run(
            place_order_as_caller, cmd, claims, clock=clock, idempotency_key=key, counters=counters
        )
    except BaseException:
        # The order was not placed: free the key so the client may retry with it.
        await runner.run(release_key, claims.user_id, key)
        raise


def _is_dead(record: IdempotencyRecord, now: datetime) -> bool:
    age = now - record.created_at
    return age >= KEY_TTL or (record.order_id is None and age >= ABANDONED_AFTER)
