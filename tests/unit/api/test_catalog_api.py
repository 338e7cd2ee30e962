"""/categories and /products over the fakes."""

import pytest

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump


def test_category_crud(api: Api, admin) -> None:
    parent = api.category(admin, "Home & Garden", description="All for the home")
    assert (parent["slug"], parent["product_count"], parent["parent_id"]) == ("home-garden", 0, None)
    child = api.category(admin, "Tools", parent_id=parent["id"])
    api.product(admin, "T-1", category_id=child["id"], name="Zebra saw")
    api.product(admin, "T-2", category_id=child["id"], name="Axe")
    listed = api.client.get("/categories").json()
    assert [c["name"] for c in listed["items"]] == ["Home & Garden", "Tools"] and listed["total"] == 2
    detail = api.client.get(f"/categories/{child['id']}").json()
    assert detail["product_count"] == 2 and [p["sku"] for p in detail["products"]] == ["T-2", "T-1"]
    renamed = api.client.patch(
        f"/categories/{child['id']}", json={"name": "Hand Tools", "parent_id": None}, headers=admin
    )
    assert renamed.status_code == 200 and (renamed.json()["slug"], renamed.json()["parent_id"]) == (
        "hand-tools",
        None,
    )
    assert api.client.delete(f"/categories/{parent['id']}", headers=admin).status_code == 204
    assert api.client.get(f"/categories/{parent['id']}").status_code == 404


def test_category_errors_change_nothing(api: Api, admin) -> None:
    customer, _ = api.customer()
    a = api.category(admin, "A")
    b = api.category(admin, "B", parent_id=a["id"])
    before = dump(api.store)
    cases = [
        ("post", "/categories", {"name": "a"}, admin, 409),
        ("post", "/categories", {"name": "C", "parent_id": 999}, admin, 400),
        ("post", "/categories", {"name": "C"}, customer, 403),
        ("post", "/categories", {"name": "C"}, {}, 401),
        ("post", "/categories", {"name": ""}, admin, 422),
        ("post", "/categories", {"name": "C", "description": "x" * 501}, admin, 422),
        ("patch", f"/categories/{a['id']}", {"parent_id": b["id"]}, admin, 400),
        ("patch", f"/categories/{a['id']}", {"name": "b"}, admin, 409),
        ("patch", f"/categories/{a['id']}", {"name": "Z"}, customer, 403),
        ("patch", "/categories/999", {"name": "Z"}, admin, 404),
        ("delete", "/categories/999", None, admin, 404),
        ("delete", f"/categories/{a['id']}", None, customer, 403),
    ]
    for method, url, body, headers, expected in cases:
        response = api.client.request(method, url, json=body, headers=headers)
        assert response.status_code == expected, (method, url, body, response.text)
    assert dump(api.store) == before


def test_product_crud_with_etags(api: Api, admin) -> None:
    created = api.client.post(
        "/products",
        json={"name": "Domain-Driven Design", "sku": "ddd-1", "price": 49.99, "stock_quantity": 5},
        headers=admin,
    )
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    product = created.json()
    assert created.headers["Location"] == f"/products/{product['id']}"
    assert (product["sku"], product["price"], product["slug"], product["version"]) == (
        "DDD-1",
        "49.99",
        "domain-driven-design",
        1,
    )
    fetched = api.client.get(f"/products/{product['id']}")
    assert fetched.headers["ETag"] == '"1"' and fetched.json() == product
    patched = api.client.patch(
        f"/products/{product['id']}", json={"price": "45"}, headers={**admin, "If-Match": '"1"'}
    )
    assert (
        patched.status_code == 200 and patched.json()["price"] == "45.00" and patched.headers["ETag"] == '"2"'
    )
    stale = api.client.patch(
        f"/products/{product['id']}", json={"price": "1"}, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and api.store.tables.products[product["id"]].price == 45
    assert api.client.delete(f"/products/{product['id']}", headers=admin).status_code == 204
    hidden = api.client.get(f"/products/{product['id']}").json()
    assert hidden["is_active"] is False and hidden["version"] == 3
    assert api.client.get("/products").json()["total"] == 0


def test_product_errors_change_nothing(api: Api, admin) -> None:
    customer, _ = api.customer()
    p = api.product(admin, "P-1")
    api.product(admin, "P-2")
    before = dump(api.store)
    ok = {"name": "N", "sku": "N-1", "price": "1.00"}
    cases = [
        ("post", "/products", {**ok, "sku": "p-1"}, admin, 409),
        ("post", "/products", {**ok, "category_id": 999}, admin, 400),
        ("post", "/products", ok, customer, 403),
        ("post", "/products", ok, {}, 401),
        ("post", "/products", {**ok, "price": "1.001"}, admin, 422),
        ("post", "/products", {**ok, "price": "-1"}, admin, 422),
        ("post", "/products", {**ok, "price": "100000000.00"}, admin, 422),
        ("post", "/products", {**ok, "sku": "bad sku!"}, admin, 422),
        ("post", "/products", {**ok, "stock_quantity": -1}, admin, 422),
        ("post", "/products", {**ok, "surprise": 1}, admin, 422),
        ("patch", f"/products/{p['id']}", {"sku": "P-2"}, admin, 409),
        ("patch", f"/products/{p['id']}", {"category_id": 999}, admin, 400),
        ("patch", f"/products/{p['id']}", {"name": None}, admin, 422),
        ("patch", f"/products/{p['id']}", {"name": "x"}, customer, 403),
        ("patch", "/products/999", {"name": "x"}, admin, 404),
        ("delete", f"/products/{p['id']}", None, customer, 403),
        ("delete", "/products/999", None, admin, 404),
        ("post", f"/products/{p['id']}/stock", {"delta": -11, "reason": "r"}, admin, 400),
        ("post", f"/products/{p['id']}/stock", {"delta": 0, "reason": "r"}, admin, 422),
        ("post", f"/products/{p['id']}/stock", {"delta": 1}, admin, 422),
        ("post", f"/products/{p['id']}/stock", {"delta": 1, "reason": " "}, admin, 422),
        ("post", f"/products/{p['id']}/stock", {"delta": 1, "reason": "r"}, customer, 403),
        ("post", "/products/999/stock", {"delta": 1, "reason": "r"}, admin, 404),
        ("patch", f"/products/{p['id']}", {"stock_quantity": 3}, admin, 422),
        ("patch", f"/products/{p['id']}", {"stock_reason": "recount"}, admin, 422),
        ("patch", f"/products/{p['id']}", {"low_stock_threshold": -1}, admin, 422),
        ("get", "/products/999", None, {}, 404),
        ("get", "/products/0", None, {}, 422),
    ]
    for method, url, body, headers, expected in cases:
        response = api.client.request(method, url, json=body, headers=headers)
        assert response.status_code == expected, (method, url, body, response.text)
    stale = api.client.patch(f"/products/{p['id']}", json={"name": "x"}, headers={**admin, "If-Match": '"9"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"1"'
    assert dump(api.store) == before


def test_insufficient_stock_adjustment_names_the_problem(api: Api, admin) -> None:
    p = api.product(admin, "P-1", stock_quantity=2)
    response = api.client.post(f"/products/{p['id']}/stock", json={"delta": -3, "reason": "r"}, headers=admin)
    assert response.status_code == 400 and "insufficient stock" in response.json()["detail"]
    assert api.stock(p["id"]) == 2
    ok = api.client.post(f"/products/{p['id']}/stock", json={"delta": 5, "reason": "delivery"}, headers=admin)
    assert ok.status_code == 200 and ok.json()["stock_quantity"] == 7 and ok.headers["ETag"] == '"2"'


def test_product_list_filters_sorting_and_admin_view(api: Api, admin) -> None:
    customer, _ = api.customer()
    books = api.category(admin, "Books")
    api.product(admin, "B-1", price="5.00", stock_quantity=0, category_id=books["id"], name="Beta book")
    api.product(admin, "B-2", price="1.00", category_id=books["id"], name="Alpha book")
    api.product(admin, "O-1", price="9.00", name="Other")
    gone = api.product(admin, "G-1")
    api.client.delete(f"/products/{gone['id']}", headers=admin)

    def skus(params: dict, headers: dict | None = None) -> list[str]:
        response = api.client.get("/products", params=params, headers=headers or {})
        assert response.status_code == 200, response.text
        return [p["sku"] for p in response.json()["items"]]

    assert skus({"category_id": books["id"], "sort": "price"}) == ["B-2", "B-1"]
    assert skus({"sort": "-name"}) == ["O-1", "B-1", "B-2"]
    assert skus({"min_price": "2", "max_price": 6}) == ["B-1"]
    assert skus({"in_stock": "true"}) == ["B-2", "O-1"]
    assert skus({"q": "BOOK"}) == ["B-1", "B-2"]
    assert skus({"include_inactive": "true"}, admin) == ["B-1", "B-2", "O-1", "G-1"]
    assert (
        api.client.get("/products", params={"include_inactive": "true"}, headers=customer).status_code == 403
    )
    for bad in ({"sort": "price;drop"}, {"min_price": "-1"}, {"limit": 101}, {"category_id": 0}):
        assert api.client.get("/products", params=bad).status_code == 422, bad


@pytest.mark.parametrize("if_match", ['"abc"', "W/1x"])
def test_malformed_if_match_is_412(api: Api, admin, if_match: str) -> None:
    p = api.product(admin)
    response = api.client.patch(
        f"/products/{p['id']}", json={"name": "x"}, headers={**admin, "If-Match": if_match}
    )
    assert response.status_code == 412 and api.store.tables.products[p["id"]].name == p["name"]
