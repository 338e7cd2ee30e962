"""GET /events and /webhooks over the fakes: who may, filters and cursors, secrets shown once, targets
refused; every refusal answers 4xx and changes nothing."""

import pytest

from application.webhooks import offer_events
from tests.doubles.memory import InMemoryUnitOfWork
from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

HOOK = "https://93.184.216.34/hook"  # a public address: no name to resolve in the test


def feed(api: Api, admin, **params) -> dict:
    response = api.client.get("/events", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_feed_lists_every_change_in_order_with_filters_and_a_cursor(api: Api, admin) -> None:
    ann, _ = api.customer()
    product = api.product(admin, "EV-1", stock_quantity=1)
    order = api.order(ann, (product["id"], 1))
    items = feed(api, admin)["items"]
    assert [(e["type"], e["resource_id"], e["sequence"]) for e in items] == [
        ("product.created", product["id"], 1),
        ("order.placed", order["id"], 1),
        ("product.out_of_stock", product["id"], 2),
    ]
    assert items[1]["data"] == order  # what GET /orders/{id} answers
    assert items[1]["actor_id"] == api.store.tables.orders[order["id"]].user_id
    first = feed(api, admin, limit=1)
    assert first["has_more"] and [e["id"] for e in first["items"]] == [items[0]["id"]]
    rest = feed(api, admin, starting_after=items[0]["id"])
    assert not rest["has_more"] and rest["items"] == items[1:]
    assert feed(api, admin, type="order.placed")["items"] == [items[1]]
    assert feed(api, admin, resource="product", resource_id=product["id"])["items"] == [items[0], items[2]]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"starting_after": 999}, 400),
        ({"type": "order.exploded"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 101}, 422),
        ({"resource": "customer"}, 422),
    ],
)
def test_bad_feed_requests_are_refused(api: Api, admin, params, status) -> None:
    response = api.client.get("/events", params=params, headers=admin)
    assert response.status_code == status, response.text


def test_only_admins_read_the_feed(api: Api) -> None:
    ann, _ = api.customer()
    assert api.client.get("/events").status_code == 401
    assert api.client.get("/events", headers=ann).status_code == 403


def create(api: Api, admin, **body) -> dict:
    response = api.client.post(
        "/webhooks", json={"url": HOOK, "event_types": ["order.placed"], **body}, headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_webhook_shows_its_secret_once(api: Api, admin) -> None:
    hook = create(api, admin, event_types=["order.placed", "order.cancelled"])
    assert hook["secret"].startswith("whsec_") and hook["url"] == HOOK and hook["enabled"]
    assert hook["event_types"] == ["order.cancelled", "order.placed"]
    read = api.client.get(f"/webhooks/{hook['id']}", headers=admin).json()
    assert "secret" not in read and read["id"] == hook["id"]
    listed = api.client.get("/webhooks", headers=admin).json()
    assert [w["id"] for w in listed["items"]] == [hook["id"]] and "secret" not in listed["items"][0]
    assert api.store.tables.webhooks[hook["id"]].secret == hook["secret"]


def test_a_webhook_is_changed_switched_off_and_on_and_deleted(api: Api, admin) -> None:
    hook = create(api, admin)
    url = f"/webhooks/{hook['id']}"
    changed = api.client.patch(
        url, json={"event_types": ["product.updated"], "enabled": False}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["event_types"] == ["product.updated"]
    assert changed.json()["enabled"] is False
    stored = api.store.tables.webhooks[hook["id"]]
    stored.consecutive_failures, stored.disabled_reason = 50, "switched off after 50 failed attempts in a row"
    back = api.client.patch(url, json={"enabled": True}, headers=admin).json()
    assert (back["enabled"], back["disabled_reason"], back["consecutive_failures"]) == (True, None, 0)
    assert api.client.delete(url, headers=admin).status_code == 204
    assert api.client.get(url, headers=admin).status_code == 404
    assert api.client.delete(url, headers=admin).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        # IPv4 inside IPv6 (a hostile review's probes): NAT64, IPv4-compatible, IPv4-translated, local-use
        # NAT64, 6to4, and the deprecated site-local block.
        "http://[64:ff9b::a00:1]/hook",
        "http://[::127.0.0.1]/hook",
        "http://[::ffff:0:a9fe:a9fe]/hook",
        "http://[64:ff9b:1::a00:1]/hook",
        "http://[2002:a9fe:a9fe::1]/hook",
        "http://[fec0::1]/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",
        "ftp://93.184.216.34/hook",
        "file:///etc/passwd",
        "not a url",
    ],
)
def test_unsafe_targets_are_refused_and_nothing_is_stored(api: Api, admin, url: str) -> None:
    hook = create(api, admin)
    before = dump(api.store)
    created = api.client.post("/webhooks", json={"url": url, "event_types": ["order.placed"]}, headers=admin)
    assert created.status_code == 422, created.text
    changed = api.client.patch(f"/webhooks/{hook['id']}", json={"url": url}, headers=admin)
    assert changed.status_code == 422, changed.text
    assert dump(api.store) == before


@pytest.mark.parametrize(
    "body",
    [
        {"url": HOOK, "event_types": []},
        {"url": HOOK, "event_types": ["order.exploded"]},
        {"url": HOOK},
        {"event_types": ["order.placed"]},
        {"url": HOOK, "event_types": ["order.placed"], "secret": "mine"},
        {"url": HOOK + "/" + "x" * 2100, "event_types": ["order.placed"]},
    ],
)
def test_malformed_webhooks_are_refused(api: Api, admin, body: dict) -> None:
    before = dump(api.store)
    assert api.client.post("/webhooks", json=body, headers=admin).status_code == 422
    assert dump(api.store) == before


def test_only_admins_manage_webhooks(api: Api, admin) -> None:
    hook = create(api, admin)
    ann, _ = api.customer()
    before = dump(api.store)
    base = f"/webhooks/{hook['id']}"
    for method, url, body in [
        ("POST", "/webhooks", {"url": HOOK, "event_types": ["order.placed"]}),
        ("GET", "/webhooks", None),
        ("GET", base, None),
        ("PATCH", base, {"enabled": False}),
        ("DELETE", base, None),
        ("GET", f"{base}/deliveries", None),
        ("POST", f"{base}/deliveries/1/retry", None),
    ]:
        assert api.client.request(method, url, json=body).status_code == 401, (method, url)
        assert api.client.request(method, url, json=body, headers=ann).status_code == 403, (method, url)
    assert dump(api.store) == before


def test_deliveries_are_listed_and_retried(api: Api, admin) -> None:
    hook = create(api, admin, event_types=["product.created"])
    api.product(admin, "EV-1")
    offer_events(uow=InMemoryUnitOfWork(api.store), clock=api.app.state.container.clock(), batch=10)
    page = api.client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin).json()
    [delivery] = page["items"]
    assert (delivery["event_type"], delivery["state"], delivery["attempts"]) == (
        "product.created",
        "pending",
        [],
    )
    retried = api.client.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry", headers=admin)
    assert retried.status_code == 202 and retried.json()["state"] == "pending"
    assert api.client.post(f"/webhooks/{hook['id']}/deliveries/999/retry", headers=admin).status_code == 404
    assert api.client.get("/webhooks/999/deliveries", headers=admin).status_code == 404
