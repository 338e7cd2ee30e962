"""/users/me/addresses, /users/{id}/addresses and orders' addresses, over HTTP on the fakes."""

import pytest

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

HOME = {
    "recipient_name": "Ann Smith",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
WORK = {
    "recipient_name": "Ann Smith",
    "company": "ACME",
    "line1": "5 Rue de Rivoli",
    "line2": "3e étage",
    "city": "Paris",
    "postal_code": "75001",
    "region": "Île-de-France",
    "country": "fr",
    "phone": "+33 1 42 68 53 00",
}
WORK_STORED = {**WORK, "country": "FR", "phone": "+33142685300"}
NONE_OPTIONAL = {"company": None, "line2": None, "region": None, "phone": None}


@pytest.fixture
def ann(api: Api) -> tuple[dict[str, str], int]:
    return api.customer("ann@shop.test")


@pytest.fixture
def bob(api: Api) -> tuple[dict[str, str], int]:
    return api.customer("bob@shop.test")


def add(api: Api, headers, body, path="/users/me/addresses") -> dict:
    response = api.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_address_book_round_trip(api: Api, ann) -> None:
    headers, ann_id = ann
    response = api.client.post("/users/me/addresses", json=WORK, headers=headers)
    assert response.status_code == 201
    work = response.json()
    assert response.headers["Location"] == f"/users/me/addresses/{work['id']}"
    assert {k: work[k] for k in WORK} == WORK_STORED  # normalized: FR, E.164
    assert (work["is_default_shipping"], work["is_default_billing"]) == (False, False)
    assert work["created_at"] == work["updated_at"] == "2026-11-22T10:00:00Z"
    home = add(api, headers, {**HOME, "is_default_shipping": True})
    assert {k: home[k] for k in NONE_OPTIONAL} == NONE_OPTIONAL
    listed = api.client.get("/users/me/addresses", headers=headers).json()
    assert [a["id"] for a in listed] == [work["id"], home["id"]]
    assert api.client.get(f"/users/me/addresses/{home['id']}", headers=headers).json() == home
    assert api.client.get(f"/users/{ann_id}/addresses", headers=headers).json() == listed  # one's own id

    patched = api.client.patch(
        f"/users/me/addresses/{work['id']}",
        json={"city": "Lyon", "phone": None, "is_default_shipping": True, "is_default_billing": True},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["city"], patched.json()["phone"], patched.json()["line1"]) == (
        "Lyon",
        None,
        "5 Rue de Rivoli",
    )
    again = {a["id"]: a for a in api.client.get("/users/me/addresses", headers=headers).json()}
    assert again[work["id"]]["is_default_shipping"] and not again[home["id"]]["is_default_shipping"]

    deleted = api.client.delete(f"/users/me/addresses/{home['id']}", headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert api.client.get(f"/users/me/addresses/{home['id']}", headers=headers).status_code == 404
    assert [a["id"] for a in api.client.get("/users/me/addresses", headers=headers).json()] == [work["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {**HOME, "country": "XX"},  # not assigned
        {**HOME, "country": "DEU"},
        {**HOME, "country": ""},
        {**HOME, "phone": "030 901820"},  # not international
        {**HOME, "phone": "+49 1"},  # too short for Germany
        {**HOME, "phone": "+1 555 0100 0000 0000 0000 0000 0000"},
        {**HOME, "recipient_name": "   "},
        {**HOME, "city": "x" * 101},
        {**HOME, "postal_code": "1" * 21},
        {**HOME, "line2": ""},
        {**HOME, "line1": "bad\x00byte"},
        {k: v for k, v in HOME.items() if k != "line1"},
        {**HOME, "colour": "blue"},
        {**HOME, "is_default_shipping": "yes"},
        {**HOME, "company": None, "line1": None},
    ],
)
def test_an_invalid_address_is_a_422_and_adds_nothing(api: Api, ann, body) -> None:
    headers, _ = ann
    before = dump(api.store)
    response = api.client.post("/users/me/addresses", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert dump(api.store) == before


@pytest.mark.parametrize(
    "body",
    [
        {"city": None},
        {"country": "ZZ"},
        {"phone": "12345"},
        {"line1": " "},
        {"is_default_billing": None},
        {"user_id": 3},
    ],
)
def test_an_invalid_patch_is_a_422_and_changes_nothing(api: Api, ann, body) -> None:
    headers, _ = ann
    home = add(api, headers, HOME)
    before = dump(api.store)
    response = api.client.patch(f"/users/me/addresses/{home['id']}", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert dump(api.store) == before


def test_another_users_book_is_missing(api: Api, ann, bob) -> None:
    (ann_headers, _), (bob_headers, bob_id) = ann, bob
    bobs = add(api, bob_headers, HOME)
    before = dump(api.store)
    one = f"/users/me/addresses/{bobs['id']}"
    theirs = f"/users/{bob_id}/addresses"
    for method, path, body in [
        ("GET", one, None),
        ("PATCH", one, {"city": "Lyon"}),
        ("DELETE", one, None),
        ("GET", theirs, None),
        ("POST", theirs, HOME),
        ("GET", f"{theirs}/{bobs['id']}", None),
        ("PATCH", f"{theirs}/{bobs['id']}", {"city": "Lyon"}),
        ("DELETE", f"{theirs}/{bobs['id']}", None),
    ]:
        response = api.client.request(method, path, json=body, headers=ann_headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert api.client.get("/users/me/addresses", headers={}).status_code == 401
    assert dump(api.store) == before


def test_an_admin_keeps_anyones_book(api: Api, admin, ann) -> None:
    headers, ann_id = ann
    response = api.client.post(f"/users/{ann_id}/addresses", json=HOME, headers=admin)
    assert response.status_code == 201
    entry = response.json()
    assert response.headers["Location"] == f"/users/{ann_id}/addresses/{entry['id']}"
    assert api.client.get("/users/me/addresses", headers=headers).json() == [entry]
    path = f"/users/{ann_id}/addresses/{entry['id']}"
    assert api.client.get(path, headers=admin).json() == entry
    assert api.client.patch(path, json={"region": "Berlin"}, headers=admin).json()["region"] == "Berlin"
    assert api.client.get("/users/me/addresses", headers=admin).json() == []
    assert api.client.get(f"/users/me/addresses/{entry['id']}", headers=admin).status_code == 404
    assert api.client.get("/users/9999/addresses", headers=admin).status_code == 404
    assert api.client.delete(path, headers=admin).status_code == 204
    assert api.client.get(f"/users/{ann_id}/addresses", headers=admin).json() == []


def test_the_51st_address_is_a_409_naming_the_limit(api: Api, ann) -> None:
    headers, _ = ann
    for i in range(50):
        add(api, headers, {**HOME, "line1": f"{i} Main St"})
    before = dump(api.store)
    response = api.client.post("/users/me/addresses", json=WORK, headers=headers)
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "/problems/address-book-full"
    assert problem["detail"] == "an address book holds at most 50 addresses; delete one to add another."
    assert dump(api.store) == before


# --- orders ------------------------------------------------------------------------------------------------


@pytest.fixture
def product(api: Api, admin) -> int:
    return api.product(admin, "A-1", price="10.00", stock_quantity=10)["id"]


def test_an_order_placed_as_before_shows_null_addresses(api: Api, ann, product) -> None:
    headers, _ = ann
    order = api.order(headers, (product, 1))
    assert (order["shipping_address"], order["billing_address"]) == (None, None)


def test_an_order_with_an_inline_address_everywhere_it_is_shown(api: Api, admin, ann, product) -> None:
    headers, _ = ann
    order = api.order(headers, (product, 1), shipping_address=WORK)
    assert order["shipping_address"] == order["billing_address"] == WORK_STORED
    for shown in [
        api.client.get(f"/orders/{order['id']}", headers=headers).json(),
        api.client.get("/orders", headers=headers).json()["items"][0],
        api.client.get("/orders", headers=admin).json()["items"][0],
    ]:
        assert (shown["shipping_address"], shown["billing_address"]) == (WORK_STORED, WORK_STORED)
    placed = next(
        e for e in api.client.get("/events", headers=admin).json()["items"] if e["type"] == "order.placed"
    )
    assert placed["data"]["shipping_address"] == WORK_STORED
    billed = api.order(headers, (product, 1), shipping_address=HOME, billing_address=WORK)
    assert (billed["shipping_address"], billed["billing_address"]) == ({**HOME, **NONE_OPTIONAL}, WORK_STORED)


def test_an_order_from_the_book_keeps_its_copy_whatever_the_book_does(api: Api, ann, product) -> None:
    headers, _ = ann
    work = add(api, headers, WORK)
    home = add(api, headers, HOME)
    order = api.order(headers, (product, 1), shipping_address_id=work["id"], billing_address_id=home["id"])
    assert (order["shipping_address"], order["billing_address"]) == (WORK_STORED, {**HOME, **NONE_OPTIONAL})
    api.client.patch(f"/users/me/addresses/{work['id']}", json={"city": "Lyon"}, headers=headers)
    api.client.delete(f"/users/me/addresses/{home['id']}", headers=headers)
    kept = api.client.get(f"/orders/{order['id']}", headers=headers).json()
    assert (kept["shipping_address"], kept["billing_address"]) == (WORK_STORED, {**HOME, **NONE_OPTIONAL})


def test_refused_order_addresses_place_nothing(api: Api, ann, bob, product) -> None:
    (headers, _), (bob_headers, _) = ann, bob
    mine = add(api, headers, HOME)
    bobs = add(api, bob_headers, HOME)
    before = dump(api.store)
    line = {"items": [{"product_id": product, "quantity": 1}]}
    for body, status in [
        ({**line, "shipping_address": HOME, "shipping_address_id": mine["id"]}, 422),
        ({**line, "billing_address": HOME, "billing_address_id": mine["id"]}, 422),
        ({**line, "shipping_address": {**HOME, "country": "XX"}}, 422),
        ({**line, "billing_address": {**HOME, "phone": "+1"}}, 422),
        ({**line, "shipping_address_id": "1"}, 422),
        ({**line, "shipping_address_id": bobs["id"]}, 400),
        ({**line, "billing_address_id": 9999}, 400),
    ]:
        response = api.client.post("/orders", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
    refused = api.client.post("/orders", json={**line, "shipping_address_id": bobs["id"]}, headers=headers)
    assert refused.json()["detail"] == f"address {bobs['id']} does not exist."
    assert api.stock(product) == 10
    assert dump(api.store) == before


def test_an_admin_orders_for_a_customer_with_the_customers_entry(api: Api, admin, ann, product) -> None:
    headers, ann_id = ann
    mine = add(api, headers, WORK)
    order = api.order(admin, (product, 1), user_id=ann_id, shipping_address_id=mine["id"])
    assert (order["user_id"], order["shipping_address"]) == (ann_id, WORK_STORED)


# --- PUT /orders/{id}/shipping-address ---------------------------------------------------------------------


def test_the_shipping_address_is_replaced_and_recorded(api: Api, admin, ann, product) -> None:
    headers, _ = ann
    order = api.order(headers, (product, 1), shipping_address=HOME)
    path = f"/orders/{order['id']}/shipping-address"
    response = api.client.put(path, json={"address": WORK}, headers={**headers, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    changed = response.json()
    assert (changed["shipping_address"], changed["billing_address"], changed["version"]) == (
        WORK_STORED,
        {**HOME, **NONE_OPTIONAL},
        2,
    )
    entry = add(api, headers, {**HOME, "city": "Potsdam"})
    by_admin = api.client.put(path, json={"address_id": entry["id"]}, headers=admin)
    assert by_admin.json()["shipping_address"]["city"] == "Potsdam"
    history = api.client.get(f"/orders/{order['id']}/events", headers=headers).json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        (None, "pending", None),
        ("pending", "pending", "shipping address changed"),
        ("pending", "pending", "shipping address changed"),
    ]
    assert api.client.get(f"/orders/{order['id']}", headers=headers).json()["version"] == 3


def test_refused_shipping_address_changes_change_nothing(api: Api, admin, ann, bob, product) -> None:
    (headers, _), (bob_headers, _) = ann, bob
    order = api.order(headers, (product, 1), shipping_address=HOME)
    bobs = add(api, bob_headers, WORK)
    path = f"/orders/{order['id']}/shipping-address"
    before = dump(api.store)
    for body, who, status in [
        ({"address": WORK}, bob_headers, 404),
        ({"address": WORK, "address_id": 1}, headers, 422),
        ({}, headers, 422),
        ({"address": {**WORK, "country": "XX"}}, headers, 422),
        ({"address_id": bobs["id"]}, headers, 400),
        ({"address_id": bobs["id"]}, admin, 400),
        ({"address": WORK}, {**headers, "If-Match": '"7"'}, 412),
    ]:
        response = api.client.put(path, json=body, headers=who)
        assert response.status_code == status, (body, response.text)
    assert (
        api.client.put("/orders/9999/shipping-address", json={"address": WORK}, headers=admin).status_code
        == 404
    )
    assert dump(api.store) == before


def test_the_shipping_address_is_locked_once_the_order_is_processed(api: Api, admin, ann, product) -> None:
    headers, _ = ann
    order = api.order(headers, (product, 1), shipping_address=HOME)
    for status in ("confirmed", "processing"):
        api.client.patch(f"/orders/{order['id']}/status", json={"status": status}, headers=admin)
    before = dump(api.store)
    response = api.client.put(
        f"/orders/{order['id']}/shipping-address", json={"address": WORK}, headers=admin
    )
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/address-locked"
    assert "processing" in response.json()["detail"]
    assert dump(api.store) == before
