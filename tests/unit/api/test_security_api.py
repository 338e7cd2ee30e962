"""What a hostile client can send and try: no 500, bounded echoes, strict numbers, throttling, revocation,
security headers and CORS."""

import json
from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.settings import Settings
from domain.catalog import MAX_STOCK
from entrypoints.api.app import create_app
from entrypoints.container import Container
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWorkRunner
from tests.doubles.security import FastPasswordHasher
from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/categories", '{"name": "\\ud800"}'),
        ("/categories", '{"\\ud800": "x", "name": "Books"}'),
        ("/orders", '{"items": [{"product_id": 1, "quantity": 1, "\\udfff": 1}]}'),
        ("/orders", '{"items": [{"product_id": 1, "quantity": "\\ud800"}]}'),
        ("/products", '{"name": "x\\u0000", "sku": "A-1", "price": "1.00"}'),
    ],
    ids=["surrogate-value", "surrogate-key", "surrogate-key-in-a-line", "surrogate-quantity", "nul"],
)
def test_unencodable_input_is_a_422_not_a_500(api: Api, admin, path: str, body: str) -> None:
    before = dump(api.store)
    response = api.client.post(path, content=body.encode(), headers={**admin, **JSON})
    assert response.status_code == 422
    response.content.decode("utf-8")  # the echo is valid UTF-8
    assert dump(api.store) == before


def test_a_422_echoes_a_short_excerpt_not_the_whole_input(api: Api, admin) -> None:
    lines = [{"product_id": i, "quantity": 1} for i in range(1, 10_001)]
    response = api.client.post("/orders", json={"items": lines}, headers=admin)
    assert response.status_code == 422 and len(response.content) < 1024
    long_name = api.client.post("/categories", json={"name": "n" * 5000}, headers=admin)
    echoed = long_name.json()["detail"][0]["input"]
    assert long_name.status_code == 422 and echoed.startswith("nnn") and len(echoed) <= 81


@pytest.mark.parametrize(
    "line",
    [
        {"product_id": 1, "quantity": True},
        {"product_id": 1, "quantity": "2"},
        {"product_id": "1", "quantity": 1},
        {"product_id": 1, "quantity": 2.0},
    ],
    ids=["bool-quantity", "string-quantity", "string-id", "float-quantity"],
)
def test_counts_and_ids_must_be_json_integers(api: Api, admin, line: dict) -> None:
    product = api.product(admin, "A-1", stock_quantity=5)
    headers, _ = api.customer()
    before = dump(api.store)
    product_id = str(product["id"]) if isinstance(line["product_id"], str) else product["id"]
    response = api.client.post(
        "/orders", json={"items": [{**line, "product_id": product_id}]}, headers=headers
    )
    assert response.status_code == 422
    for body in ({"delta": True, "reason": "r"}, {"delta": "5", "reason": "r"}):
        assert (
            api.client.post(f"/products/{product['id']}/stock", json=body, headers=admin).status_code == 422
        )
    assert dump(api.store) == before


@pytest.mark.parametrize("email", ["ann\u200b@shop.test", "ann\u202e@shop.test", "an\u0000n@shop.test"])
def test_emails_with_invisible_or_control_characters_are_refused(api: Api, email: str) -> None:
    response = api.client.post("/users", json={"email": email, "name": "Ann", "password": "plum-kettle-42"})
    assert response.status_code == 422 and api.store.tables.users.keys() == {1}  # the admin only


def test_emails_are_stored_in_nfkc(api: Api) -> None:
    body = {"email": "\uff41nn@shop.test", "name": "Ann", "password": "plum-kettle-42"}  # full-width a
    assert api.client.post("/users", json=body).json()["email"] == "ann@shop.test"


def test_anonymous_include_inactive_is_401_a_customers_403(api: Api) -> None:
    anonymous = api.client.get("/products", params={"include_inactive": True})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    customer, _ = api.customer()
    assert api.client.get("/products", params={"include_inactive": True}, headers=customer).status_code == 403


def test_a_cancel_never_pushes_stock_past_the_maximum(api: Api, admin) -> None:
    product = api.product(admin, "A-1", stock_quantity=10)
    headers, _ = api.customer()
    order = api.order(headers, (product["id"], 5))
    api.client.patch(
        f"/products/{product['id']}",
        json={"stock_quantity": MAX_STOCK - 1, "stock_reason": "recount"},
        headers=admin,
    )
    response = api.client.delete(f"/orders/{order['id']}", headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.stock(product["id"]) == MAX_STOCK


def test_log_out_revokes_every_token_of_the_caller(api: Api) -> None:
    phone, _ = api.customer()
    laptop = api.login("ann@shop.test", "plum-kettle-42")
    assert api.client.post("/auth/logout", headers=phone).status_code == 204
    for headers in (phone, laptop):
        assert api.client.get("/users/me", headers=headers).status_code == 401
    assert (
        api.client.get("/users/me", headers=api.login("ann@shop.test", "plum-kettle-42")).status_code == 200
    )


def test_too_many_failed_logins_are_429_with_retry_after(api: Api) -> None:
    api.customer()
    wrong = {"username": "ann@shop.test", "password": "wrong-pass"}
    assert [api.client.post("/auth/token", data=wrong).status_code for _ in range(5)] == [401] * 5
    refused = api.client.post("/auth/token", data={"username": "ann@shop.test", "password": "plum-kettle-42"})
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == str(15 * 60)
    assert refused.json()["type"] == "/problems/too-many-attempts"


def test_security_headers(api: Api, admin) -> None:
    public = api.client.get("/products")
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    assert api.client.get("/users/me", headers=admin).headers["Cache-Control"] == "no-store"
    token = api.client.post(
        "/auth/token", data={"username": "admin@shop.test", "password": "quartz-lantern-7"}
    )
    assert token.headers["Cache-Control"] == "no-store"
    assert "server" not in {name.lower() for name in public.headers}
    assert "script-src 'self'" in api.client.get("/docs").headers["Content-Security-Policy"]


def app_with(**settings: object) -> TestClient:
    container = Container()
    config = Settings(env="test", secret_key="k" * 40, _env_file=None, **settings)  # type: ignore[arg-type]
    container.settings.override(providers.Object(config))
    container.unit_of_work_runner.override(providers.Object(InMemoryUnitOfWorkRunner(InMemoryStore())))
    container.password_hasher.override(providers.Object(FastPasswordHasher()))
    return TestClient(create_app(container))


@pytest.fixture
def cors_client() -> Iterator[TestClient]:
    with app_with(cors_origins="https://shop.example") as client:
        yield client


def test_cors_is_off_by_default(api: Api) -> None:
    preflight = api.client.options(
        "/products", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = api.client.get("/products", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_allows_the_configured_origins_only(cors_client: TestClient) -> None:
    allowed = cors_client.options(
        "/orders",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    other = cors_client.get("/products", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_registrations_per_address_are_throttled() -> None:
    with app_with(registration_limit_per_address="2/1h") as client:
        codes = [
            client.post(
                "/users",
                content=json.dumps({"email": f"u{i}@shop.test", "name": "U", "password": "plum-kettle-42"}),
                headers=JSON,
            ).status_code
            for i in range(3)
        ]
        refused_login = client.post(
            "/auth/token", data={"username": "u2@shop.test", "password": "plum-kettle-42"}
        )
    assert codes == [201, 201, 429]
    assert refused_login.status_code == 401  # the refused registration made no account


def test_ones_own_email_changes_share_the_registration_budget_of_the_client() -> None:
    """A caller who proved their own password still asks "is this address taken?" no more often than
    POST /users lets them."""
    with app_with(registration_limit_per_address="3/1h") as client:
        for email in ("ann@shop.test", "bob@shop.test"):  # two of the client's three
            body = {"email": email, "name": "N", "password": "plum-kettle-42"}
            assert client.post("/users", content=json.dumps(body), headers=JSON).status_code == 201
        token = client.post("/auth/token", data={"username": "ann@shop.test", "password": "plum-kettle-42"})
        ann = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = client.get("/users/me", headers=ann).json()
        probes = [
            client.patch(
                f"/users/{me['id']}", json={"email": email, "current_password": "plum-kettle-42"}, headers=ann
            )
            for email in ("bob@shop.test", "free@shop.test")
        ]
        after = client.get("/users/me", headers=ann).json()
    assert [p.status_code for p in probes] == [409, 429]
    assert probes[1].json()["type"] == "/problems/too-many-attempts"
    assert after == me  # neither probe changed the account
