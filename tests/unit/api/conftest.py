"""API tests over the in-memory fakes: the real app and container, with the Unit of Work overridden."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from fastapi import FastAPI

from adapters.settings import Settings
from adapters.sql.health import NOT_MIGRATED, UNREACHABLE
from application.users import ensure_admin
from entrypoints.api.app import create_app
from entrypoints.container import Container
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWorkRunner
from tests.doubles.security import FastPasswordHasher
from tests.support.in_process import InProcess


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

    def __init__(self, app: FastAPI, client: httpx.Client, store: InMemoryStore, probe: FakeProbe) -> None:
        self.app, self.client, self.store, self.probe = app, client, store, probe

    def login(self, email: str, password: str) -> dict[str, str]:
        response = self.client.post("/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def customer(self, email: str = "ann@shop.test") -> tuple[dict[str, str], int]:
        response = self.client.post(
            "/users", json={"email": email, "name": "Ann", "password": "plum-kettle-42"}
        )
        assert response.status_code == 201, response.text
        return self.login(email, "plum-kettle-42"), response.json()["id"]

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


@pytest.fixture(scope="session")
def service() -> Iterator[tuple[FastAPI, httpx.Client]]:
    """One app for the whole run: FastAPI prepares each route on its first request (~150 ms an app), so
    each test gets fresh doubles in the same container instead of an app of its own."""
    container = Container()
    container.settings.override(providers.Object(Settings(env="test", secret_key="k" * 40, _env_file=None)))
    # Kept through the per-test reset: its TLS context takes ~40 ms to build.
    container.webhook_sender.override(providers.Object(container.webhook_sender()))
    app = create_app(container)
    with httpx.Client(transport=InProcess(app), base_url="http://testserver") as client:
        yield app, client


@pytest.fixture
def api(service: tuple[FastAPI, httpx.Client], clock: FixedClock) -> Iterator[Api]:
    app, client = service
    container: Container = app.state.container
    store, probe = InMemoryStore(), FakeProbe()
    doubles = {
        container.unit_of_work_runner: InMemoryUnitOfWorkRunner(store),
        container.password_hasher: FastPasswordHasher(),
        container.clock: clock,
        container.database_probe: probe,
    }
    for provider, double in doubles.items():
        provider.override(providers.Object(double))
    container.reset_singletons()  # what was built from the last test's doubles (token issuer, collaborators)
    asyncio.run(
        ensure_admin(
            "admin@shop.test",
            "quartz-lantern-7",
            "Admin",
            runner=InMemoryUnitOfWorkRunner(store),
            hasher=FastPasswordHasher(),
            clock=clock,
        )
    )
    try:
        yield Api(app, client, store, probe)
    finally:
        for provider in doubles:
            provider.reset_override()
        client.cookies.clear()


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return api.login("admin@shop.test", "quartz-lantern-7")
