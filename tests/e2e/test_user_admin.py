"""Issue 26's user administration against the live service (2 workers, PostgreSQL, real Argon2): bulk
registration all or none, bulk deactivation revoking tokens on every worker, erasure keeping orders, and the
statistics, each refusal leaving the database as it was."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from tests.e2e.conftest import Client

GOOD = "plum-kettle-42"


def users_table(engine: Engine) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text("SELECT * FROM users ORDER BY id"))]


def test_bulk_users_erase_and_stats_on_postgresql(client: Client, e2e_engine: Engine) -> None:
    admin = client.admin()
    rows = [{"email": f"u{i}@shop.test", "name": f"U{i}", "password": f"{GOOD}-{i}"} for i in range(5)]
    before = users_table(e2e_engine)
    refused = client.http.post(
        "/users/bulk",
        json={"users": [*rows, {**rows[0], "email": "x@shop.test", "password": "password1"}]},
        headers=admin,
    )
    assert (refused.status_code, refused.json()["index"], refused.json()["type"]) == (
        422,
        5,
        "/problems/weak-password",
    )
    assert users_table(e2e_engine) == before
    created = client.http.post("/users/bulk", json={"users": rows}, headers=admin)
    assert created.status_code == 201, created.text
    ids = [u["id"] for u in created.json()["users"]]
    again = client.http.post("/users/bulk", json={"users": rows[:1]}, headers=admin)
    assert (again.status_code, again.json()["index"]) == (409, 0)

    u0 = client.login("u0@shop.test", f"{GOOD}-0")
    me = client.http.get("/users/me", headers=u0).json()
    assert me["last_login_at"] is not None
    product = client.product(admin, "E-1")
    order = client.http.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=u0
    ).json()

    stats = client.http.get("/users/stats", headers=admin).json()
    assert stats == {"total": 6, "active": 6, "inactive": 0, "admins": 1, "registered": 6, "with_orders": 1}

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    first = client.http.post("/users/bulk-deactivate", json={"last_login_before": future}, headers=admin)
    assert first.json() == {"deactivated": 5}  # every customer, never the admin
    for _ in range(4):  # both workers refuse the revoked token
        assert client.http.get("/users/me", headers=u0).status_code == 401
    assert client.http.post("/users/bulk-deactivate", json={"ids": ids}, headers=admin).json() == {
        "deactivated": 0
    }

    erased = client.http.post(f"/users/{ids[0]}/erase", headers=admin)
    assert erased.status_code == 200 and erased.json()["email"] == f"erased-{ids[0]}@erased.invalid"
    assert client.http.post(f"/users/{ids[0]}/erase", headers=admin).json() == erased.json()
    kept = client.http.get(f"/orders/{order['id']}", headers=admin).json()
    assert (kept["user_id"], kept["status"]) == (ids[0], "pending")
    before = users_table(e2e_engine)
    admin_id = client.http.get("/users/me", headers=admin).json()["id"]
    assert client.http.post(f"/users/{admin_id}/erase", headers=admin).status_code == 409
    assert users_table(e2e_engine) == before
