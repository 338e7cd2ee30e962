"""Webhooks: subscriptions to event types, what each is owed (deliveries), and how failures are retried
and, when they persist, switch the subscription off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.entity import Entity
from domain.events import EventType
from domain.patch import UNSET, Unset, sent


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # given up: still failing when the retry period ended (a manual retry revives it)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff from `first` up to `longest`, with jitter; no new attempt after `give_up_after`
    from the delivery's creation. `disable_after` consecutive failed attempts switch the webhook off."""

    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    disable_after: int = 50

    def delay(self, attempts: int, jitter: float) -> timedelta:
        """Before attempt `attempts + 1`; `jitter` in [0, 1) spreads retries over the later half of the
        backoff so that receivers coming back are not hit by every delivery at once."""
        backoff: timedelta = min(self.first * 2 ** min(attempts - 1, 30), self.longest)
        return backoff * (0.5 + jitter / 2)


@dataclass(eq=False, slots=True)
class Webhook(Entity):
    url: str
    event_types: frozenset[EventType]
    secret: str
    created_at: datetime
    updated_at: datetime
    enabled: bool = True
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    version: int = 1
    id: int | None = None

    def wants(self, event_type: EventType) -> bool:
        return event_type in self.event_types

    def update(
        self,
        *,
        at: datetime,
        url: str | Unset = UNSET,
        event_types: frozenset[EventType] | Unset = UNSET,
        enabled: bool | Unset = UNSET,
    ) -> bool:
        """Its owner's change, as one new version; enabling a switched-off webhook forgets its failures.
        Return whether anything changed (nothing sent: nothing does)."""
        if not any(sent(value) for value in (url, event_types, enabled)):
            return False
        if sent(url):
            self.url = url
        if sent(event_types):
            self.event_types = event_types
        if enabled is True and not self.enabled:
            self.enabled = True
            self.disabled_reason = None
            self.consecutive_failures = 0
        elif enabled is False:
            self.enabled = False
            self.disabled_reason = None
        self._touch(at)
        return True

    def record_attempts(self, attempts: Sequence[Attempt], policy: RetryPolicy, *, at: datetime) -> None:
        """The attempts of one pass of the worker, in order, as one new version: a success ends its run of
        failures; `policy.disable_after` failures in a row switch it off."""
        for attempt in attempts:
            if attempt.succeeded:
                self.consecutive_failures = 0
                continue
            self.consecutive_failures += 1
            if self.enabled and self.consecutive_failures >= policy.disable_after:
                self.enabled = False
                self.disabled_reason = (
                    f"switched off after {self.consecutive_failures} failed attempts in a row; "
                    f"last: {attempt.describe()}"
                )
        self._touch(at)

    def _touch(self, at: datetime) -> None:
        self.version += 1
        self.updated_at = at


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of a delivery: the receiver's status, or why none came (`error`)."""

    delivery_id: int
    attempted_at: datetime
    latency_ms: int
    status_code: int | None = None
    error: str | None = None
    response_body: str | None = None
    id: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        return self.error or f"the receiver answered {self.status_code}"


@dataclass(eq=False, slots=True)
class Delivery(Entity):
    webhook_id: int
    event_id: int
    event_type: EventType
    state: DeliveryState
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_attempt_at: datetime | None = None
    id: int | None = None
    history: list[Attempt] = field(default_factory=list)  # loaded for its owner to read, oldest first

    def claim(self, at: datetime, lease: timedelta) -> None:
        """Taken by a worker for one attempt. Until the lease ends nobody else takes it; a worker that dies
        meanwhile leaves it due again then (so an event may arrive twice, never not at all)."""
        self.attempts += 1
        self.next_attempt_at = at + lease

    def record(self, attempt: Attempt, policy: RetryPolicy, jitter: float) -> None:
        self.last_attempt_at = attempt.attempted_at
        if attempt.succeeded:
            self.state = DeliveryState.DELIVERED
            return
        retry_at = attempt.attempted_at + policy.delay(self.attempts, jitter)
        if retry_at > self.created_at + policy.give_up_after:
            self.state = DeliveryState.FAILED
        else:
            self.next_attempt_at = retry_at

    def retry(self, at: datetime) -> None:
        """Due now, whatever state it is in: its owner asked for it again."""
        self.state = DeliveryState.PENDING
        self.next_attempt_at = at
