"""Returns and refunds over HTTP (in process, on the fakes): every route, every refusal with its problem
(and its members), and nothing moved by a refusal."""

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.settings import Settings
from tests.doubles.memory import InMemoryUnitOfWork
from tests.support.shipping import ship_all
from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

PROBLEM = "application/problem+json"


@pytest.fixture
def shop(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    """Ann's order of 2 × 15.00 and 1 × 10.00 (the last unit of its product), charged, shipped."""
    ann, ann_id = api.customer()
    first, last = api.product(admin, "P-1", price="15.00"), api.product(admin, "P-2", stock_quantity=1)
    order = api.order(ann, (first["id"], 2), (last["id"], 1))
    body = {"provider": "psp", "reference": "pi_1", "amount": "40.00", "action": "charge"}
    assert api.client.post(f"/orders/{order['id']}/payments", json=body, headers=admin).status_code == 201
    ship_all(InMemoryUnitOfWork(api.store), order["id"])
    lines = [item["id"] for item in order["items"]]
    return {"ann": ann, "order": order, "lines": lines, "first": first, "last": last}


def post(api: Api, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return api.client.post(path, json=body, headers=headers)


def returns_of(
    api: Api, shop: dict[str, Any], headers: dict[str, str], *lines: dict[str, Any], **kw: Any
) -> Any:
    return post(api, f"/orders/{shop['order']['id']}/returns", headers, {"lines": list(lines), **kw})


def refused(api: Api, response: Any, status: int, slug: str, before: dict) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert dump(api.store) == before
    return body


def test_an_admin_takes_one_back_with_restock_and_refunds_it(api: Api, admin, shop) -> None:
    order_id, last_line = shop["order"]["id"], shop["lines"][1]
    created = returns_of(
        api,
        shop,
        admin,
        {"order_line_id": last_line, "quantity": 1, "reason": "dented", "restock": True},
        refund_extra="2.50",
    )
    assert created.status_code == 201, created.text
    ret = created.json()
    assert created.headers["Location"] == f"/returns/{ret['id']}"
    assert (ret["status"], ret["order_id"], ret["proposed_refund"], ret["refund_extra"], ret["refunded"]) == (
        "accepted",
        order_id,
        "12.50",
        "2.50",
        "0.00",
    )
    [returned] = ret["lines"]
    assert (returned["order_line_id"], returned["quantity"], returned["unit_price"], returned["restock"]) == (
        last_line,
        1,
        "10.00",
        True,
    )
    assert api.stock(shop["last"]["id"]) == 1
    order = api.client.get(f"/orders/{order_id}", headers=shop["ann"]).json()
    assert [(i["quantity_shipped"], i["quantity_returned"]) for i in order["items"]] == [(2, 0), (1, 1)]
    assert (order["return_status"], order["status"]) == ("partially_returned", "shipped")
    assert api.client.get(f"/returns/{ret['id']}", headers=shop["ann"]).json()["status"] == "accepted"
    assert [r["id"] for r in api.client.get(f"/orders/{order_id}/returns", headers=shop["ann"]).json()] == [
        ret["id"]
    ]
    refunded = post(api, f"/returns/{ret['id']}/refund", admin, {"reference": "re_1"})
    assert refunded.status_code == 201, refunded.text
    assert (refunded.json()["amount"], refunded.json()["return_id"]) == ("12.50", ret["id"])
    order = api.client.get(f"/orders/{order_id}", headers=admin).json()
    assert order["payment_status"] == "partially_refunded"
    before = dump(api.store)
    replay = post(api, f"/returns/{ret['id']}/refund", admin, {"reference": "re_1"})
    assert (replay.status_code, replay.json()) == (200, refunded.json())
    refused(
        api,
        post(api, f"/returns/{ret['id']}/refund", admin, {"reference": "re_2"}),
        409,
        "return-already-refunded",
        before,
    )
    [listed] = api.client.get(f"/orders/{order_id}/refunds", headers=shop["ann"]).json()
    assert listed == refunded.json()
    types = [e["type"] for e in api.client.get("/events", headers=admin).json()["items"]]
    assert types[-4:] == ["return.accepted", "product.back_in_stock", "payment.refunded", "order.refunded"]


def test_a_customer_requests_an_admin_accepts_or_rejects(api: Api, admin, shop) -> None:
    line = shop["lines"][0]
    asked = returns_of(api, shop, shop["ann"], {"order_line_id": line, "quantity": 1})
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    second = returns_of(api, shop, shop["ann"], {"order_line_id": line, "quantity": 1}).json()
    before = dump(api.store)
    over = refused(
        api,
        returns_of(api, shop, shop["ann"], {"order_line_id": line, "quantity": 1}),
        409,
        "return-limit",
        before,
    )
    assert (over["order_line_id"], over["requested"], over["available"]) == (line, "1", "0")
    for path in (f"/returns/{second['id']}/accept",):
        refused(api, post(api, path, shop["ann"]), 403, "forbidden", before)
    refused(
        api,
        post(api, f"/returns/{second['id']}/reject", shop["ann"], {"reason": "no"}),
        403,
        "forbidden",
        before,
    )
    accepted = post(api, f"/returns/{asked.json()['id']}/accept", admin)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    rejected = post(api, f"/returns/{second['id']}/reject", admin, {"reason": "worn"})
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == ("rejected", "worn")
    before = dump(api.store)
    refused(api, post(api, f"/returns/{second['id']}/accept", admin), 409, "illegal-return-change", before)
    refused(
        api,
        post(api, f"/returns/{second['id']}/refund", admin, {"reference": "r"}),
        409,
        "illegal-return-change",
        before,
    )
    types = [e["type"] for e in api.client.get("/events", headers=admin).json()["items"]]
    assert [t for t in types if t.startswith("return.")] == [
        "return.requested",
        "return.requested",
        "return.accepted",
        "return.rejected",
    ]


def test_another_customers_order_and_a_closed_window(api: Api, admin, shop) -> None:
    line = shop["lines"][0]
    bob, _ = api.customer("bob@shop.test")
    before = dump(api.store)
    refused(api, returns_of(api, shop, bob, {"order_line_id": line, "quantity": 1}), 404, "not-found", before)
    refused(
        api,
        post(api, "/orders/999999/returns", admin, {"lines": [{"order_line_id": 1, "quantity": 1}]}),
        404,
        "not-found",
        before,
    )
    pending = api.order(shop["ann"], (shop["first"]["id"], 1))
    before = dump(api.store)
    body = {"lines": [{"order_line_id": pending["items"][0]["id"], "quantity": 1}]}
    closed = refused(
        api,
        post(api, f"/orders/{pending['id']}/returns", shop["ann"], body),
        409,
        "return-window-closed",
        before,
    )
    assert "is pending" in closed["detail"]
    refused(api, post(api, f"/orders/{pending['id']}/returns", admin, body), 409, "return-limit", before)
    asked = returns_of(api, shop, shop["ann"], {"order_line_id": line, "quantity": 1}).json()
    before = dump(api.store)
    refused(api, api.client.get(f"/returns/{asked['id']}", headers=bob), 404, "not-found", before)
    refused(
        api, api.client.get(f"/orders/{shop['order']['id']}/returns", headers=bob), 404, "not-found", before
    )


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"order_line_id": "LINE", "quantity": 0}]},
        {"lines": [{"order_line_id": "LINE", "quantity": 1, "reason": "x" * 501}]},
        {"lines": [{"order_line_id": "LINE", "quantity": 1}], "refund_extra": "0.00"},
        {"lines": [{"order_line_id": "LINE", "quantity": 1}], "refund_extra": "1.001"},
        {"lines": [{"order_line_id": "LINE", "quantity": 1, "colour": "red"}]},
        {"lines": [{"order_line_id": "LINE", "quantity": 1}, {"order_line_id": "LINE", "quantity": 1}]},
        {"lines": [{"order_line_id": 999999, "quantity": 1}]},
    ],
)
def test_bad_returns_are_422_and_move_nothing(api: Api, admin, shop, body: dict[str, Any]) -> None:
    for line in body["lines"]:
        if line["order_line_id"] == "LINE":
            line["order_line_id"] = shop["lines"][0]
    before = dump(api.store)
    response = returns_of(api, shop, admin, *body["lines"], **{k: v for k, v in body.items() if k != "lines"})
    assert response.status_code == 422, response.text
    assert dump(api.store) == before


def test_reject_needs_a_reason(api: Api, admin, shop) -> None:
    asked = returns_of(api, shop, shop["ann"], {"order_line_id": shop["lines"][0], "quantity": 1}).json()
    before = dump(api.store)
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        assert post(api, f"/returns/{asked['id']}/reject", admin, body).status_code == 422
    assert dump(api.store) == before


def test_a_goodwill_refund_replays_and_is_limited(api: Api, admin, shop) -> None:
    order_id = shop["order"]["id"]
    path = f"/orders/{order_id}/refunds"
    body = {"amount": "5.00", "reason": "late delivery", "reference": "gw_1"}
    created = post(api, path, admin, body)
    assert created.status_code == 201, created.text
    assert (created.json()["amount"], created.json()["return_id"], created.json()["reason"]) == (
        "5.00",
        None,
        "late delivery",
    )
    before = dump(api.store)
    assert post(api, path, admin, body).status_code == 200
    refused(api, post(api, path, admin, {**body, "amount": "6.00"}), 409, "payment-reference-reused", before)
    over = refused(
        api,
        post(api, path, admin, {**body, "reference": "gw_2", "amount": "35.01"}),
        409,
        "refund-limit",
        before,
    )
    assert (over["requested"], over["available"]) == ("35.01", "35.00")
    refused(api, post(api, path, shop["ann"], {**body, "reference": "gw_3"}), 403, "forbidden", before)
    for bad in ({**body, "reason": ""}, {"amount": "1.00", "reference": "x"}, {**body, "amount": "0"}):
        assert post(api, path, admin, bad).status_code == 422
    assert dump(api.store) == before
    assert (
        api.client.get(f"/orders/{order_id}", headers=admin).json()["payment_status"] == "partially_refunded"
    )


def test_the_return_window_setting() -> None:
    assert Settings(_env_file=None).return_window == 30
    assert Settings(_env_file=None, return_window=0).return_window == 0
    with pytest.raises(ValidationError):
        Settings(_env_file=None, return_window=-1)
