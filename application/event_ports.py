"""Ports of the outbox, the event feed and webhooks: what their use cases need from the outside world."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.lists import EventFilter, Page, Window
from domain.catalog import Product
from domain.events import DomainEvent, Event
from domain.fulfillments import Fulfillment
from domain.orders import Order
from domain.payments import Payment
from domain.returns import Return
from domain.users import User
from domain.webhooks import Attempt, Delivery, Webhook

# The public representation of an order, a product, a payment, a user, a fulfilment or a return (as the
# API returns it): the payload of its events.
Presenter = Callable[[Order | Product | Payment | User | Fulfillment | Return], dict[str, Any]]


class EventRepository(Protocol):
    """The outbox and the feed read from it."""

    def add(self, events: Sequence[DomainEvent]) -> None:
        """Store the events with the change that raised them: each with its resource's next sequence number
        (under the resource's row lock, which its use case holds) and its payload as presented now."""
        ...

    def get(self, event_id: int) -> Event | None: ...
    def get_many(self, event_ids: Sequence[int]) -> dict[int, Event]: ...
    def feed(self, filters: EventFilter, starting_after: int | None, limit: int) -> list[Event]:
        """Events in commit order after the event `starting_after` (the beginning if None). Only events
        that nothing uncommitted can precede any more are served, so a reader who moves past one has not
        skipped an event that commits later."""
        ...

    def purge(self, created_before: datetime) -> int:
        """Delete older events, except each resource's newest (its sequence goes on from it); return how
        many went."""
        ...


class WebhookRepository(Protocol):
    def add(self, webhook: Webhook) -> None:
        """Its position in the feed starts at the feed's end: it is owed what is raised from now on."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(self, webhook_id: int, *, for_update: bool = False) -> Webhook | None: ...  # pragma: no mutate
    def list(self, window: Window) -> Page[Webhook]: ...
    def save(self, webhook: Webhook) -> None:
        """Raise StaleVersion unless the row is at `webhook.version - 1`."""
        ...

    def delete(self, webhook_id: int) -> None:
        """Its deliveries and attempts go with it."""
        ...

    def offer_events(self, now: datetime, limit: int) -> int:
        """For each enabled webhook another worker is not offering to: a delivery for each event of the
        types it wants, from its position in the feed on (at most `limit` events), and the position moved
        past them. Return how many deliveries were created."""
        ...

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> builtins.list[Delivery]:
        """Pending deliveries of enabled webhooks due by `now`, oldest due first, locked (skipping those
        another worker holds) and claimed (Delivery.claim) until `now + lease`."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get_delivery(
        self,
        webhook_id: int,
        delivery_id: int,
        *,
        for_update: bool = False,  # pragma: no mutate
    ) -> Delivery | None: ...
    def deliveries(self, webhook_id: int, window: Window) -> Page[Delivery]:
        """Newest first (application.paging.DELIVERIES), each with its attempts oldest first."""
        ...

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, builtins.list[Attempt]]: ...
    def save_deliveries(self, deliveries: Sequence[Delivery], attempts: Sequence[Attempt] = ()) -> None:
        """Store their states, and the attempts that led to them."""
        ...

    def purge(self, created_before: datetime) -> int:
        """Delete deliveries (and their attempts) created before; return how many."""
        ...


@dataclass(frozen=True, slots=True)
class Response:
    """What a webhook receiver answered (`body`: its first bytes), or why nothing was answered."""

    latency_ms: int
    status_code: int | None = None
    body: str | None = None
    error: str | None = None


class WebhookSender(Protocol):
    def check_target(self, url: str) -> None:
        """Raise UnsafeTarget for a URL the service must not call (not http(s), or an address on the
        service's own networks unless allowed)."""
        ...

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        """POST once, checking the target again (its name may now point elsewhere); never raise."""
        ...
