"""Every route's success path over HTTP against the live service on PostgreSQL, as the README walks it."""

from tests.e2e.conftest import Client


def test_readme_walkthrough(client: Client) -> None:
    http = client.http
    admin = client.admin()
    category = http.post("/categories", json={"name": "Books"}, headers=admin)
    assert category.status_code == 201
    cid = category.json()["id"]
    product = http.post(
        "/products",
        json={
            "name": "Domain-Driven Design",
            "sku": "ddd-1",
            "price": "49.99",
            "stock_quantity": 5,
            "category_id": cid,
        },
        headers=admin,
    )
    assert product.status_code == 201 and product.headers["ETag"] == '"1"'
    pid = product.json()["id"]
    assert (
        http.post(
            "/users", json={"email": "ann@example.com", "name": "Ann", "password": "plum-kettle-42"}
        ).status_code
        == 201
    )
    ann = client.login("ann@example.com", "plum-kettle-42")
    home = http.post(
        "/users/me/addresses",
        json={
            "recipient_name": "Ann Smith",
            "line1": "1 Main St",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
            "phone": "+49 30 901820",
            "is_default_shipping": True,
        },
        headers=ann,
    )
    assert home.status_code == 201 and home.json()["phone"] == "+4930901820"
    order = http.post(
        "/orders",
        json={"items": [{"product_id": pid, "quantity": 3}], "shipping_address_id": home.json()["id"]},
        headers={**ann, "Idempotency-Key": "first-order"},
    )
    assert order.status_code == 201 and order.json()["total_amount"] == "149.97"
    assert order.json()["shipping_address"]["city"] == order.json()["billing_address"]["city"] == "Berlin"
    oid = order.json()["id"]
    assert client.stock(pid) == 2
    payment = http.post(
        f"/orders/{oid}/payments",
        json={"provider": "stripe", "reference": "pi_1", "amount": "149.97", "action": "authorize"},
        headers=admin,
    )
    assert payment.status_code == 201 and payment.json()["authorized"] == "149.97"
    pay_id = payment.json()["id"]
    confirmed = http.patch(f"/orders/{oid}/status", json={"status": "confirmed"}, headers=admin)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["payment_status"] == "authorized"
    assert http.post(f"/payments/{pay_id}/capture", headers=admin).json()["captured"] == "149.97"
    assert http.get(f"/orders/{oid}", headers=ann).json()["payment_status"] == "paid"
    ship = [("JD014600", 2, "processing", "partially_fulfilled"), ("JD014601", 1, "shipped", "fulfilled")]
    line_id = order.json()["items"][0]["id"]
    for tracking, quantity, status, fulfillment_status in ship:
        fulfilment = http.post(
            f"/orders/{oid}/fulfillments",
            json={
                "lines": [{"order_line_id": line_id, "quantity": quantity}],
                "carrier": "DHL",
                "tracking_number": tracking,
            },
            headers=admin,
        )
        assert fulfilment.status_code == 201 and fulfilment.json()["tracking_number"] == tracking
        shown = http.get(f"/orders/{oid}", headers=ann).json()
        assert (shown["status"], shown["fulfillment_status"]) == (status, fulfillment_status)
    assert [
        f["lines"][0]["quantity"] for f in http.get(f"/orders/{oid}/fulfillments", headers=ann).json()
    ] == [
        2,
        1,
    ]
    delivered = http.patch(f"/orders/{oid}/status", json={"status": "delivered"}, headers=admin)
    assert delivered.status_code == 200 and delivered.json()["items"][0]["quantity_shipped"] == 3
    requested = http.post(
        f"/orders/{oid}/returns",
        json={
            "lines": [{"order_line_id": line_id, "quantity": 1, "reason": "arrived damaged", "restock": True}]
        },
        headers=ann,
    )
    assert requested.status_code == 201 and requested.json()["status"] == "requested"
    rid = requested.json()["id"]
    assert client.stock(pid) == 2  # a request moves nothing
    accepted = http.post(f"/returns/{rid}/accept", headers=admin)
    assert accepted.status_code == 200 and accepted.json()["proposed_refund"] == "49.99"
    assert client.stock(pid) == 3
    shown = http.get(f"/orders/{oid}", headers=ann).json()
    assert (shown["items"][0]["quantity_returned"], shown["return_status"]) == (1, "partially_returned")
    refund = http.post(f"/returns/{rid}/refund", json={"reference": "re_1"}, headers=admin)
    assert refund.status_code == 201 and refund.json()["amount"] == "49.99"
    assert http.get(f"/orders/{oid}", headers=ann).json()["payment_status"] == "partially_refunded"
    stats = http.get("/orders/stats", headers=admin).json()
    assert (stats["total_revenue"], stats["gross_revenue"], stats["refunded_revenue"]) == (
        "99.98",
        "149.97",
        "49.99",
    )


def test_every_route_succeeds(client: Client) -> None:
    http = client.http
    admin = client.admin()
    ann, ann_id = client.customer("ann@shop.test")
    assert http.get("/health").json() == {"status": "ok", "database": "ok"}
    assert http.get("/users/me", headers=ann).json()["id"] == ann_id
    assert http.get(f"/users/{ann_id}", headers=ann).status_code == 200
    assert http.get("/users", params={"q": "ann"}, headers=admin).json()["total"] == 1
    assert http.patch(f"/users/{ann_id}", json={"name": "Anne"}, headers=ann).json()["name"] == "Anne"

    parent = http.post("/categories", json={"name": "Home"}, headers=admin).json()
    child = http.post("/categories", json={"name": "Garden", "parent_id": parent["id"]}, headers=admin).json()
    assert [c["name"] for c in http.get("/categories").json()["items"]] == ["Garden", "Home"]
    assert (
        http.patch(f"/categories/{child['id']}", json={"description": "Outdoors"}, headers=admin).status_code
        == 200
    )
    product = client.product(admin, "G-1", stock=4, category_id=child["id"])
    detail = http.get(f"/categories/{child['id']}").json()
    assert detail["product_count"] == 1 and detail["products"][0]["id"] == product["id"]
    listed = http.get("/products", params={"category_id": child["id"], "sort": "-price", "q": "g-1"}).json()
    assert [p["id"] for p in listed["items"]] == [product["id"]]
    patched = http.patch(
        f"/products/{product['id']}", json={"price": 12}, headers={**admin, "If-Match": '"1"'}
    )
    assert patched.status_code == 200 and patched.json()["price"] == "12.00"
    restocked = http.post(
        f"/products/{product['id']}/stock", json={"delta": 6, "reason": "delivery"}, headers=admin
    )
    assert restocked.json()["stock_quantity"] == 10

    order = http.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 2}]}, headers=ann
    ).json()
    assert http.get(f"/orders/{order['id']}", headers=ann).json()["id"] == order["id"]
    assert [
        o["id"] for o in http.get("/orders", params={"status": "pending"}, headers=ann).json()["items"]
    ] == [order["id"]]
    for status in ("confirmed", "processing", "shipped", "delivered"):
        assert (
            http.patch(f"/orders/{order['id']}/status", json={"status": status}, headers=admin).status_code
            == 200
        )
    events = http.get(f"/orders/{order['id']}/events", headers=ann).json()
    assert [e["to_status"] for e in events] == ["pending", "confirmed", "processing", "shipped", "delivered"]

    address = {"recipient_name": "Ann", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115"}
    mine = http.post("/users/me/addresses", json={**address, "country": "DE"}, headers=ann).json()
    theirs = http.post(f"/users/{ann_id}/addresses", json={**address, "country": "AT"}, headers=admin).json()
    assert [a["id"] for a in http.get("/users/me/addresses", headers=ann).json()] == [
        mine["id"],
        theirs["id"],
    ]
    assert http.get(f"/users/{ann_id}/addresses", headers=admin).status_code == 200
    assert http.get(f"/users/me/addresses/{mine['id']}", headers=ann).json()["country"] == "DE"
    assert http.get(f"/users/{ann_id}/addresses/{theirs['id']}", headers=admin).json()["country"] == "AT"
    one = f"/users/me/addresses/{mine['id']}"
    assert http.patch(one, json={"is_default_billing": True}, headers=ann).json()["is_default_billing"]
    path = f"/users/{ann_id}/addresses/{theirs['id']}"
    assert http.patch(path, json={"city": "Wien"}, headers=admin).json()["city"] == "Wien"
    second = http.post(
        "/orders",
        json={
            "items": [{"product_id": product["id"], "quantity": 1}],
            "shipping_address": {**address, "country": "DE"},
        },
        headers=ann,
    ).json()
    moved = http.put(
        f"/orders/{second['id']}/shipping-address", json={"address_id": theirs["id"]}, headers=ann
    )
    assert moved.status_code == 200 and moved.json()["shipping_address"]["city"] == "Wien"
    assert http.delete(one, headers=ann).status_code == 204
    assert http.delete(path, headers=admin).status_code == 204
    assert http.get(f"/orders/{second['id']}", headers=ann).json()["shipping_address"]["country"] == "AT"
    stats = http.get("/orders/stats", headers=admin).json()
    assert (stats["total_orders"], stats["total_revenue"], stats["orders_by_status"]["delivered"]) == (
        2,
        "36.00",
        1,
    )

    # After the order: shipped (and a shipment taken back), returned, refunded.
    sid, line = second["id"], second["items"][0]["id"]
    charge = {"provider": "psp", "reference": "ch_1", "amount": "15.00", "action": "charge"}  # 3.00 over
    assert http.post(f"/orders/{sid}/payments", json=charge, headers=admin).status_code == 201
    assert http.patch(f"/orders/{sid}/status", json={"status": "confirmed"}, headers=admin).status_code == 200
    ship = {"lines": [{"order_line_id": line, "quantity": 1}], "carrier": "DHL"}
    first = http.post(f"/orders/{sid}/fulfillments", json=ship, headers=admin).json()
    assert http.get(f"/fulfillments/{first['id']}", headers=ann).json()["status"] == "fulfilled"
    assert http.post(f"/fulfillments/{first['id']}/cancel", headers=admin).json()["status"] == "cancelled"
    assert http.post(f"/orders/{sid}/fulfillments", json=ship, headers=admin).status_code == 201
    shipments = http.get(f"/orders/{sid}/fulfillments", headers=ann).json()
    assert [f["status"] for f in shipments] == ["cancelled", "fulfilled"]
    back = {"lines": [{"order_line_id": line, "quantity": 1, "reason": "too small", "restock": True}]}
    asked = http.post(f"/orders/{sid}/returns", json=back, headers=ann).json()
    assert asked["status"] == "requested"
    refused = http.post(f"/returns/{asked['id']}/reject", json={"reason": "worn"}, headers=admin)
    assert refused.json()["status"] == "rejected"
    taken = http.post(f"/orders/{sid}/returns", json=back, headers=admin).json()
    assert (
        taken["status"] == "accepted" and http.get(f"/returns/{taken['id']}", headers=ann).status_code == 200
    )
    assert [r["status"] for r in http.get(f"/orders/{sid}/returns", headers=ann).json()] == [
        "rejected",
        "accepted",
    ]
    assert (
        http.post(f"/returns/{taken['id']}/refund", json={"reference": "re_1"}, headers=admin).status_code
        == 201
    )
    goodwill = {"amount": "3.00", "reason": "the overpayment", "reference": "gw_1"}
    assert http.post(f"/orders/{sid}/refunds", json=goodwill, headers=admin).status_code == 201
    refunds = http.get(f"/orders/{sid}/refunds", headers=ann).json()
    assert [r["amount"] for r in refunds] == ["12.00", "3.00"]
    assert http.get(f"/orders/{sid}", headers=ann).json()["payment_status"] == "refunded"

    assert http.delete(f"/products/{product['id']}", headers=admin).status_code == 204
    assert http.delete(f"/categories/{child['id']}", headers=admin).status_code == 204
    assert http.get(f"/products/{product['id']}").json()["category_id"] is None
    assert http.delete(f"/users/{ann_id}", headers=ann).status_code == 204
    assert http.get("/users/me", headers=ann).status_code == 401
