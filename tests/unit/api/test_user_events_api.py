"""User status events over HTTP (the fakes): every route that deactivates, reactivates or erases an
account puts exactly one event per changed account in the feed, as GET /users/{id} shows the account; a
webhook subscribed to user.deactivated is owed and sent it, signed; refused calls store no event."""

import json

import pytest

from application.webhooks import SIGNATURE_HEADER
from domain.events import EventType, ResourceType
from tests.doubles.memory import InMemoryUnitOfWork
from tests.doubles.sender import RecordingSender
from tests.unit.api.conftest import Api
from tests.unit.api.test_events_api import HOOK, create, feed
from tests.unit.conftest import World, dump
from tests.unit.deliveries import deliver
from tests.unit.test_webhooks import verify


def user_feed(api: Api, admin, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    return feed(api, admin, resource="user", **params)["items"]


def shown(api: Api, admin, user_id: int) -> dict:  # type: ignore[no-untyped-def]
    response = api.client.get(f"/users/{user_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_bulk_deactivation_puts_one_event_per_changed_user_in_the_feed(api: Api, admin) -> None:
    ids = [api.customer(f"{n}@shop.test")[1] for n in ("ann", "bob", "cy")]
    assert api.client.delete(f"/users/{ids[1]}", headers=admin).status_code == 204  # bob: inactive already
    response = api.client.post("/users/bulk-deactivate", json={"ids": [*ids, 1, 424242]}, headers=admin)
    assert response.json() == {"deactivated": 2}  # the answer is unchanged
    items = user_feed(api, admin)
    assert [
        (e["type"], e["resource_type"], e["resource_id"], e["sequence"], e["actor_id"]) for e in items
    ] == [
        ("user.deactivated", "user", ids[1], 1, 1),
        ("user.deactivated", "user", ids[0], 1, 1),
        ("user.deactivated", "user", ids[2], 1, 1),
    ]
    assert [e["data"] for e in items] == [shown(api, admin, i) for i in (ids[1], ids[0], ids[2])]
    assert all("password" not in key for e in items for key in e["data"])
    assert user_feed(api, admin, resource_id=ids[2]) == [items[2]]
    assert feed(api, admin, type="user.deactivated")["items"] == items
    again = api.client.post("/users/bulk-deactivate", json={"ids": ids}, headers=admin)
    assert again.json() == {"deactivated": 0} and user_feed(api, admin) == items


def test_every_route_that_changes_a_status_raises_one_event(api: Api, admin) -> None:
    ann_headers, ann = api.customer()
    for method, path, body in [
        ("PATCH", f"/users/{ann}", {"is_active": False}),
        ("PATCH", f"/users/{ann}", {"is_active": False}),  # no change, no event
        ("PATCH", f"/users/{ann}", {"is_active": True}),
        ("PATCH", f"/users/{ann}", {"is_active": True, "name": "Ann B"}),  # active already
        ("DELETE", f"/users/{ann}", None),
        ("DELETE", f"/users/{ann}", None),
        ("POST", f"/users/{ann}/erase", None),
        ("POST", f"/users/{ann}/erase", None),
    ]:
        response = api.client.request(method, path, json=body, headers=admin)
        assert response.status_code in (200, 204), (method, path, response.text)
    items = user_feed(api, admin)
    assert [(e["type"], e["sequence"]) for e in items] == [
        ("user.deactivated", 1),
        ("user.reactivated", 2),
        ("user.deactivated", 3),
        ("user.erased", 4),
    ]
    assert items[3]["data"] == shown(api, admin, ann)  # the anonymised account
    assert items[3]["data"]["email"] == f"erased-{ann}@erased.invalid"
    assert "ann@shop.test" not in json.dumps(items[3]["data"])
    assert api.client.get("/users/me", headers=ann_headers).status_code == 401


def test_deactivating_oneself_is_an_event_by_oneself(api: Api, admin) -> None:
    headers, ann = api.customer()
    assert api.client.delete(f"/users/{ann}", headers=headers).status_code == 204
    [event] = user_feed(api, admin)
    assert (event["type"], event["actor_id"]) == ("user.deactivated", ann)


@pytest.mark.parametrize(
    "body", [{}, {"ids": [2], "last_login_before": "2026-01-01T00:00:00Z"}, {"ids": []}, {"ids": ["x"]}]
)
def test_a_refused_bulk_deactivation_writes_no_event(api: Api, admin, body: dict) -> None:
    headers, ann = api.customer()
    api.client.patch(f"/users/{ann}", json={"is_active": False}, headers=admin)
    api.client.patch(f"/users/{ann}", json={"is_active": True}, headers=admin)
    _, bob = api.customer("bob@shop.test")
    before = dump(api.store)
    response = api.client.post("/users/bulk-deactivate", json=body, headers=admin)
    assert response.status_code == 422
    forbidden = api.client.post(
        "/users/bulk-deactivate", json={"ids": [bob]}, headers=api.login("ann@shop.test", "plum-kettle-42")
    )
    assert forbidden.status_code == 403
    assert dump(api.store) == before
    assert len(user_feed(api, admin)) == 2


def test_a_webhook_for_user_deactivated_is_owed_and_sent_it_signed(api: Api, admin) -> None:
    hook = create(api, admin, event_types=["user.deactivated"])
    create(api, admin, event_types=["user.erased"])
    _, ann = api.customer()
    api.client.post("/users/bulk-deactivate", json={"ids": [ann]}, headers=admin)
    world = World(InMemoryUnitOfWork(api.store), api.app.state.container.clock(), None)  # type: ignore[arg-type]
    sender = RecordingSender()
    assert deliver(world, world.clock, sender) == 1
    [(url, body, headers)] = sender.sent
    [event] = user_feed(api, admin)
    assert url == HOOK and json.loads(body) == event
    assert verify(hook["secret"], headers[SIGNATURE_HEADER], body, now=world.clock.now().timestamp())
    [delivery] = api.client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin).json()["items"]
    assert (delivery["event_id"], delivery["event_type"], delivery["state"]) == (
        event["id"],
        "user.deactivated",
        "delivered",
    )


def test_the_openapi_lists_the_user_events_and_resource(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    enums = [s.get("enum", []) for s in schema["components"]["schemas"].values()]
    assert [e.value for e in EventType if e.value.startswith("user.")] == [
        "user.deactivated",
        "user.reactivated",
        "user.erased",
    ]
    assert any({"user.deactivated", "user.reactivated", "user.erased"} <= set(e) for e in enums)
    assert any(set(e) == {r.value for r in ResourceType} for e in enums)
