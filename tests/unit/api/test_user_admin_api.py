"""Issue 26's user routes over HTTP (in process, over the fakes): bulk registration and deactivation,
erasure, statistics, the weak-password problem and last_login_at. Each refusal asserts its answer and
that nothing changed."""

from datetime import timedelta

import pytest

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

PROBLEM = "application/problem+json"
GOOD = "plum-kettle-42"


def user(email: str, password: str = GOOD, name: str = "U") -> dict[str, str]:
    return {"email": email, "name": name, "password": password}


def test_log_in_shows_in_last_login_at(api: Api, clock) -> None:
    headers, ann_id = api.customer()
    first = api.client.get("/users/me", headers=headers).json()["last_login_at"]
    assert first == "2026-11-22T10:00:00Z"
    clock.advance(timedelta(hours=1))
    again = api.login("ann@shop.test", GOOD)
    assert api.client.get(f"/users/{ann_id}", headers=again).json()["last_login_at"] == "2026-11-22T11:00:00Z"


def test_registration_with_a_common_password_is_a_weak_password_problem(api: Api) -> None:
    before = dump(api.store)
    response = api.client.post("/users", json=user("zed@shop.test", "Password1"))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/problems/weak-password"
    assert response.json()["detail"] == (
        "the password is too weak: it is one of the most common passwords found in breaches."
    )
    assert "index" not in response.json()
    assert dump(api.store) == before


def test_longer_passwords_are_allowed_up_to_1024(api: Api) -> None:
    assert api.client.post("/users", json=user("long@shop.test", "k7!qzT#w" * 128)).status_code == 201
    too_long = api.client.post("/users", json=user("longer@shop.test", "k7!qzT#w" * 128 + "x"))
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "password"]


def test_own_password_change_is_checked(api: Api) -> None:
    headers, ann_id = api.customer()
    before = dump(api.store)
    response = api.client.patch(
        f"/users/{ann_id}", json={"password": "ann-is-me-1", "current_password": GOOD}, headers=headers
    )
    assert response.status_code == 422 and response.json()["type"] == "/problems/weak-password"
    assert "local part" in response.json()["detail"]
    assert dump(api.store) == before


# --- POST /users/bulk -----------------------------------------------------------------------------------


def test_bulk_registration_creates_all(api: Api, admin) -> None:
    body = {"users": [user("a@shop.test"), user("B@shop.test", name="Bea")]}
    response = api.client.post("/users/bulk", json=body, headers=admin)
    assert response.status_code == 201
    created = response.json()["users"]
    assert [(u["email"], u["name"], u["is_admin"]) for u in created] == [
        ("a@shop.test", "U", False),
        ("b@shop.test", "Bea", False),
    ]
    assert set(created[0]) == {
        "id",
        "email",
        "name",
        "is_active",
        "is_admin",
        "created_at",
        "updated_at",
        "last_login_at",
    }
    assert api.login("b@shop.test", GOOD)


@pytest.mark.parametrize(
    ("rows", "status", "kind", "index", "detail"),
    [
        (
            [user("a@shop.test"), user("taken@shop.test")],
            409,
            "/problems/conflict",
            1,
            "row 1: the email taken@shop.test is already registered.",
        ),
        (
            [user("a@shop.test"), user("b@shop.test"), user("A@shop.test")],
            409,
            "/problems/conflict",
            2,
            "row 2: the email a@shop.test is also in row 0.",
        ),
        (
            [
                user("a@shop.test"),
                user("b@shop.test"),
                user("c@shop.test"),
                user("d@shop.test", "qwertyuiop"),
            ],
            422,
            "/problems/weak-password",
            3,
            "row 3: the password is too weak: it is one of the most common passwords found in breaches.",
        ),
    ],
    ids=["registered", "twice", "weak"],
)
def test_a_refused_bulk_row_is_named_by_index(api: Api, admin, rows, status, kind, index, detail) -> None:
    api.customer("taken@shop.test")
    before = dump(api.store)
    response = api.client.post("/users/bulk", json={"users": rows}, headers=admin)
    assert response.status_code == status and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["index"], body["detail"], body["status"]) == (kind, index, detail, status)
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert dump(api.store) == before


@pytest.mark.parametrize(
    "body",
    [
        {"users": []},
        {"users": [user("a@shop.test")] * 101},
        {"users": [user("a@shop.test"), user("not-an-email")]},
        {"users": [user("a@shop.test", "short")]},
        {"users": [{**user("a@shop.test"), "is_admin": True}]},
        {"users": [user("a@shop.test")], "extra": 1},
    ],
    ids=["empty", "101", "bad-email", "short-password", "is-admin", "extra"],
)
def test_bulk_schema_errors_are_422_naming_the_row(api: Api, admin, body) -> None:
    before = dump(api.store)
    response = api.client.post("/users/bulk", json=body, headers=admin)
    assert response.status_code == 422 and isinstance(response.json()["detail"], list)
    if len(body["users"]) == 2:
        assert response.json()["detail"][0]["loc"][:3] == ["body", "users", 1]
    assert dump(api.store) == before


def test_bulk_routes_are_for_admins(api: Api) -> None:
    headers, ann_id = api.customer()
    before = dump(api.store)
    calls = [
        ("/users/bulk", {"users": [user("x@shop.test")]}),
        ("/users/bulk-deactivate", {"ids": [ann_id]}),
        (f"/users/{ann_id}/erase", None),
    ]
    for path, body in calls:
        response = api.client.post(path, json=body, headers=headers)
        assert response.status_code == 403 and response.headers["content-type"] == PROBLEM, path
        assert api.client.post(path, json=body).status_code == 401
    assert api.client.get("/users/stats", headers=headers).status_code == 403
    assert api.client.get("/users/stats").status_code == 401
    assert dump(api.store) == before


# --- POST /users/bulk-deactivate ------------------------------------------------------------------------


def test_bulk_deactivation_by_ids_and_by_time(api: Api, admin, clock) -> None:
    ann_headers, ann = api.customer("ann@shop.test")
    _, bob = api.customer("bob@shop.test")
    _, cid = api.customer("cid@shop.test")  # logs in at registration (api.customer), at t0
    by_ids = api.client.post("/users/bulk-deactivate", json={"ids": [ann, 1, 424242]}, headers=admin)
    assert (by_ids.status_code, by_ids.json()) == (200, {"deactivated": 1})
    assert api.client.get("/users/me", headers=ann_headers).status_code == 401  # tokens revoked
    clock.advance(timedelta(days=2))
    api.login("cid@shop.test", GOOD)  # cid is seen at t0 + 2 d; bob last at t0
    admin = api.login("admin@shop.test", "quartz-lantern-7")  # the earlier token has expired
    cutoff = "2026-11-23T10:00:00+00:00"
    by_time = api.client.post("/users/bulk-deactivate", json={"last_login_before": cutoff}, headers=admin)
    assert by_time.json() == {"deactivated": 1}
    states = {u: api.store.tables.users[u].is_active for u in (1, ann, bob, cid)}
    assert states == {1: True, ann: False, bob: False, cid: True}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [1], "last_login_before": "2026-01-01T00:00:00Z"},
        {"ids": []},
        {"ids": list(range(1, 1002))},
        {"ids": ["1"]},
        {"ids": [0]},
        {"last_login_before": "yesterday"},
    ],
    ids=["neither", "both", "no-ids", "1001-ids", "string-id", "zero-id", "bad-time"],
)
def test_bulk_deactivation_schema_errors(api: Api, admin, body) -> None:
    api.customer()
    before = dump(api.store)
    response = api.client.post("/users/bulk-deactivate", json=body, headers=admin)
    assert response.status_code == 422 and isinstance(response.json()["detail"], list)
    assert dump(api.store) == before


# --- POST /users/{id}/erase -----------------------------------------------------------------------------


def test_erase_answers_the_anonymised_user_twice_alike(api: Api, admin) -> None:
    headers, ann = api.customer()
    product = api.product(admin)
    order = api.order(headers, (product["id"], 1))
    first = api.client.post(f"/users/{ann}/erase", headers=admin)
    assert first.status_code == 200
    assert (first.json()["email"], first.json()["name"], first.json()["is_active"]) == (
        f"erased-{ann}@erased.invalid",
        "Erased user",
        False,
    )
    second = api.client.post(f"/users/{ann}/erase", headers=admin)
    assert second.json() == first.json()
    kept = api.client.get(f"/orders/{order['id']}", headers=admin).json()
    assert (kept["user_id"], kept["total_amount"]) == (ann, order["total_amount"])
    assert api.client.get("/users/me", headers=headers).status_code == 401
    assert (
        api.client.post("/auth/token", data={"username": "ann@shop.test", "password": GOOD}).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("target", "status", "kind"), [(1, 409, "/problems/conflict"), (999, 404, "/problems/not-found")]
)
def test_erase_refusals(api: Api, admin, target, status, kind) -> None:
    before = dump(api.store)
    response = api.client.post(f"/users/{target}/erase", headers=admin)
    assert response.status_code == status and response.json()["type"] == kind
    assert dump(api.store) == before


def test_erasing_another_admin_is_409_admin_not_erasable(api: Api, admin) -> None:
    _, bob = api.customer("bob@shop.test")
    api.client.patch(f"/users/{bob}", json={"is_admin": True}, headers=admin)
    before = dump(api.store)
    response = api.client.post(f"/users/{bob}/erase", headers=admin)
    assert response.status_code == 409 and response.json()["type"] == "/problems/admin-not-erasable"
    assert "demote them" in response.json()["detail"]
    assert dump(api.store) == before


# --- GET /users/stats -----------------------------------------------------------------------------------


def test_user_stats(api: Api, admin, clock) -> None:
    headers, ann = api.customer("ann@shop.test")
    clock.advance(timedelta(days=1))
    _, bob = api.customer("bob@shop.test")
    admin = api.login("admin@shop.test", "quartz-lantern-7")  # the earlier token has expired
    headers = api.login("ann@shop.test", GOOD)
    api.client.delete(f"/users/{bob}", headers=admin)
    api.order(headers, (api.product(admin)["id"], 1))
    response = api.client.get("/users/stats", headers=admin)
    assert response.json() == {
        "total": 3,
        "active": 2,
        "inactive": 1,
        "admins": 1,
        "registered": 3,
        "with_orders": 1,
    }
    period = {"registered_from": "2026-11-23T00:00:00Z", "registered_to": "2026-11-23T10:00:00Z"}
    assert api.client.get("/users/stats", params=period, headers=admin).json()["registered"] == 1
    naive = {"registered_to": "2026-11-22T10:00:00"}  # no offset: UTC
    assert api.client.get("/users/stats", params=naive, headers=admin).json()["registered"] == 2
    assert api.client.get("/users/stats", params={"registered_from": "x"}, headers=admin).status_code == 422
