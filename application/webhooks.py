"""Webhooks: subscriptions managed by admins, and the delivery of the events they want (at least once,
signed, retried with backoff; see domain.webhooks for the retry and switch-off rules)."""

import hashlib
import hmac
import random
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.access import require_admin
from application.errors import NotFound, PreconditionFailed
from application.event_ports import WebhookSender
from application.lists import Page, Window
from application.patch import UNSET, Unset, sent
from application.ports import Clock, StaleVersion, UnitOfWork
from domain.events import Event, EventType
from domain.users import User
from domain.webhooks import Attempt, Delivery, RetryPolicy, Webhook

SIGNATURE_HEADER = "Shop-Signature"
MAX_PARALLEL_POSTS = 8


@dataclass(frozen=True, slots=True)
class CreateWebhook:
    url: str
    event_types: frozenset[EventType]
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class WebhookPatch:
    url: str | Unset = UNSET
    event_types: frozenset[EventType] | Unset = UNSET
    enabled: bool | Unset = UNSET


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """How the worker delivers: its retry policy, how long a claimed delivery is its own, and how many it
    takes per pass."""

    policy: RetryPolicy = RetryPolicy()
    lease: timedelta = timedelta(seconds=60)
    batch: int = 50


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Shop-Signature header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
    The time is signed too, so a receiver can refuse replays of old messages."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def create_webhook(
    cmd: CreateWebhook, *, uow: UnitOfWork, actor: User, clock: Clock, sender: WebhookSender
) -> Webhook:
    """The answer is the only time the secret is shown."""
    require_admin(actor, "manage webhooks")
    sender.check_target(cmd.url)
    now = clock.now()
    webhook = Webhook(cmd.url, cmd.event_types, new_secret(), now, now, enabled=cmd.enabled)
    with uow:
        uow.webhooks.add(webhook)
        uow.commit()
    return webhook


def list_webhooks(window: Window, *, uow: UnitOfWork, actor: User) -> Page[Webhook]:
    require_admin(actor, "manage webhooks")
    with uow:
        return uow.webhooks.list(window)


def get_webhook(webhook_id: int, *, uow: UnitOfWork, actor: User) -> Webhook:
    require_admin(actor, "manage webhooks")
    with uow:
        return _load(uow, webhook_id)


def update_webhook(
    webhook_id: int, patch: WebhookPatch, *, uow: UnitOfWork, actor: User, clock: Clock, sender: WebhookSender
) -> Webhook:
    """Enabling a switched-off webhook forgets its failures; what it missed meanwhile is still owed."""
    require_admin(actor, "manage webhooks")
    if sent(patch.url):
        sender.check_target(patch.url)
    with uow:
        webhook = _load(uow, webhook_id, for_update=True)
        if webhook.update(
            at=clock.now(), url=patch.url, event_types=patch.event_types, enabled=patch.enabled
        ):
            _save(uow, webhook)
            uow.commit()
    return webhook


def delete_webhook(webhook_id: int, *, uow: UnitOfWork, actor: User) -> None:
    require_admin(actor, "manage webhooks")
    with uow:
        _load(uow, webhook_id, for_update=True)
        uow.webhooks.delete(webhook_id)
        uow.commit()


def list_deliveries(webhook_id: int, window: Window, *, uow: UnitOfWork, actor: User) -> Page[Delivery]:
    require_admin(actor, "manage webhooks")
    with uow:
        _load(uow, webhook_id)
        return uow.webhooks.deliveries(webhook_id, window)


def retry_delivery(
    webhook_id: int, delivery_id: int, *, uow: UnitOfWork, actor: User, clock: Clock
) -> Delivery:
    """Due again now, delivered or not (a receiver that lost it asks for it again)."""
    require_admin(actor, "manage webhooks")
    with uow:
        delivery = uow.webhooks.get_delivery(webhook_id, delivery_id, for_update=True)
        if delivery is None:
            raise NotFound("delivery", delivery_id)
        delivery.retry(clock.now())
        uow.webhooks.save_deliveries([delivery])
        delivery.history = uow.webhooks.attempts([delivery_id]).get(delivery_id, [])
        uow.commit()
    return delivery


def offer_events(*, uow: UnitOfWork, clock: Clock, batch: int) -> int:
    """One pass of the fan-out: new events become deliveries of the webhooks that want them."""
    with uow:
        offered = uow.webhooks.offer_events(clock.now(), batch)
        uow.commit()
    return offered


def deliver_due(
    *,
    unit_of_work: Callable[[], UnitOfWork],
    sender: WebhookSender,
    clock: Clock,
    render: Callable[[Event], bytes],
    options: DeliveryOptions,
    jitter: Callable[[], float] = random.random,
) -> int:
    """One pass of delivery: claim what is due (committed at once, so no transaction stays open while the
    receivers answer), POST each, in parallel, then record every outcome in one transaction. A worker that
    dies before recording leaves its claims to end with their lease: the events go again. Return how many
    were attempted."""
    claimed = _claim(unit_of_work(), clock.now(), options)
    if not claimed:
        return 0

    def attempt(item: tuple[Delivery, Webhook, Event]) -> tuple[Delivery, Attempt]:
        delivery, webhook, event = item
        body = render(event)
        response = sender.post(webhook.url, body, _headers(webhook, event, delivery, body, clock.now()))
        return delivery, Attempt(
            delivery_id=delivery.id or 0,
            attempted_at=clock.now(),
            latency_ms=response.latency_ms,
            status_code=response.status_code,
            error=response.error,
            response_body=response.body,
        )

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_POSTS, len(claimed))) as pool:
        outcomes = list(pool.map(attempt, claimed))
    _record(unit_of_work(), outcomes, options.policy, jitter)
    return len(claimed)


def _claim(uow: UnitOfWork, now: datetime, options: DeliveryOptions) -> list[tuple[Delivery, Webhook, Event]]:
    with uow:
        due = uow.webhooks.claim_due(now, options.lease, options.batch)
        webhooks = {d.webhook_id: uow.webhooks.get(d.webhook_id) for d in due}
        events = uow.events.get_many([d.event_id for d in due])
        uow.commit()
    return [
        (d, webhook, events[d.event_id])
        for d in due
        if (webhook := webhooks[d.webhook_id]) is not None and d.event_id in events
    ]


def _record(
    uow: UnitOfWork,
    outcomes: list[tuple[Delivery, Attempt]],
    policy: RetryPolicy,
    jitter: Callable[[], float],
) -> None:
    """Each delivery's new state and attempt, and its webhook's run of failures (the webhooks locked in id
    order, so workers recording at once queue rather than deadlock)."""
    with uow:
        ids = sorted({delivery.webhook_id for delivery, _ in outcomes})
        webhooks = {i: uow.webhooks.get(i, for_update=True) for i in ids}
        # The deliveries of a webhook deleted meanwhile went with it.
        recorded = [(d, a) for d, a in outcomes if webhooks[d.webhook_id] is not None]
        for delivery, attempt in recorded:
            delivery.record(attempt, policy, jitter())
        uow.webhooks.save_deliveries([d for d, _ in recorded], [a for _, a in recorded])
        for webhook in webhooks.values():
            if webhook is not None:
                attempts = [a for d, a in recorded if d.webhook_id == webhook.id]
                webhook.record_attempts(attempts, policy, at=outcomes[-1][1].attempted_at)
                uow.webhooks.save(webhook)
        uow.commit()


def _headers(
    webhook: Webhook, event: Event, delivery: Delivery, body: bytes, now: datetime
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Shop-Event-Id": str(event.id),
        "Shop-Event-Type": event.type.value,
        "Shop-Delivery-Id": str(delivery.id),
        SIGNATURE_HEADER: signature(webhook.secret, int(now.timestamp()), body),
    }


def _load(uow: UnitOfWork, webhook_id: int, *, for_update: bool = False) -> Webhook:
    webhook = uow.webhooks.get(webhook_id, for_update=for_update)
    if webhook is None:
        raise NotFound("webhook", webhook_id)
    return webhook


def _save(uow: UnitOfWork, webhook: Webhook) -> None:
    try:
        uow.webhooks.save(webhook)
    except StaleVersion as stale:
        raise PreconditionFailed("webhook", webhook.id, stale.current_version) from None
