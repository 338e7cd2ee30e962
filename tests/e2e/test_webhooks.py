"""Webhooks end to end: the live service, real `shop worker` processes and a real HTTP receiver. Every event
arrives signed (verified with the snippet of docs/events.md); a receiver that was down gets every event once
it is back; a worker killed mid-batch loses nothing; two workers never send one delivery twice."""

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Client
from tests.support.receiver import Receiver
from tests.support.server import Worker, free_port

pytestmark = pytest.mark.postgres
EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
FAST = {
    "SHOP_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on 127.0.0.1
    "SHOP_WEBHOOK_POLL_INTERVAL": "0.1",
    "SHOP_WEBHOOK_BACKOFF_FIRST": "0.5",
    "SHOP_WEBHOOK_BACKOFF_MAX": "1",
}


def documented_verify() -> Callable[..., bool]:
    """The verification snippet of docs/events.md, run as a receiver would copy it."""
    snippet = re.search(r"<!-- signature-snippet -->\s*```python\n(.*?)```", EVENTS_DOC.read_text(), re.S)
    assert snippet, "the signature snippet of docs/events.md is missing"
    scope: dict[str, Any] = {}
    exec(snippet.group(1), scope)
    return scope["verify_shop_signature"]


def until(condition: Callable[[], bool], timeout: float = 60) -> bool:
    """Polls for a condition (bounded by the timeout); True once it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def workers(e2e_database: str) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for w in started:
        w.stop()


def subscribe(client: Client, admin: dict[str, str], url: str, *types: str) -> dict:
    response = client.http.post("/webhooks", json={"url": url, "event_types": list(types)}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def feed_ids(client: Client, admin: dict[str, str], *types: str) -> set[int]:
    events = client.http.get("/events", params={"limit": 100}, headers=admin).json()["items"]
    return {e["id"] for e in events if e["type"] in types}


def deliveries(client: Client, admin: dict[str, str], hook: dict) -> list[dict]:
    page = client.http.get(f"/webhooks/{hook['id']}/deliveries", params={"limit": 100}, headers=admin)
    return page.json()["items"]


def attempted(client: Client, admin: dict[str, str], hook: dict, count: int, at_least: int) -> bool:
    owed = deliveries(client, admin, hook)
    return len(owed) == count and all(len(d["attempts"]) >= at_least for d in owed)


def delivered(client: Client, admin: dict[str, str], hook: dict, count: int) -> bool:
    owed = deliveries(client, admin, hook)
    return len(owed) == count and all(d["state"] == "delivered" for d in owed)


def test_every_event_arrives_signed_and_verifies_with_the_documented_snippet(
    client: Client, e2e_database: str, workers: list[Worker]
) -> None:
    receiver = Receiver(free_port())
    try:
        admin = client.admin()
        hook = subscribe(
            client, admin, receiver.url, "order.placed", "product.created", "product.out_of_stock"
        )
        workers.append(Worker(e2e_database, **FAST))
        ann, _ = client.customer("ann@shop.test")
        item = client.product(admin, "WH-1", stock=1)
        order = client.http.post(
            "/orders", json={"items": [{"product_id": item["id"], "quantity": 1}]}, headers=ann
        )
        assert order.status_code == 201
        wanted = feed_ids(client, admin, "order.placed", "product.created", "product.out_of_stock")
        assert len(wanted) == 3
        assert receiver.wait_for(3)
        assert until(lambda: delivered(client, admin, hook, len(wanted)))
        verify = documented_verify()
        assert receiver.event_ids() == wanted
        for message in receiver.received:
            header = message.headers["Shop-Signature"]
            assert verify(hook["secret"], header, message.body)
            assert not verify(hook["secret"], header, message.body.replace(b'"sequence":', b'"sequence":9'))
            assert not verify(hook["secret"], header, message.body + b" ")
            assert message.json()["type"] == message.headers["Shop-Event-Type"]
            assert message.json()["id"] == message.event_id
        placed = next(m.json() for m in receiver.received if m.headers["Shop-Event-Type"] == "order.placed")
        assert placed["data"] == order.json()
    finally:
        receiver.stop()


def test_a_receiver_that_was_down_gets_every_event_once_it_is_back(
    client: Client, e2e_database: str, workers: list[Worker]
) -> None:
    port = free_port()  # nothing listens there yet
    admin = client.admin()
    hook = subscribe(client, admin, f"http://127.0.0.1:{port}/hook", "product.created")
    workers.append(Worker(e2e_database, **FAST))
    for i in range(5):
        client.product(admin, f"DOWN-{i}")
    wanted = feed_ids(client, admin, "product.created")
    assert until(lambda: attempted(client, admin, hook, len(wanted), at_least=2))
    first = deliveries(client, admin, hook)[0]["attempts"][0]
    assert first["status_code"] is None and "connect" in first["error"].lower()
    receiver = Receiver(port)
    try:
        assert until(lambda: receiver.event_ids() == wanted)
        assert until(lambda: delivered(client, admin, hook, len(wanted)))
        assert len(receiver.received) == len(wanted)  # once each: an answered attempt is not repeated
        enabled = client.http.get(f"/webhooks/{hook['id']}", headers=admin).json()
        assert enabled["enabled"] and enabled["consecutive_failures"] == 0
    finally:
        receiver.stop()


def test_a_worker_killed_in_the_middle_of_a_batch_loses_no_event(
    client: Client, e2e_database: str, workers: list[Worker]
) -> None:
    receiver = Receiver(free_port())
    try:
        admin = client.admin()
        subscribe(client, admin, receiver.url, "product.created")
        for i in range(12):
            client.product(admin, f"KILL-{i}")
        wanted = feed_ids(client, admin, "product.created")
        receiver.hold()  # it reads each request and answers none: the worker waits mid-batch
        doomed = Worker(e2e_database, **FAST, SHOP_WEBHOOK_LEASE="2")
        assert receiver.wait_for(1)
        doomed.kill()
        receiver.release()
        workers.append(Worker(e2e_database, **FAST, SHOP_WEBHOOK_LEASE="2"))
        assert until(lambda: receiver.event_ids() == wanted)
        ids = [r.event_id for r in receiver.received]
        assert set(ids) == wanted  # every event; the ones the killed worker had sent come again, same ids
    finally:
        receiver.stop()


def test_two_workers_never_send_the_same_delivery_twice(
    client: Client, e2e_database: str, workers: list[Worker]
) -> None:
    receiver = Receiver(free_port())
    try:
        admin = client.admin()
        hook = subscribe(client, admin, receiver.url, "product.created")
        workers.extend(Worker(e2e_database, **FAST, SHOP_WEBHOOK_BATCH="5") for _ in range(2))
        for i in range(40):
            client.product(admin, f"TWO-{i}")
        wanted = feed_ids(client, admin, "product.created")
        assert until(lambda: delivered(client, admin, hook, len(wanted)))
        sent = [r.headers["Shop-Delivery-Id"] for r in receiver.received]
        assert len(sent) == len(set(sent)) == len(wanted) == 40
        assert receiver.event_ids() == wanted
    finally:
        receiver.stop()
