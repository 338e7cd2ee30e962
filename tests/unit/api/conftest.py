"""API tests over the in-memory fakes: the real app and container, with the Unit of Work overridden."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.settings import Settings
from adapters.sql.health import NOT_MIGRATED, UNREACHABLE
from application.users import ensure_admin
from entrypoints.api.app import create_app
from entrypoints.container import Container
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWorkRunner
from tests.doubles.security import FastPasswordHasher


class FakeProbe:
    def __init__(self) -> None:
        self.reachable = True
        self.migrated = True

    async def ping(self) -> bool:
        return self.reachable

    async def unready_because(self) -> str | None:
        if not self.reachable:
            return UNREACHABLE
        return None if self.migrated else NOT_MIGRATED


class Api:
    """A test client plus the fake store behind it, and helpers to log in and seed."""

    def __init__(self, client: TestClient, store: InMemoryStore, probe: FakeProbe) -> None:
        self.client, self.store, self.probe = client, store, probe

    def login(self, email: str, password: str) -> dict[str, str]:
        response = self.client.post("/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def customer(self, email: str = "ann@shop.test") -> tuple[dict[str, str], int]:
        response = self.client.post("/users", json={"email": email, "name": "Ann", "password": "password1"})
        assert response.status_code == 201, response.text
        return self.login(email, "password1"), response.json()["id"]

    def category(self, admin: dict[str, str], name: str = "Books", **kw: Any) -> dict[str, Any]:
        response = self.client.post("/categories", json={"name": name, **kw}, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    def product(self, admin: dict[str, str], sku: str = "SKU-1", **kw: Any) -> dict[str, Any]:
        body = {"name": f"Product {sku}", "sku": sku, "price": "10.00", "stock_quantity": 10, **kw}
        response = self.client.post("/products", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, headers: dict[str, str], *lines: tuple[int, int], **kw: Any) -> dict[str, Any]:
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines], **kw}
        response = self.client.post("/orders", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    def stock(self, product_id: int) -> int:
        return self.store.tables.products[product_id].stock_quantity


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def api(clock: FixedClock) -> Iterator[Api]:
    store, probe = InMemoryStore(), FakeProbe()
    container = Container()
    container.settings.override(providers.Object(Settings(env="test", secret_key="k" * 40, _env_file=None)))
    container.unit_of_work_runner.override(providers.Object(InMemoryUnitOfWorkRunner(store)))
    container.password_hasher.override(providers.Object(FastPasswordHasher()))
    container.clock.override(providers.Object(clock))
    container.database_probe.override(providers.Object(probe))
    asyncio.run(
        ensure_admin(
            "admin@shop.test",
            "adminpass",
            "Admin",
            runner=InMemoryUnitOfWorkRunner(store),
            hasher=FastPasswordHasher(),
            clock=clock,
        )
    )
    with TestClient(create_app(container)) as client:
        yield Api(client, store, probe)


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return api.login("admin@shop.test", "adminpass")
