"""End-to-end fixtures: a live `shop serve` (2 uvicorn workers) on a migrated PostgreSQL database."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from tests.conftest import truncate_all
from tests.support.postgres import ThrowawayPostgres
from tests.support.server import LiveServer

pytestmark = pytest.mark.postgres
ADMIN = ("admin@shop.test", "quartz-lantern-7")


@pytest.fixture(scope="session")
def e2e_database(postgres_server: ThrowawayPostgres | None, postgres_url: str) -> str:
    url = postgres_server.create_database("shop_e2e") if postgres_server else postgres_url
    migrate(url)
    return url


@pytest.fixture(scope="session")
def e2e_engine(e2e_database: str) -> Iterator[Engine]:
    engine = make_sync_engine(e2e_database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def server(e2e_database: str) -> Iterator[LiveServer]:
    # Every test's requests come from 127.0.0.1: limits per address are switched off here and tested on a
    # server of their own (test_security.py); the per-account limit stays on.
    # Without its jobs process: the tests that need background jobs start their own (test_jobs.py,
    # test_webhooks.py), so no other worker takes their deliveries.
    live = LiveServer(
        e2e_database,
        workers=2,
        jobs=False,
        SHOP_LOGIN_LIMIT_PER_ADDRESS="off",
        SHOP_REGISTRATION_LIMIT_PER_ADDRESS="off",
        SHOP_WEBHOOK_ALLOW_PRIVATE="true",  # the tests' webhook receivers listen on 127.0.0.1
    )
    yield live
    live.stop()


class Client:
    """httpx against the live server, with log-in and seeding helpers."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)

    def login(self, email: str, password: str) -> dict[str, str]:
        response = self.http.post("/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def admin(self) -> dict[str, str]:
        self.server.cli("create-admin", "--email", ADMIN[0], "--password", ADMIN[1])
        return self.login(*ADMIN)

    def customer(self, email: str) -> tuple[dict[str, str], int]:
        response = self.http.post("/users", json={"email": email, "name": "C", "password": "plum-kettle-42"})
        assert response.status_code == 201, response.text
        return self.login(email, "plum-kettle-42"), response.json()["id"]

    def product(
        self, admin: dict[str, str], sku: str, stock: int = 10, price: str = "10.00", **kw: Any
    ) -> dict:
        body = {"name": f"Product {sku}", "sku": sku, "price": price, "stock_quantity": stock, **kw}
        response = self.http.post("/products", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    def stock(self, product_id: int) -> int:
        return self.http.get(f"/products/{product_id}").json()["stock_quantity"]


@pytest.fixture
def client(server: LiveServer, e2e_engine: Engine) -> Iterator[Client]:
    truncate_all(e2e_engine)
    c = Client(server)
    yield c
    c.http.close()
