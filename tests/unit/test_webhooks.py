"""Webhooks over the fakes: the retry and switch-off rules, the fan-out of events to subscriptions, one
delivery pass with a recording sender, the signature a receiver verifies."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest

from application.webhooks import (
    SIGNATURE_HEADER,
    retry_delivery,
    signature,
)
from domain.events import EventType
from domain.webhooks import Attempt, Delivery, DeliveryState, Webhook
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World
from tests.unit.deliveries import POLICY, deliver, subscribe


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = 300) -> bool:
    """The receiver's check, as docs/events.md documents it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp, received = int(parts["t"]), parts["v1"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received) and abs((now or time.time()) - timestamp) <= tolerance


@pytest.mark.parametrize(
    ("attempts", "jitter", "seconds"),
    [(1, 0.0, 15), (1, 0.999999, 30), (2, 0.0, 30), (8, 0.0, 1800), (9, 0.0, 1800), (40, 0.0, 1800)],
)
def test_backoff_doubles_up_to_the_longest_wait_with_jitter_over_its_later_half(
    attempts, jitter, seconds
) -> None:
    assert round(POLICY.delay(attempts, jitter).total_seconds()) == seconds


def delivery(now) -> Delivery:
    return Delivery(1, 7, EventType.ORDER_PLACED, DeliveryState.PENDING, now, now, id=5)


def test_a_delivery_is_retried_until_the_retry_period_ends_then_given_up(clock) -> None:
    d = delivery(clock.now())
    d.claim(clock.now(), timedelta(seconds=60))
    assert d.attempts == 1 and d.next_attempt_at == clock.now() + timedelta(seconds=60)
    d.record(Attempt(5, clock.now(), 10, status_code=500), POLICY, jitter=0.0)
    assert d.state is DeliveryState.PENDING and d.next_attempt_at == clock.now() + timedelta(seconds=15)
    late = clock.now() + timedelta(hours=23, minutes=59, seconds=50)
    d.claim(late, timedelta(seconds=60))
    d.record(Attempt(5, late, 10, error="connection refused"), POLICY, jitter=0.0)
    assert d.state is DeliveryState.FAILED and d.last_attempt_at == late
    d.retry(late)
    assert (d.state, d.next_attempt_at) == (DeliveryState.PENDING, late)


def test_a_2xx_answer_delivers_and_anything_else_fails(clock) -> None:
    for status, state in [
        (200, DeliveryState.DELIVERED),
        (204, DeliveryState.DELIVERED),
        (299, DeliveryState.DELIVERED),
        (199, DeliveryState.PENDING),
        (300, DeliveryState.PENDING),
        (None, DeliveryState.PENDING),
    ]:
        d = delivery(clock.now())
        d.record(Attempt(5, clock.now(), 1, status_code=status), POLICY, jitter=0.5)
        assert d.state is state, status


def test_a_webhook_is_switched_off_after_failures_in_a_row_and_says_why(clock) -> None:
    w = Webhook("https://example.com/h", frozenset({EventType.ORDER_PLACED}), "s", clock.now(), clock.now())

    def attempt(status: int | None, error: str | None = None) -> Attempt:
        return Attempt(5, clock.now(), 1, status_code=status, error=error)

    w.record_attempts([attempt(500), attempt(200), attempt(None, "x"), attempt(502)], POLICY, at=clock.now())
    assert w.enabled and w.consecutive_failures == 2 and w.version == 2
    w.record_attempts([attempt(503)], POLICY, at=clock.now())
    assert not w.enabled
    assert (
        w.disabled_reason == "switched off after 3 failed attempts in a row; last: the receiver answered 503"
    )
    w.update(at=clock.now(), enabled=True)
    assert (w.enabled, w.disabled_reason, w.consecutive_failures, w.version) == (True, None, 0, 4)


def test_a_webhook_gets_the_events_it_wants_from_its_creation_on_signed(world: World, store, clock) -> None:
    world.product("OLD-1")  # before the webhook: not owed
    hook = subscribe(world, clock, EventType.ORDER_PLACED)
    assert hook.secret.startswith("whsec_") and len(hook.secret) > 40
    ann = world.customer()
    item = world.product("EV-1", stock=1)  # product.created, not wanted
    order = world.order(ann, (item, 1))  # order.placed, and product.out_of_stock (not wanted)
    sender = RecordingSender()
    assert deliver(world, clock, sender) == 1
    [(url, body, headers)] = sender.sent
    placed = next(e for e in store.tables.outbox if e.type is EventType.ORDER_PLACED)
    assert url == "https://example.com/hook"
    assert (headers["Shop-Event-Id"], headers["Shop-Event-Type"]) == (str(placed.id), "order.placed")
    now = clock.now().timestamp()
    assert verify(hook.secret, headers[SIGNATURE_HEADER], body, now)
    assert not verify(hook.secret, headers[SIGNATURE_HEADER], body.replace(b'"pending"', b'"shipped"'), now)
    assert not verify("whsec_other", headers[SIGNATURE_HEADER], body, now)
    assert not verify(hook.secret, headers[SIGNATURE_HEADER], body, now + 301)  # too old: a replay
    document = json.loads(body)
    assert (document["id"], document["type"], document["resource_id"]) == (
        placed.id,
        "order.placed",
        order.id,
    )
    assert document["data"]["order_number"] == order.order_number
    [d] = store.tables.deliveries.values()
    assert d.state is DeliveryState.DELIVERED and d.attempts == 1
    [attempt] = store.tables.attempts
    assert (attempt.status_code, attempt.latency_ms, attempt.response_body) == (200, 3, "ok")
    assert deliver(world, clock, sender) == 0  # nothing due any more


def test_a_failing_receiver_is_retried_later_and_every_attempt_is_recorded(
    world: World, store, clock
) -> None:
    subscribe(world, clock, EventType.PRODUCT_CREATED)
    world.product("EV-1")
    down = RecordingSender(status=None, error="ConnectError: connection refused")
    assert deliver(world, clock, down) == 1
    assert deliver(world, clock, down) == 0  # not due before its backoff
    clock.advance(timedelta(seconds=15))
    assert deliver(world, clock, down) == 1
    up = RecordingSender()
    clock.advance(timedelta(seconds=30))
    assert deliver(world, clock, up) == 1
    [d] = store.tables.deliveries.values()
    assert (d.state, d.attempts) == (DeliveryState.DELIVERED, 3)
    assert [a.error for a in store.tables.attempts] == ["ConnectError: connection refused"] * 2 + [None]
    assert down.sent[0][2]["Shop-Event-Id"] == up.sent[0][2]["Shop-Event-Id"]  # the same event, again
    [hook] = store.tables.webhooks.values()
    assert hook.consecutive_failures == 0 and hook.enabled


def test_a_webhook_that_keeps_failing_is_switched_off_and_gets_nothing_more(
    world: World, store, clock
) -> None:
    subscribe(world, clock, EventType.PRODUCT_CREATED)
    for sku in ("A-1", "A-2", "A-3", "A-4"):
        world.product(sku)
    failing = RecordingSender(status=500)
    assert deliver(world, clock, failing) == 4
    [hook] = store.tables.webhooks.values()
    assert not hook.enabled and hook.disabled_reason.endswith("last: the receiver answered 500")
    clock.advance(timedelta(hours=2))
    assert deliver(world, clock, failing) == 0  # due, but its webhook is off
    assert {d.state for d in store.tables.deliveries.values()} == {DeliveryState.PENDING}


def test_a_retry_by_hand_makes_a_delivery_due_at_once(world: World, store, clock) -> None:
    hook = subscribe(world, clock, EventType.PRODUCT_CREATED)
    world.product("EV-1")
    deliver(world, clock, RecordingSender())
    [d] = store.tables.deliveries.values()
    again = retry_delivery(hook.id, d.id, uow=world.uow, actor=world.admin, clock=clock)
    assert again.state is DeliveryState.PENDING and len(again.history) == 1
    sender = RecordingSender()
    assert deliver(world, clock, sender) == 1 and len(sender.sent) == 1
    assert len(store.tables.attempts) == 2


def test_the_signature_is_hmac_sha256_over_time_and_body() -> None:
    header = signature("whsec_k", 1_700_000_000, b'{"a":1}')
    mac = hmac.new(b"whsec_k", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={mac}"
