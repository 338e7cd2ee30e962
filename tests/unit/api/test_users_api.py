"""/auth/token and /users over the fakes: every route and every error status the contract lists."""

from datetime import timedelta

import pytest

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

PROBLEM = "application/problem+json"


def test_register_and_read_me(api: Api) -> None:
    response = api.client.post(
        "/users", json={"email": "Ann@Shop.test", "name": "Ann", "password": "plum-kettle-42"}
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"/users/{body['id']}"
    assert set(body) == {
        "id",
        "email",
        "name",
        "is_active",
        "is_admin",
        "created_at",
        "updated_at",
        "last_login_at",
    }
    assert (body["email"], body["is_admin"], body["created_at"]) == (
        "ann@shop.test",
        False,
        "2026-11-22T10:00:00Z",
    )
    me = api.client.get("/users/me", headers=api.login("ann@shop.test", "plum-kettle-42"))
    assert me.status_code == 200 and me.json()["id"] == body["id"]


def test_register_duplicate_email_is_409_and_changes_nothing(api: Api) -> None:
    api.customer("ann@shop.test")
    before = dump(api.store)
    response = api.client.post(
        "/users", json={"email": "ANN@shop.test", "name": "X", "password": "plum-kettle-42"}
    )
    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    assert set(response.json()) == {"type", "title", "status", "detail", "request_id"}
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    assert dump(api.store) == before


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "name": "A", "password": "plum-kettle-42"},
        {"email": "a@b.test", "name": "", "password": "plum-kettle-42"},
        {"email": "a@b.test", "name": "A", "password": "short"},
        {"email": "a@b.test", "name": "A", "password": "x" * 1025},
        {"email": "a@b.test", "name": "A", "password": "plum-kettle-42", "is_admin": True},
    ],
)
def test_register_schema_errors_are_422(api: Api, body: dict) -> None:
    before = dump(api.store)
    response = api.client.post("/users", json=body)
    assert response.status_code == 422 and isinstance(response.json()["detail"], list)
    assert dump(api.store) == before


@pytest.mark.parametrize(
    ("username", "password"), [("nobody@shop.test", "plum-kettle-42"), ("ann@shop.test", "wrong-password")]
)
def test_login_failures_are_the_same_401(api: Api, username: str, password: str) -> None:
    api.customer()
    response = api.client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "incorrect email or password."


def test_token_shape(api: Api) -> None:
    api.customer()
    body = api.client.post(
        "/auth/token", data={"username": "ann@shop.test", "password": "plum-kettle-42"}
    ).json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 1800) and body["access_token"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}]
)
def test_protected_routes_need_a_valid_token(api: Api, headers: dict) -> None:
    response = api.client.get("/users/me", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM


def test_expired_token_is_401(api: Api, clock) -> None:
    headers, _ = api.customer()
    clock.advance(timedelta(minutes=31))
    assert api.client.get("/users/me", headers=headers).status_code == 401


def test_deactivated_user_is_locked_out_at_once(api: Api, admin) -> None:
    headers, user_id = api.customer()
    assert api.client.delete(f"/users/{user_id}", headers=admin).status_code == 204
    assert api.client.get("/users/me", headers=headers).status_code == 401
    login = api.client.post("/auth/token", data={"username": "ann@shop.test", "password": "plum-kettle-42"})
    assert login.status_code == 401 and api.store.tables.users[user_id].is_active is False


def test_list_users_admin_only_with_filters(api: Api, admin) -> None:
    ann, _ = api.customer("ann@shop.test")
    api.customer("bob@example.org")
    assert api.client.get("/users", headers=ann).status_code == 403
    assert api.client.get("/users").status_code == 401
    body = api.client.get("/users", params={"q": "EXAMPLE", "is_active": True}, headers=admin).json()
    assert [u["email"] for u in body["items"]] == ["bob@example.org"]
    assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)
    assert api.client.get("/users", params={"limit": 1}, headers=admin).json()["total"] == 3


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}])
def test_out_of_range_paging_is_422(api: Api, admin, params: dict) -> None:
    assert api.client.get("/users", params=params, headers=admin).status_code == 422


def test_get_user_self_admin_and_others(api: Api, admin) -> None:
    ann, ann_id = api.customer("ann@shop.test")
    _, bob_id = api.customer("bob@shop.test")
    assert api.client.get(f"/users/{ann_id}", headers=ann).status_code == 200
    assert api.client.get(f"/users/{bob_id}", headers=admin).status_code == 200
    assert api.client.get(f"/users/{bob_id}", headers=ann).status_code == 404
    assert api.client.get("/users/999", headers=admin).status_code == 404
    assert api.client.get(f"/users/{bob_id}").status_code == 401


def test_patch_user(api: Api, admin) -> None:
    ann, ann_id = api.customer("ann@shop.test")
    response = api.client.patch(
        f"/users/{ann_id}",
        json={"name": "Anne", "password": "fresh-kettle-9", "current_password": "plum-kettle-42"},
        headers=ann,
    )
    assert response.status_code == 200 and response.json()["name"] == "Anne"
    assert api.client.get("/users/me", headers=ann).status_code == 401  # the new password revoked it
    api.login("ann@shop.test", "fresh-kettle-9")
    promoted = api.client.patch(f"/users/{ann_id}", json={"is_admin": True}, headers=admin)
    assert promoted.json()["is_admin"] is True


def test_patch_user_failures_change_nothing(api: Api, admin) -> None:
    ann, ann_id = api.customer("ann@shop.test")
    _, bob_id = api.customer("bob@shop.test")
    before = dump(api.store)
    cases = [
        (f"/users/{ann_id}", {"is_admin": True}, ann, 403),
        (f"/users/{ann_id}", {"email": "BOB@shop.test", "current_password": "plum-kettle-42"}, ann, 409),
        (f"/users/{ann_id}", {"email": "new@shop.test"}, ann, 422),
        (f"/users/{ann_id}", {"password": "fresh-kettle-9"}, ann, 422),
        (f"/users/{ann_id}", {"password": "fresh-kettle-9", "current_password": "wrong-pass"}, ann, 403),
        (
            f"/users/{ann_id}",
            {"email": "ann\u200b@shop.test", "current_password": "plum-kettle-42"},
            ann,
            422,
        ),
        (f"/users/{bob_id}", {"name": "x"}, ann, 404),
        ("/users/999", {"name": "x"}, admin, 404),
        (f"/users/{ann_id}", {"name": None}, ann, 422),
        (f"/users/{ann_id}", {"unknown": 1}, ann, 422),
        (f"/users/{ann_id}", {"name": "x"}, {}, 401),
    ]
    for url, body, headers, expected in cases:
        assert api.client.patch(url, json=body, headers=headers).status_code == expected, (url, body)
    assert dump(api.store) == before


def test_delete_user(api: Api, admin) -> None:
    ann, ann_id = api.customer("ann@shop.test")
    _, bob_id = api.customer("bob@shop.test")
    before = dump(api.store)
    assert api.client.delete(f"/users/{bob_id}", headers=ann).status_code == 404
    assert api.client.delete(f"/users/{bob_id}").status_code == 401
    assert dump(api.store) == before
    response = api.client.delete(f"/users/{ann_id}", headers=ann)
    assert response.status_code == 204 and response.content == b""
    assert api.store.tables.users[ann_id].is_active is False


def test_a_taken_email_is_told_only_to_a_caller_who_proved_the_password(api: Api) -> None:
    ann, ann_id = api.customer("ann@shop.test")
    api.customer("bob@shop.test")
    before = dump(api.store)

    def change_email(email: str, current_password: str) -> tuple[int, str | None]:
        response = api.client.patch(
            f"/users/{ann_id}", json={"email": email, "current_password": current_password}, headers=ann
        )
        return response.status_code, response.json().get("type")

    refused = ("/problems/incorrect-password", "/problems/too-many-attempts")
    guesses = [change_email(email, "anything") for email in ["bob@shop.test", "free@shop.test"] * 4]
    # Taken or free, the same answer; the wrong passwords count, so probing ends at the limit (5 a client).
    assert [status for status, _ in guesses] == [403] * 5 + [429] * 3
    assert {kind for _, kind in guesses} == set(refused)
    assert dump(api.store) == before
