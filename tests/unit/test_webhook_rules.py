"""Webhook rules at their edges: what a receiver is sent, what a change of a webhook switches on or off,
batches of the fan-out and of delivery, and the feed's pages."""

from datetime import timedelta

from application.events import MAX_FEED_PAGE, read_events
from application.lists import EventFilter
from application.webhooks import (
    CreateWebhook,
    DeliveryOptions,
    WebhookPatch,
    create_webhook,
    deliver_due,
    offer_events,
    update_webhook,
)
from domain.events import DomainEvent, EventType
from domain.webhooks import Attempt, Delivery, DeliveryState
from entrypoints.api.event_schemas import render_event
from tests.doubles.memory import InMemoryUnitOfWork
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World
from tests.unit.deliveries import POLICY, deliver, subscribe


def test_a_receiver_is_told_the_body_is_json_and_which_delivery_it_is(world: World) -> None:
    subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    world.product()
    sender = RecordingSender()
    deliver(world, world.clock, sender)
    [(_, _, headers)] = sender.sent
    [delivery_id] = world.uow.store.tables.deliveries
    assert headers["Content-Type"] == "application/json"
    assert headers["Shop-Delivery-Id"] == str(delivery_id)
    [attempt] = world.uow.store.tables.attempts
    assert attempt.delivery_id == delivery_id


def test_a_new_webhook_has_a_long_random_secret_and_may_start_switched_off(world: World) -> None:
    cmd = CreateWebhook("https://example.com/h", frozenset({EventType.ORDER_PLACED}), enabled=False)
    one = create_webhook(cmd, uow=world.uow, actor=world.admin, clock=world.clock, sender=RecordingSender())
    two = create_webhook(cmd, uow=world.uow, actor=world.admin, clock=world.clock, sender=RecordingSender())
    assert one.enabled is False and world.uow.store.tables.webhooks[one.id].enabled is False
    # 32 random bytes, URL-safe base64: 43 characters after the prefix.
    assert len(one.secret) == len("whsec_") + 43 and one.secret != two.secret


def test_changing_a_switched_off_webhook_leaves_it_off_until_it_is_enabled(world: World) -> None:
    hook = subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    world.product()
    for _ in range(POLICY.disable_after):
        deliver(world, world.clock, RecordingSender(status=500))
        world.clock.advance(timedelta(hours=2))
    assert world.uow.store.tables.webhooks[hook.id].enabled is False

    def change(**fields: object):  # type: ignore[no-untyped-def]
        return update_webhook(
            hook.id,
            WebhookPatch(**fields),
            uow=world.uow,
            actor=world.admin,
            clock=world.clock,
            sender=RecordingSender(),
        )

    moved = change(url="https://example.com/new")
    assert (moved.url, moved.enabled, moved.consecutive_failures) == ("https://example.com/new", False, 3)
    assert world.uow.store.tables.webhooks[hook.id].url == "https://example.com/new"
    on = change(enabled=True)
    assert (on.enabled, on.consecutive_failures, on.disabled_reason) == (True, 0, None)
    unchanged = change()
    assert unchanged.version == on.version  # an empty change writes nothing


def test_enabling_an_enabled_webhook_keeps_its_run_of_failures(world: World) -> None:
    hook = subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    world.product()
    deliver(world, world.clock, RecordingSender(status=500))
    again = update_webhook(
        hook.id,
        WebhookPatch(enabled=True),
        uow=world.uow,
        actor=world.admin,
        clock=world.clock,
        sender=RecordingSender(),
    )
    assert (again.enabled, again.consecutive_failures) == (True, 1)


def test_recording_an_outcome_stamps_the_webhook(world: World) -> None:
    hook = subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    world.product()
    world.clock.advance(timedelta(minutes=5))
    deliver(world, world.clock, RecordingSender())
    stored = world.uow.store.tables.webhooks[hook.id]
    assert (stored.updated_at, stored.version) == (world.clock.now(), hook.version + 1)


def test_fan_out_and_delivery_go_in_batches(world: World) -> None:
    subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    for i in range(5):
        world.product(f"B-{i}")
    assert offer_events(uow=world.uow, clock=world.clock, batch=2) == 2
    assert offer_events(uow=world.uow, clock=world.clock, batch=10) == 3
    sender = RecordingSender()

    def deliver_batch() -> int:
        return deliver_due(
            unit_of_work=lambda: InMemoryUnitOfWork(world.uow.store),
            sender=sender,
            clock=world.clock,
            render=render_event,
            options=DeliveryOptions(policy=POLICY, lease=timedelta(seconds=60), batch=3),
            jitter=lambda: 0.0,
        )

    assert [deliver_batch(), deliver_batch(), deliver_batch()] == [3, 2, 0]
    assert len(sender.sent) == 5


def test_the_feed_pages_at_most_100_and_says_when_more_follow(world: World) -> None:
    for i in range(4):
        world.product(f"F-{i}")
    page = read_events(EventFilter(), None, 3, uow=world.uow, actor=world.admin)
    assert (len(page.items), page.has_more) == (3, True)
    rest = read_events(EventFilter(), page.items[-1].id, 3, uow=world.uow, actor=world.admin)
    assert ([e.payload["sku"] for e in rest.items], rest.has_more) == (["F-3"], False)
    exactly = read_events(EventFilter(), None, 4, uow=world.uow, actor=world.admin)
    assert (len(exactly.items), exactly.has_more) == (4, False)
    p = world.product("F-4")
    with world.uow:  # enough events for a full page, raised in one change (cheaper than 97 more products)
        world.uow.events.add(
            [DomainEvent(EventType.PRODUCT_UPDATED, p, world.clock.now(), None)] * MAX_FEED_PAGE
        )
        world.uow.commit()
    most = read_events(EventFilter(), None, 500, uow=world.uow, actor=world.admin)
    assert (len(most.items), most.has_more) == (MAX_FEED_PAGE, True)


def test_a_retry_due_at_the_very_end_of_the_retry_period_is_still_made(clock) -> None:
    created = clock.now()
    end = created + POLICY.give_up_after
    for attempted, state in [
        (timedelta(seconds=15), DeliveryState.PENDING),
        (timedelta(seconds=14), DeliveryState.FAILED),
    ]:
        d = Delivery(1, 7, EventType.ORDER_PLACED, DeliveryState.PENDING, created, created, id=5)
        d.claim(created, timedelta(seconds=60))
        d.record(Attempt(1, end - attempted, 10, status_code=500), POLICY, jitter=0.0)  # retried 15 s later
        assert d.state is state
    assert d.next_attempt_at == created + timedelta(seconds=60)  # the given-up one keeps its lease's end


def test_a_delivery_whose_event_is_gone_is_not_posted(world: World) -> None:
    subscribe(world, world.clock, EventType.PRODUCT_CREATED)
    world.product()
    offer_events(uow=world.uow, clock=world.clock, batch=10)
    world.uow.store.tables.outbox.clear()  # as a purge between the fan-out and the claim would
    sender = RecordingSender()
    assert deliver(world, world.clock, sender) == 0 and sender.sent == []
