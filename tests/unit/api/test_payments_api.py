"""Payments over HTTP (in process, on the fakes): every route, every refusal with its problem, and nothing
moved by a refusal."""

from typing import Any

import pytest
from dependency_injector import providers

from adapters.settings import Settings
from entrypoints.container import Container
from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

PROBLEM = "application/problem+json"


@pytest.fixture
def shop(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    """An order of 30.00 by Ann (pending)."""
    ann, ann_id = api.customer()
    product = api.product(admin, price="15.00")
    order = api.order(ann, (product["id"], 2))
    return {"ann": ann, "ann_id": ann_id, "order": order, "product": product}


def pay(api: Api, headers: dict[str, str], order_id: int, **kw: Any) -> Any:
    body = {"provider": "stripe", "reference": "pi_1", "amount": "30.00", "action": "authorize", **kw}
    return api.client.post(f"/orders/{order_id}/payments", json=body, headers=headers)


def order_of(api: Api, headers: dict[str, str], order_id: int) -> dict[str, Any]:
    return api.client.get(f"/orders/{order_id}", headers=headers).json()


def refused(api: Api, response: Any, status: int, slug: str, before: dict) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert dump(api.store) == before
    return body


def test_authorise_capture_on_confirmation_and_refund_part(api: Api, admin, shop) -> None:
    order_id = shop["order"]["id"]
    assert shop["order"]["payment_status"] == "unpaid"
    created = pay(api, admin, order_id)
    assert created.status_code == 201 and created.headers["Location"] == f"/payments/{created.json()['id']}"
    payment = created.json()
    shown = ("order_id", "provider", "reference", "currency", "voided", "version")
    assert {k: payment[k] for k in shown} == {
        "order_id": order_id, "provider": "stripe", "reference": "pi_1", "currency": "USD", "voided": False,
        "version": 1,
    }  # fmt: skip
    assert (payment["authorized"], payment["captured"], payment["refunded"]) == ("30.00", "0.00", "0.00")
    assert (payment["capturable"], payment["refundable"]) == ("30.00", "0.00")
    [t] = payment["transactions"]
    assert (t["kind"], t["amount"], t["reference"], t["actor_id"]) == ("authorize", "30.00", "pi_1", 1)
    assert order_of(api, admin, order_id)["payment_status"] == "authorized"

    confirmed = api.client.patch(f"/orders/{order_id}/status", json={"status": "confirmed"}, headers=admin)
    assert confirmed.status_code == 200
    captured = api.client.post(f"/payments/{payment['id']}/capture", headers=admin)
    assert captured.status_code == 200 and captured.json()["captured"] == "30.00"
    assert order_of(api, shop["ann"], order_id)["payment_status"] == "paid"

    refund = {"amount": "10.00", "reason": "one book arrived damaged", "reference": "re_1"}
    refunded = api.client.post(f"/payments/{payment['id']}/refunds", json=refund, headers=admin)
    assert refunded.status_code == 201 and refunded.json()["refunded"] == "10.00"
    assert refunded.json()["transactions"][-1] | {"id": 0, "at": ""} == {
        "id": 0, "kind": "refund", "amount": "10.00", "reference": "re_1",
        "reason": "one book arrived damaged", "actor_id": 1, "at": "",
    }  # fmt: skip
    assert order_of(api, admin, order_id)["payment_status"] == "partially_refunded"
    listed = api.client.get(f"/orders/{order_id}/payments", headers=shop["ann"])
    assert listed.status_code == 200
    assert [[t["kind"] for t in p["transactions"]] for p in listed.json()] == [
        ["authorize", "capture", "refund"]
    ]
    orders = api.client.get("/orders", headers=admin).json()["items"]
    assert [o["payment_status"] for o in orders] == ["partially_refunded"]
    types = [e["type"] for e in api.client.get("/events", headers=admin).json()["items"]]
    assert [t for t in types if t.startswith("payment.")] == [
        "payment.authorized",
        "payment.captured",
        "payment.refunded",
    ]


def test_a_repeat_replays_and_another_body_is_409(api: Api, admin, shop) -> None:
    order_id = shop["order"]["id"]
    first = pay(api, admin, order_id).json()
    before = dump(api.store)
    again = pay(api, admin, order_id)
    assert again.status_code == 200 and again.json() == first
    assert dump(api.store) == before
    body = refused(api, pay(api, admin, order_id, amount="29.99"), 409, "payment-reference-reused", before)
    assert "'pi_1' was already recorded with a different body" in body["detail"]
    refused(api, pay(api, admin, order_id, action="charge"), 409, "payment-reference-reused", before)
    other = api.order(shop["ann"], (shop["product"]["id"], 1))
    before = dump(api.store)
    refused(api, pay(api, admin, other["id"]), 409, "payment-reference-reused", before)
    assert pay(api, admin, order_id, provider="adyen").status_code == 201  # unique per provider


def test_a_repeated_refund_replays_and_another_body_is_409(api: Api, admin, shop) -> None:
    payment = pay(api, admin, shop["order"]["id"], action="charge").json()
    url = f"/payments/{payment['id']}/refunds"
    refund = {"amount": "5.00", "reason": "late", "reference": "re_1"}
    first = api.client.post(url, json=refund, headers=admin).json()
    before = dump(api.store)
    again = api.client.post(url, json=refund, headers=admin)
    assert again.status_code == 200 and again.json() == first and dump(api.store) == before
    for changed in ({"amount": "5.01"}, {"reason": "later"}):
        refused(
            api,
            api.client.post(url, json=refund | changed, headers=admin),
            409,
            "payment-reference-reused",
            before,
        )


def test_each_limit_is_a_409_naming_it(api: Api, admin, shop) -> None:
    payment = pay(api, admin, shop["order"]["id"]).json()
    base = f"/payments/{payment['id']}"
    before = dump(api.store)
    over = api.client.post(f"{base}/capture", json={"amount": "30.01"}, headers=admin)
    body = refused(api, over, 409, "payment-limit", before)
    assert (body["limit"], body["requested"], body["available"]) == ("capture", "30.01", "30.00")
    assert body["detail"] == (
        f"payment {payment['id']}: cannot capture 30.01: the amount authorised and not yet captured is 30.00."
    )
    refund = {"amount": "0.01", "reason": "r", "reference": "re_1"}
    body = refused(
        api, api.client.post(f"{base}/refunds", json=refund, headers=admin), 409, "payment-limit", before
    )
    assert (body["limit"], body["available"]) == ("refund", "0.00")
    assert api.client.post(f"{base}/void", headers=admin).status_code == 200
    after_void = dump(api.store)
    body = refused(api, api.client.post(f"{base}/capture", headers=admin), 409, "payment-voided", after_void)
    refused(api, api.client.post(f"{base}/void", headers=admin), 409, "payment-voided", after_void)
    charged = pay(api, admin, shop["order"]["id"], reference="ch_1", action="charge").json()
    now = dump(api.store)
    body = refused(
        api, api.client.post(f"/payments/{charged['id']}/void", headers=admin), 409, "payment-limit", now
    )
    assert body["limit"] == "void"


def test_bad_amounts_are_422_and_change_nothing(api: Api, admin, shop) -> None:
    order_id = shop["order"]["id"]
    before = dump(api.store)
    for amount in ("0", "-1.00", "1.001", "100000000.00", "abc"):
        response = pay(api, admin, order_id, amount=amount)
        assert response.status_code == 422, (amount, response.text)
    for body in ({"provider": ""}, {"reference": ""}, {"action": "steal"}, {"extra": 1}, {"provider": "a b"}):
        assert pay(api, admin, order_id, **body).status_code == 422
    payment = pay(api, admin, order_id).json()
    before = dump(api.store)
    for bad in ({"amount": "0"}, {"amount": "1.234"}, {"other": 1}):
        assert (
            api.client.post(f"/payments/{payment['id']}/capture", json=bad, headers=admin).status_code == 422
        )
    for bad in ({"amount": "1.00", "reason": "", "reference": "r"}, {"amount": "1.00", "reason": "r"}):
        assert (
            api.client.post(f"/payments/{payment['id']}/refunds", json=bad, headers=admin).status_code == 422
        )
    assert dump(api.store) == before


def test_minor_units_of_the_shops_currency(api: Api, admin, shop) -> None:
    with currency_and_rule(api, currency="JPY"):
        before = dump(api.store)
        body = refused(
            api, pay(api, admin, shop["order"]["id"], amount="10.50"), 422, "invalid-payment-amount", before
        )
        assert body["detail"] == "10.50 has more decimal places than JPY has (0)."
        created = pay(api, admin, shop["order"]["id"], amount="10")
        assert created.status_code == 201 and created.json()["currency"] == "JPY"


def test_who_may_act(api: Api, admin, shop) -> None:
    order_id, ann = shop["order"]["id"], shop["ann"]
    before = dump(api.store)
    refused(api, pay(api, ann, order_id), 403, "forbidden", before)
    assert pay(api, {}, order_id).status_code == 401
    payment = pay(api, admin, order_id).json()
    before = dump(api.store)
    for path in ("capture", "void"):
        refused(
            api, api.client.post(f"/payments/{payment['id']}/{path}", headers=ann), 403, "forbidden", before
        )
    refund = {"amount": "1.00", "reason": "r", "reference": "re"}
    refused(
        api,
        api.client.post(f"/payments/{payment['id']}/refunds", json=refund, headers=ann),
        403,
        "forbidden",
        before,
    )
    assert api.client.get(f"/orders/{order_id}/payments", headers=ann).status_code == 200
    bob, _ = api.customer("bob@shop.test")
    assert api.client.get(f"/orders/{order_id}/payments", headers=bob).status_code == 404  # not leaked
    assert api.client.get(f"/orders/{order_id}/payments").status_code == 401


def test_unknown_orders_and_payments_are_404(api: Api, admin, shop) -> None:
    before = dump(api.store)
    refused(api, pay(api, admin, 999), 404, "not-found", before)
    for path in ("capture", "void"):
        refused(api, api.client.post(f"/payments/999/{path}", headers=admin), 404, "not-found", before)
    refund = {"amount": "1.00", "reason": "r", "reference": "re"}
    refused(
        api, api.client.post("/payments/999/refunds", json=refund, headers=admin), 404, "not-found", before
    )
    assert api.client.get("/orders/999/payments", headers=admin).status_code == 404


def test_cancelling_with_money_is_refused_until_settled(api: Api, admin, shop) -> None:
    order_id, ann = shop["order"]["id"], shop["ann"]
    payment = pay(api, admin, order_id, action="charge", amount="12.00").json()
    before = dump(api.store)
    body = refused(
        api, api.client.delete(f"/orders/{order_id}", headers=ann), 409, "payment-outstanding", before
    )
    assert (body["captured_not_refunded"], body["authorized_not_captured"]) == ("12.00", "0.00")
    cancel = api.client.patch(f"/orders/{order_id}/status", json={"status": "cancelled"}, headers=admin)
    refused(api, cancel, 409, "payment-outstanding", before)
    refund = {"amount": "12.00", "reason": "cancelled", "reference": "re_1"}
    assert (
        api.client.post(f"/payments/{payment['id']}/refunds", json=refund, headers=admin).status_code == 201
    )
    cancelled = api.client.delete(f"/orders/{order_id}", headers=ann)
    assert cancelled.status_code == 200 and cancelled.json()["payment_status"] == "refunded"
    before = dump(api.store)
    refused(api, pay(api, admin, order_id, reference="pi_2"), 409, "order-not-payable", before)


@pytest.mark.parametrize(("rule", "enough"), [("authorization", "authorize"), ("payment", "charge")])
def test_confirming_needs_what_shop_confirm_requires_names(
    api: Api, admin, shop, rule: str, enough: str
) -> None:
    order_id = shop["order"]["id"]
    with currency_and_rule(api, confirm_requires=rule):
        pay(api, admin, order_id, amount="29.99", action=enough)
        before = dump(api.store)
        confirm = api.client.patch(f"/orders/{order_id}/status", json={"status": "confirmed"}, headers=admin)
        body = refused(api, confirm, 409, "payment-required", before)
        assert (body["requires"], body["needed"], body["covered"]) == (rule, "30.00", "29.99")
        pay(api, admin, order_id, reference="pi_2", amount="0.01", action=enough)
        confirm = api.client.patch(f"/orders/{order_id}/status", json={"status": "confirmed"}, headers=admin)
        assert confirm.status_code == 200


class currency_and_rule:
    """The app's settings with other payment settings for the block."""

    def __init__(self, api: Api, **settings: str) -> None:
        self.container: Container = api.app.state.container
        self.settings = Settings(env="test", secret_key="k" * 40, _env_file=None, **settings)

    def __enter__(self) -> None:
        self.container.settings.override(providers.Object(self.settings))
        self.container.use_cases.reset()

    def __exit__(self, *exc: object) -> None:
        self.container.settings.reset_last_overriding()
        self.container.use_cases.reset()


def test_the_lengths_of_what_a_provider_sends(api: Api, admin, shop) -> None:
    order_id = shop["order"]["id"]
    assert pay(api, admin, order_id, provider="p" * 51).status_code == 422
    assert pay(api, admin, order_id, reference="r" * 201).status_code == 422
    assert pay(api, admin, order_id, provider="p" * 50, reference="r" * 200).status_code == 201
    payment = pay(api, admin, order_id, reference="ch", action="charge").json()
    url = f"/payments/{payment['id']}/refunds"
    too_long = {"amount": "1.00", "reason": "x" * 501, "reference": "re"}
    assert api.client.post(url, json=too_long, headers=admin).status_code == 422
    longest = {"amount": "1.00", "reason": "x" * 500, "reference": "e" * 200}
    assert api.client.post(url, json=longest, headers=admin).status_code == 201
