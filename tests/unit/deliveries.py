"""Webhook helpers for the unit tests: a short retry policy, subscribing, and one delivery pass."""

from datetime import timedelta

from application.webhooks import CreateWebhook, DeliveryOptions, create_webhook, deliver_due, offer_events
from domain.events import EventType
from domain.webhooks import RetryPolicy, Webhook
from entrypoints.api.event_schemas import render_event
from tests.doubles.memory import InMemoryUnitOfWork
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World

POLICY = RetryPolicy(
    first=timedelta(seconds=30),
    longest=timedelta(hours=1),
    give_up_after=timedelta(hours=24),
    disable_after=3,
)


def subscribe(world: World, clock, *types: EventType, url: str = "https://example.com/hook") -> Webhook:
    cmd = CreateWebhook(url, frozenset(types))
    return create_webhook(cmd, uow=world.uow, actor=world.admin, clock=clock, sender=RecordingSender())


def deliver(world: World, clock, sender: RecordingSender, policy: RetryPolicy = POLICY) -> int:
    offer_events(uow=world.uow, clock=clock, batch=100)
    return deliver_due(
        unit_of_work=lambda: InMemoryUnitOfWork(world.uow.store),
        sender=sender,
        clock=clock,
        render=render_event,
        options=DeliveryOptions(policy=policy, lease=timedelta(seconds=60), batch=10),
        jitter=lambda: 0.0,
    )
