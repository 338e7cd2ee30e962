"""Failure paths that touch the database: the answer, and the fact that no row moved."""

from sqlalchemy import Engine, text

from tests.e2e.conftest import Client


def snapshot(engine: Engine) -> dict[str, list]:
    with engine.connect() as c:
        return {
            table: [tuple(r) for r in c.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in ("users", "categories", "products", "orders", "order_lines", "order_status_events")
        }


def test_insufficient_stock_changes_nothing(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    a, b = client.product(admin, "A-1", stock=5), client.product(admin, "B-1", stock=1)
    before = snapshot(e2e_engine)
    response = client.http.post(
        "/orders",
        json={"items": [{"product_id": a["id"], "quantity": 2}, {"product_id": b["id"], "quantity": 2}]},
        headers=ann,
    )
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert "insufficient stock" in response.json()["detail"] and str(b["id"]) in response.json()["detail"]
    assert snapshot(e2e_engine) == before


def test_duplicates_are_409_and_change_nothing(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    client.customer("ann@shop.test")
    client.product(admin, "DUP-1")
    before = snapshot(e2e_engine)
    dup_user = client.http.post(
        "/users", json={"email": "ANN@shop.test", "name": "X", "password": "plum-kettle-42"}
    )
    dup_sku = client.http.post(
        "/products", json={"name": "x", "sku": "dup-1", "price": "1.00"}, headers=admin
    )
    assert (dup_user.status_code, dup_sku.status_code) == (409, 409)
    assert snapshot(e2e_engine) == before


def test_illegal_status_change_is_400(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    p = client.product(admin, "A-1")
    order = client.http.post(
        "/orders", json={"items": [{"product_id": p["id"], "quantity": 1}]}, headers=ann
    ).json()
    before = snapshot(e2e_engine)
    response = client.http.patch(f"/orders/{order['id']}/status", json={"status": "delivered"}, headers=admin)
    assert (
        response.status_code == 400
        and "'pending'" in response.json()["detail"]
        and "'delivered'" in response.json()["detail"]
    )
    assert snapshot(e2e_engine) == before


def test_cancel_restores_stock_once(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    p = client.product(admin, "A-1", stock=5)
    order = client.http.post(
        "/orders", json={"items": [{"product_id": p["id"], "quantity": 3}]}, headers=ann
    ).json()
    assert client.http.delete(f"/orders/{order['id']}", headers=ann).status_code == 200
    assert client.stock(p["id"]) == 5
    before = snapshot(e2e_engine)
    again = client.http.delete(f"/orders/{order['id']}", headers=ann)
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert snapshot(e2e_engine) == before


def test_idempotent_retry_returns_the_same_order(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    p = client.product(admin, "A-1", stock=5)
    body = {"items": [{"product_id": p["id"], "quantity": 2}]}
    first = client.http.post("/orders", json=body, headers={**ann, "Idempotency-Key": "abc"})
    before = snapshot(e2e_engine)
    second = client.http.post("/orders", json=body, headers={**ann, "Idempotency-Key": "abc"})
    assert (first.status_code, second.status_code) == (201, 201) and first.json() == second.json()
    assert snapshot(e2e_engine) == before and client.stock(p["id"]) == 3
    other = client.http.post(
        "/orders",
        json={"items": [{"product_id": p["id"], "quantity": 1}]},
        headers={**ann, "Idempotency-Key": "abc"},
    )
    assert other.status_code == 422 and snapshot(e2e_engine) == before


def test_another_customers_order_is_404(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    bob, _ = client.customer("bob@shop.test")
    p = client.product(admin, "A-1")
    order = client.http.post(
        "/orders", json={"items": [{"product_id": p["id"], "quantity": 1}]}, headers=ann
    ).json()
    before = snapshot(e2e_engine)
    assert client.http.get(f"/orders/{order['id']}", headers=bob).status_code == 404
    assert client.http.get(f"/orders/{order['id']}/events", headers=bob).status_code == 404
    assert client.http.delete(f"/orders/{order['id']}", headers=bob).status_code == 404
    assert snapshot(e2e_engine) == before


def test_stale_if_match_is_412(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    p = client.product(admin, "A-1")
    assert (
        client.http.patch(
            f"/products/{p['id']}", json={"name": "First"}, headers={**admin, "If-Match": '"1"'}
        ).status_code
        == 200
    )
    before = snapshot(e2e_engine)
    stale = client.http.patch(
        f"/products/{p['id']}", json={"name": "Second"}, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    assert snapshot(e2e_engine) == before
