"""Health, docs, OpenAPI and the cross-cutting error rules."""

import json

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump


def test_health(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok", "database": "ok"}
    api.probe.reachable = False
    response = api.client.get("/health")
    assert response.status_code == 503 and response.json() == {
        "status": "unavailable",
        "database": "unreachable",
    }


def test_liveness_does_no_io_and_readiness_names_what_is_missing(api: Api) -> None:
    assert api.client.get("/health/ready").json() == {"status": "ready", "reason": None}
    api.probe.migrated = False
    not_migrated = api.client.get("/health/ready")
    assert not_migrated.status_code == 503 and "shop migrate" in not_migrated.json()["reason"]
    assert api.client.get("/health").status_code == 200  # reachable: the contract's health is fine
    api.probe.reachable = False
    down = api.client.get("/health/ready")
    assert (down.status_code, down.json()["reason"]) == (503, "database unreachable")
    assert api.client.get("/health/live").json() == {"status": "ok"}


def test_oversized_body_is_413(api: Api, admin) -> None:
    before = dump(api.store)
    big = {"name": "x", "sku": "X-1", "price": "1.00", "description": "y" * (1024 * 1024)}
    response = api.client.post(
        "/products", content=json.dumps(big), headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"

    def chunks():
        yield b'{"name": "x", "sku": "X-1", "price": "1.00", "description": "'
        for _ in range(1100):
            yield b"z" * 1024
        yield b'"}'

    streamed = api.client.post(
        "/products", content=chunks(), headers={**admin, "content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert dump(api.store) == before


def test_hostile_bodies_get_a_clear_4xx(api: Api, admin) -> None:
    before = dump(api.store)
    headers = {**admin, "content-type": "application/json"}
    for body in [b"\xff\xfe not utf-8", b"[" * 5000 + b"]" * 5000, b'{"name": 1e400}', b"null", b"{"]:
        response = api.client.post("/products", content=body, headers=headers)
        assert 400 <= response.status_code < 500, (body[:20], response.status_code)
    huge = api.client.post("/products", json={"name": "x", "sku": "X-1", "price": 10**30}, headers=admin)
    assert huge.status_code == 422
    assert api.client.get("/products/99999999999999999999").status_code == 422
    assert dump(api.store) == before


def test_unknown_route_is_a_problem(api: Api) -> None:
    response = api.client.get("/nope")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_openapi_lists_every_contract_route_with_its_errors(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    routes = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routes == {
        ("/auth/token", "post"), ("/auth/logout", "post"), ("/users", "post"), ("/users", "get"),
        ("/users/me", "get"), ("/users/top-spenders", "get"), ("/users/{user_id}/stats", "get"),
        ("/users/me", "get"), ("/users/bulk", "post"), ("/users/bulk-deactivate", "post"),
        ("/users/stats", "get"), ("/users/{user_id}/erase", "post"),
        ("/users/{user_id}", "get"), ("/users/{user_id}", "patch"), ("/users/{user_id}", "delete"),
        ("/categories", "post"), ("/categories", "get"), ("/categories/{category_id}", "get"),
        ("/categories/{category_id}", "patch"), ("/categories/{category_id}", "delete"),
        ("/categories/stats", "get"), ("/categories/{category_id}/stats", "get"),
        ("/products", "post"), ("/products", "get"), ("/products/{product_id}", "get"),
        ("/products/{product_id}", "patch"), ("/products/{product_id}", "delete"),
        ("/products/{product_id}/stock", "post"), ("/products/{product_id}/stock-movements", "get"),
        ("/orders", "post"), ("/orders", "get"),
        ("/orders/stats", "get"), ("/orders/{order_id}", "get"), ("/orders/{order_id}", "delete"),
        ("/orders/{order_id}/events", "get"), ("/orders/{order_id}/status", "patch"), ("/health", "get"),
        ("/health/live", "get"), ("/health/ready", "get"),
        ("/events", "get"), ("/webhooks", "post"), ("/webhooks", "get"), ("/webhooks/{webhook_id}", "get"),
        ("/webhooks/{webhook_id}", "patch"), ("/webhooks/{webhook_id}", "delete"),
        ("/webhooks/{webhook_id}/deliveries", "get"),
        ("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", "post"),
        ("/users/me/addresses", "get"), ("/users/me/addresses", "post"),
        ("/users/me/addresses/{address_id}", "get"), ("/users/me/addresses/{address_id}", "patch"),
        ("/users/me/addresses/{address_id}", "delete"),
        ("/users/{user_id}/addresses", "get"), ("/users/{user_id}/addresses", "post"),
        ("/users/{user_id}/addresses/{address_id}", "get"),
        ("/users/{user_id}/addresses/{address_id}", "patch"),
        ("/users/{user_id}/addresses/{address_id}", "delete"),
        ("/orders/{order_id}/shipping-address", "put"),
        ("/orders/{order_id}/payments", "post"), ("/orders/{order_id}/payments", "get"),
        ("/payments/{payment_id}/capture", "post"), ("/payments/{payment_id}/void", "post"),
        ("/payments/{payment_id}/refunds", "post"),
        ("/orders/{order_id}/fulfillments", "post"), ("/orders/{order_id}/fulfillments", "get"),
        ("/fulfillments/{fulfillment_id}", "get"), ("/fulfillments/{fulfillment_id}/cancel", "post"),
        ("/orders/{order_id}/returns", "post"), ("/orders/{order_id}/returns", "get"),
        ("/returns/{return_id}", "get"), ("/returns/{return_id}/accept", "post"),
        ("/returns/{return_id}/reject", "post"), ("/returns/{return_id}/refund", "post"),
        ("/orders/{order_id}/refunds", "post"), ("/orders/{order_id}/refunds", "get"),
    }  # fmt: skip
    for path, method, codes in (
        ("/orders/{order_id}/returns", "post", {"201", "401", "403", "404", "409", "422"}),
        ("/returns/{return_id}/accept", "post", {"200", "401", "403", "404", "409"}),
        ("/returns/{return_id}/reject", "post", {"200", "401", "403", "404", "409", "422"}),
        ("/returns/{return_id}/refund", "post", {"200", "201", "401", "403", "404", "409", "422"}),
        ("/orders/{order_id}/refunds", "post", {"200", "201", "401", "403", "404", "409", "422"}),
    ):
        assert codes <= set(spec["paths"][path][method]["responses"])
    place = spec["paths"]["/orders"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "422"} <= set(place)
    assert "application/problem+json" in place["400"]["content"]
    assert "429" in spec["paths"]["/auth/token"]["post"]["responses"]
    assert {"401", "403", "422"} <= set(spec["paths"]["/orders/stats"]["get"]["responses"])
    assert {"401", "403", "422"} <= set(spec["paths"]["/users/top-spenders"]["get"]["responses"])
    assert {"401", "404"} <= set(spec["paths"]["/users/{user_id}/stats"]["get"]["responses"])
    bulk = spec["paths"]["/users/bulk"]["post"]["responses"]
    assert {"201", "401", "403", "409", "422"} <= set(bulk)
    assert "application/problem+json" in bulk["409"]["content"]
    assert {"200", "401", "403", "404", "409"} <= set(
        spec["paths"]["/users/{user_id}/erase"]["post"]["responses"]
    )
    assert {"200", "401", "403"} <= set(spec["paths"]["/users/stats"]["get"]["responses"])
    assert {"200", "401", "403", "422"} <= set(spec["paths"]["/users/bulk-deactivate"]["post"]["responses"])
    add = spec["paths"]["/users/me/addresses"]["post"]["responses"]
    assert {"201", "401", "409", "422"} <= set(add)
    assert "application/problem+json" in add["409"]["content"]
    assert {"200", "401", "404"} <= set(
        spec["paths"]["/users/{user_id}/addresses/{address_id}"]["get"]["responses"]
    )
    change = spec["paths"]["/orders/{order_id}/shipping-address"]["put"]["responses"]
    assert {"200", "400", "401", "404", "409", "412", "422"} <= set(change)
    paths = spec["paths"]
    for path in ("/orders/{order_id}/payments", "/payments/{payment_id}/refunds"):
        assert {"200", "201", "401", "403", "404", "409", "422"} <= set(paths[path]["post"]["responses"])
        assert "application/problem+json" in paths[path]["post"]["responses"]["409"]["content"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(
        paths["/payments/{payment_id}/capture"]["post"]["responses"]
    )
    assert {"200", "401", "403", "404", "409"} <= set(
        paths["/payments/{payment_id}/void"]["post"]["responses"]
    )
    assert {"200", "401", "404"} <= set(paths["/orders/{order_id}/payments"]["get"]["responses"])
    fulfil = paths["/orders/{order_id}/fulfillments"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(fulfil)
    assert "application/problem+json" in fulfil["409"]["content"]
    assert {"200", "401", "404"} <= set(paths["/orders/{order_id}/fulfillments"]["get"]["responses"])
    assert {"200", "401", "404"} <= set(paths["/fulfillments/{fulfillment_id}"]["get"]["responses"])
    assert {"200", "401", "403", "404", "409"} <= set(
        paths["/fulfillments/{fulfillment_id}/cancel"]["post"]["responses"]
    )
    assert "409" in paths["/orders/{order_id}"]["delete"]["responses"]
    assert "409" in paths["/orders/{order_id}/status"]["patch"]["responses"]


def test_docs_are_served_without_a_cdn(api: Api) -> None:
    page = api.client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert api.client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
