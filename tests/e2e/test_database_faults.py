"""Database faults against the live service on its own PostgreSQL server (so stopping it hurts no other
test): a connection killed mid-transaction, the server stopped, and the server coming back."""

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from tests.e2e.conftest import Client
from tests.support.postgres import ThrowawayPostgres
from tests.support.server import LiveServer
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[ThrowawayPostgres, LiveServer, Engine]]:
    pg = ThrowawayPostgres()
    pg.start()
    url = pg.create_database("shop_faults")
    migrate(url)
    server = LiveServer(url, workers=2)
    engine = make_sync_engine(url)
    yield pg, server, engine
    engine.dispose()
    server.stop()
    pg.destroy()


def orders(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM orders")).scalar_one()


def test_killed_connection_leaves_no_partial_order(faulty) -> None:
    pg, server, engine = faulty
    client = Client(server)
    admin = client.admin()
    ann, _ = client.customer("killed@shop.test")
    product = client.product(admin, "KILL-1", stock=5)
    before = orders(engine)
    outcome: dict[str, httpx.Response] = {}
    with engine.connect() as blocker:
        # Hold the product's row lock so the order waits to lock it, mid-transaction (caller already read).
        blocker.execute(text("SELECT id FROM products WHERE id = :i FOR UPDATE"), {"i": product["id"]})
        body = {"items": [{"product_id": product["id"], "quantity": 2}]}
        worker = threading.Thread(
            target=lambda: outcome.update(r=client.http.post("/orders", json=body, headers=ann))
        )
        worker.start()
        waiting = (
            "SELECT pid FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT products.%FOR UPDATE'"
        )
        wait_for(lambda: pg.psql(waiting, "shop_faults") != "", "the order to wait on the row lock")
        pg.psql(f"SELECT pg_terminate_backend(pid) FROM ({waiting}) AS w", "shop_faults")
        worker.join(timeout=30)
        blocker.rollback()
    response = outcome["r"]
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert orders(engine) == before and client.stock(product["id"]) == 5
    after = client.http.post("/orders", json=body, headers=ann)
    assert after.status_code == 201 and client.stock(product["id"]) == 3


def test_database_down_then_back(faulty) -> None:
    pg, server, engine = faulty
    client = Client(server)
    admin = client.admin()
    ann, _ = client.customer("outage@shop.test")
    product = client.product(admin, "DOWN-1", stock=5)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    pg.stop()
    try:
        fast = httpx.Client(base_url=server.url, timeout=2.0)  # /health must answer within 2 s
        for _ in range(4):  # both workers, whichever gets each request
            health = fast.get("/health")
            assert health.status_code == 503
            assert health.json() == {"status": "unavailable", "database": "unreachable"}
        for method, url, kw in [
            ("GET", "/products", {}),
            ("POST", "/orders", {"json": body, "headers": ann}),
        ]:
            response = client.http.request(method, url, **kw)
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert "unavailable" in response.json()["detail"]
    finally:
        pg.start()
    wait_for(lambda: client.http.get("/health").status_code == 200, "the service to see the database again")
    placed = client.http.post("/orders", json=body, headers=ann)
    assert placed.status_code == 201 and client.stock(product["id"]) == 4
