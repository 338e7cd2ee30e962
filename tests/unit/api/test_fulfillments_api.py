"""Fulfilments over HTTP (in process, on the fakes): every route, every refusal with its problem and nothing
moved by it, the order's status and fulfillment_status as fulfilments come and go, and their events."""

from typing import Any

import pytest

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

PROBLEM = "application/problem+json"
HOME = {
    "recipient_name": "Ann Smith",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


@pytest.fixture
def shop(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    """Ann's confirmed order of 3 x P1 and 2 x P2, shipped to her home."""
    ann, ann_id = api.customer()
    p1, p2 = api.product(admin, "P-1"), api.product(admin, "P-2")
    order = api.order(ann, (p1["id"], 3), (p2["id"], 2), shipping_address=HOME)
    confirm = api.client.patch(f"/orders/{order['id']}/status", json={"status": "confirmed"}, headers=admin)
    assert confirm.status_code == 200
    lines = [item["id"] for item in order["items"]]
    return {"ann": ann, "order": confirm.json(), "lines": lines}


def fulfil(api: Api, headers: dict[str, str], order_id: int, *lines: tuple[int, int], **kw: Any) -> Any:
    body = {"lines": [{"order_line_id": i, "quantity": q} for i, q in lines], **kw}
    return api.client.post(f"/orders/{order_id}/fulfillments", json=body, headers=headers)


def order_of(api: Api, headers: dict[str, str], order_id: int) -> dict[str, Any]:
    return api.client.get(f"/orders/{order_id}", headers=headers).json()


def refused(api: Api, response: Any, status: int, slug: str, before: dict) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert dump(api.store) == before
    return body


def invalid(api: Api, response: Any, before: dict) -> None:
    assert response.status_code == 422, response.text
    assert dump(api.store) == before


def history(api: Api, headers: dict[str, str], order_id: int) -> list[tuple]:
    entries = api.client.get(f"/orders/{order_id}/events", headers=headers).json()
    return [(e["from_status"], e["to_status"], e["reason"]) for e in entries]


def test_ship_in_two_parts_with_tracking(api: Api, admin, shop) -> None:
    order_id, (l1, l2) = shop["order"]["id"], shop["lines"]
    assert shop["order"]["fulfillment_status"] == "unfulfilled"
    tracking = {
        "carrier": "DHL",
        "tracking_number": "JD014600",
        "tracking_url": "https://dhl.test/t?JD014600",
    }
    first = fulfil(api, admin, order_id, (l1, 2), **tracking)
    assert first.status_code == 201, first.text
    body = first.json()
    assert first.headers["Location"] == f"/fulfillments/{body['id']}"
    assert {k: body[k] for k in ("order_id", "status", "lines", "created_by", "cancelled_at", "version")} == {
        "order_id": order_id, "status": "fulfilled", "lines": [{"order_line_id": l1, "quantity": 2}],
        "created_by": 1, "cancelled_at": None, "version": 1,
    }  # fmt: skip
    assert {k: body[k] for k in tracking} == tracking
    order = order_of(api, shop["ann"], order_id)
    assert (order["status"], order["fulfillment_status"], order["version"]) == (
        "processing", "partially_fulfilled", shop["order"]["version"] + 1,
    )  # fmt: skip
    assert [i["quantity_shipped"] for i in order["items"]] == [2, 0]
    second = fulfil(api, admin, order_id, (l2, 2), (l1, 1))
    assert second.status_code == 201 and second.json()["carrier"] is None
    order = order_of(api, admin, order_id)
    assert (order["status"], order["fulfillment_status"]) == ("shipped", "fulfilled")
    assert [i["quantity_shipped"] for i in order["items"]] == [3, 2]
    assert history(api, admin, order_id)[-2:] == [
        ("confirmed", "processing", f"fulfillment {body['id']}"),
        ("processing", "shipped", f"fulfillment {second.json()['id']}"),
    ]
    listed = api.client.get(f"/orders/{order_id}/fulfillments", headers=shop["ann"])
    assert listed.status_code == 200 and [f["id"] for f in listed.json()] == [body["id"], second.json()["id"]]
    one = api.client.get(f"/fulfillments/{body['id']}", headers=shop["ann"])
    assert one.status_code == 200 and one.json() == body
    types = [
        (e["type"], e["resource_type"]) for e in api.client.get("/events", headers=admin).json()["items"]
    ]
    assert types[-4:] == [
        ("fulfillment.created", "fulfillment"), ("order.status_changed", "order"),
        ("fulfillment.created", "fulfillment"), ("order.status_changed", "order"),
    ]  # fmt: skip
    events = api.client.get("/events", headers=admin).json()["items"]
    created = next(e for e in events if e["type"] == "fulfillment.created")
    assert created["data"] == body and created["resource_id"] == body["id"]
    delivered = api.client.patch(f"/orders/{order_id}/status", json={"status": "delivered"}, headers=admin)
    assert delivered.status_code == 200 and delivered.json()["fulfillment_status"] == "fulfilled"


def test_cancel_puts_the_units_back_once(api: Api, admin, shop) -> None:
    order_id, (l1, l2) = shop["order"]["id"], shop["lines"]
    fulfillment = fulfil(api, admin, order_id, (l1, 3), (l2, 2)).json()
    assert order_of(api, admin, order_id)["status"] == "shipped"
    cancelled = api.client.post(f"/fulfillments/{fulfillment['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["cancelled_by"], body["version"]) == ("cancelled", 1, 2)
    assert body["cancelled_at"] is not None
    order = order_of(api, admin, order_id)
    assert (order["status"], order["fulfillment_status"]) == ("processing", "unfulfilled")
    assert [i["quantity_shipped"] for i in order["items"]] == [0, 0]
    assert history(api, admin, order_id)[-1] == (
        "shipped",
        "processing",
        f"fulfillment {body['id']} cancelled",
    )
    before = dump(api.store)
    again = api.client.post(f"/fulfillments/{fulfillment['id']}/cancel", headers=admin)
    assert again.status_code == 200 and again.json() == body
    assert dump(api.store) == before
    types = [e["type"] for e in api.client.get("/events", headers=admin).json()["items"]]
    assert types[-2:] == ["fulfillment.cancelled", "order.status_changed"]
    # Everything unshipped again: the order may be cancelled as a whole.
    assert api.client.delete(f"/orders/{order_id}", headers=admin).status_code == 200


def test_refusals_move_nothing(api: Api, admin, shop) -> None:
    order_id, (l1, l2) = shop["order"]["id"], shop["lines"]
    fulfil(api, admin, order_id, (l1, 1))
    before = dump(api.store)
    body = refused(api, fulfil(api, admin, order_id, (l2, 1), (l1, 3)), 409, "fulfillment-limit", before)
    assert (body["order_line_id"], body["requested"], body["available"]) == (l1, 3, 2)
    assert body["detail"] == f"order line {l1}: cannot ship 3: 2 left unshipped."
    refused(api, fulfil(api, shop["ann"], order_id, (l1, 1)), 403, "forbidden", before)
    refused(api, fulfil(api, admin, 999, (l1, 1)), 404, "not-found", before)
    refused(api, fulfil(api, admin, order_id, (999, 1)), 422, "invalid-fulfillment", before)
    for lines, extra in (
        ((), {}),
        (((l1, 1), (l1, 1)), {}),
        (((l1, 0),), {}),
        (((l1, 1),), {"tracking_url": "ftp://x.test/1"}),
        (((l1, 1),), {"tracking_url": "https://x.test/" + "y" * 1990}),
        (((l1, 1),), {"carrier": "c" * 101}),
        (((l1, 1),), {"tracking_number": "n" * 101}),
        (((l1, 1),), {"carrier": " DHL"}),
        (((l1, 1),), {"warehouse": "B"}),
    ):
        invalid(api, fulfil(api, admin, order_id, *lines, **extra), before)
    # A line of another order.
    other = api.order(shop["ann"], (api.product(admin, "P-3")["id"], 1), shipping_address=HOME)
    before = dump(api.store)
    refused(
        api, fulfil(api, admin, order_id, (other["items"][0]["id"], 1)), 422, "invalid-fulfillment", before
    )
    # A pending order: confirm it first.
    body = refused(api, fulfil(api, admin, other["id"], (other["items"][0]["id"], 1)), 409,
                   "order-not-fulfillable", before)  # fmt: skip
    assert body["detail"] == f"order {other['id']} is pending: confirm it first."


def test_a_shipping_address_is_needed(api: Api, admin) -> None:
    ann, _ = api.customer()
    order = api.order(ann, (api.product(admin)["id"], 1))
    api.client.patch(f"/orders/{order['id']}/status", json={"status": "confirmed"}, headers=admin)
    before = dump(api.store)
    body = refused(api, fulfil(api, admin, order["id"], (order["items"][0]["id"], 1)), 409,
                   "shipping-address-required", before)  # fmt: skip
    assert body["detail"] == f"order {order['id']} has no shipping address; set one before shipping."


def test_an_order_with_a_fulfilment_cannot_be_cancelled(api: Api, admin, shop) -> None:
    order_id, (l1, _) = shop["order"]["id"], shop["lines"]
    fulfil(api, admin, order_id, (l1, 1))
    before = dump(api.store)
    body = refused(
        api, api.client.delete(f"/orders/{order_id}", headers=admin), 409, "order-fulfilled", before
    )
    assert "a return" in body["detail"]
    patch = api.client.patch(f"/orders/{order_id}/status", json={"status": "cancelled"}, headers=admin)
    refused(api, patch, 409, "order-fulfilled", before)


def test_cancelling_is_refused_once_delivered_and_for_customers(api: Api, admin, shop) -> None:
    order_id, (l1, l2) = shop["order"]["id"], shop["lines"]
    fulfillment = fulfil(api, admin, order_id, (l1, 3), (l2, 2)).json()
    before = dump(api.store)
    cancel = f"/fulfillments/{fulfillment['id']}/cancel"
    refused(api, api.client.post(cancel, headers=shop["ann"]), 403, "forbidden", before)
    refused(api, api.client.post("/fulfillments/999/cancel", headers=admin), 404, "not-found", before)
    api.client.patch(f"/orders/{order_id}/status", json={"status": "delivered"}, headers=admin)
    before = dump(api.store)
    body = refused(api, api.client.post(cancel, headers=admin), 409, "fulfillment-not-cancellable", before)
    assert (
        body["detail"]
        == f"fulfillment {fulfillment['id']} cannot be cancelled: order {order_id} was delivered."
    )


def test_a_manual_change_to_shipped_ships_the_rest(api: Api, admin, shop) -> None:
    order_id, (l1, l2) = shop["order"]["id"], shop["lines"]
    fulfil(api, admin, order_id, (l1, 1))
    before = dump(api.store)
    # The PATCH table is unchanged: shipped -> processing, confirmed -> shipped stay 400.
    shipped = api.client.patch(f"/orders/{order_id}/status", json={"status": "shipped"}, headers=admin)
    assert shipped.status_code == 200, shipped.text
    order = shipped.json()
    assert (order["status"], order["fulfillment_status"]) == ("shipped", "fulfilled")
    assert order["version"] == before["orders"][order_id]["version"] + 1
    [_, rest] = api.client.get(f"/orders/{order_id}/fulfillments", headers=admin).json()
    assert rest["lines"] == [{"order_line_id": l1, "quantity": 2}, {"order_line_id": l2, "quantity": 2}]
    assert (rest["carrier"], rest["tracking_number"], rest["tracking_url"]) == (None, None, None)
    assert history(api, admin, order_id)[-1] == ("processing", "shipped", None)
    back = api.client.patch(f"/orders/{order_id}/status", json={"status": "processing"}, headers=admin)
    assert back.status_code == 400


def test_patch_to_shipped_without_an_address_still_works(api: Api, admin) -> None:
    ann, _ = api.customer()
    order = api.order(ann, (api.product(admin)["id"], 2))
    for status in ("confirmed", "processing", "shipped"):
        moved = api.client.patch(f"/orders/{order['id']}/status", json={"status": status}, headers=admin)
        assert moved.status_code == 200, moved.text
    assert moved.json()["fulfillment_status"] == "fulfilled"
    assert [i["quantity_shipped"] for i in moved.json()["items"]] == [2]
    assert len(api.client.get(f"/orders/{order['id']}/fulfillments", headers=admin).json()) == 1


def test_another_customer_sees_nothing(api: Api, admin, shop) -> None:
    order_id, (l1, _) = shop["order"]["id"], shop["lines"]
    fulfillment = fulfil(api, admin, order_id, (l1, 1)).json()
    bob, _ = api.customer("bob@shop.test")
    for path in (f"/orders/{order_id}/fulfillments", f"/fulfillments/{fulfillment['id']}"):
        response = api.client.get(path, headers=bob)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert api.client.get("/fulfillments/999", headers=admin).status_code == 404
    assert api.client.get("/orders/999/fulfillments", headers=admin).status_code == 404
    assert api.client.get(f"/orders/{order_id}/fulfillments").status_code == 401


def test_orders_list_shows_fulfillment_status(api: Api, admin, shop) -> None:
    order_id, (l1, _) = shop["order"]["id"], shop["lines"]
    fulfil(api, admin, order_id, (l1, 1))
    [listed] = api.client.get("/orders", headers=shop["ann"]).json()["items"]
    assert listed["fulfillment_status"] == "partially_fulfilled"
