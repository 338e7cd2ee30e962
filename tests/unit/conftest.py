"""Unit-test fixtures: the in-memory store, a fixed clock and a fast hasher; no database, no network."""

import asyncio
from collections.abc import Coroutine
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from adapters.security import JwtTokenIssuer
from application.categories import CreateCategory, create_category
from application.orders import OrderItem, PlaceOrder, place_order
from application.products import CreateProduct, create_product, get_product
from application.users import RegisterUser, ensure_admin, register_user
from application.webhooks import CreateWebhook, create_webhook
from domain.catalog import Product
from domain.events import EventType
from domain.orders import Order
from domain.users import User
from tests.doubles.clock import FixedClock
from tests.doubles.memory import InMemoryStore, InMemoryUnitOfWork, InMemoryUnitOfWorkRunner
from tests.doubles.security import FastPasswordHasher
from tests.doubles.sender import RecordingSender

T = TypeVar("T")


def done(flow: Coroutine[Any, Any, T]) -> T:
    """Run an async use case (those that hash passwords are) to its end, from a plain test."""
    return asyncio.run(flow)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def hasher() -> FastPasswordHasher:
    return FastPasswordHasher()


def dump(store: InMemoryStore) -> dict:
    """Every committed field of every row, to assert that a failed operation changed nothing. (Throttle
    windows are left out: counting a refused attempt is the point of them.)"""
    t = store.tables
    return {
        "users": {k: asdict(v) for k, v in t.users.items()},
        "categories": {k: asdict(v) for k, v in t.categories.items()},
        "products": {k: asdict(v) for k, v in t.products.items()},
        "orders": {k: asdict(v) for k, v in t.orders.items()},
        "status_history": {k: [asdict(c) for c in v] for k, v in t.status_history.items()},
        "movements": [asdict(m) for m in t.movements],
        "idempotency": {k: asdict(v) for k, v in t.idempotency.items()},
        "addresses": {k: asdict(v) for k, v in t.addresses.items()},
        "payments": {k: asdict(v) for k, v in t.payments.items()},
        "fulfillments": {k: asdict(v) for k, v in t.fulfillments.items()},
        "returns": {k: asdict(v) for k, v in t.returns.items()},
        "refunds": {k: asdict(v) for k, v in t.refunds.items()},
        # The outbox too: a refused change raises no event.
        "outbox": [asdict(e) for e in t.outbox],
        "webhooks": {k: asdict(v) for k, v in t.webhooks.items()},
        "deliveries": {k: asdict(v) for k, v in t.deliveries.items()},
        "attempts": [asdict(a) for a in t.attempts],
    }


class World:
    """Builds users, products and orders through the use cases themselves."""

    def __init__(self, uow: InMemoryUnitOfWork, clock: FixedClock, hasher: FastPasswordHasher) -> None:
        self.uow, self.clock, self.hasher = uow, clock, hasher
        self.run = InMemoryUnitOfWorkRunner(uow.store)
        self._admin: User | None = None

    @property
    def admin(self) -> User:
        if self._admin is None:
            self._admin = done(
                ensure_admin(
                    "admin@shop.test",
                    "quartz-lantern-7",
                    "Admin",
                    runner=self.run,
                    hasher=self.hasher,
                    clock=self.clock,
                )
            )
        return self._admin

    def customer(self, email: str = "ann@shop.test") -> User:
        return done(
            register_user(
                RegisterUser(email, "Ann", "plum-kettle-42"),
                runner=self.run,
                hasher=self.hasher,
                clock=self.clock,
            )
        )

    def category(self, name: str = "Books", parent_id: int | None = None) -> int:
        view = create_category(
            CreateCategory(name, None, parent_id), uow=self.uow, actor=self.admin, clock=self.clock
        )
        assert view.category.id is not None
        return view.category.id

    def product(
        self, sku: str = "SKU-1", price: str = "10.00", stock: int = 10, category_id: int | None = None
    ) -> Product:
        cmd = CreateProduct(f"Product {sku}", sku, Decimal(price), None, stock, category_id)
        return create_product(cmd, uow=self.uow, actor=self.admin, clock=self.clock)

    def order(self, buyer: User, *lines: tuple[Product, int]) -> Order:
        items = tuple(OrderItem(p.id, q) for p, q in lines)
        return place_order(PlaceOrder(items), uow=self.uow, actor=buyer, clock=self.clock)

    def stock(self, product: Product) -> int:
        """Read back through the port, as the service would."""
        return get_product(product.id, uow=self.uow).stock_quantity

    def record(self, kind: str) -> int:
        """The id of a new record of `kind`: a category, a product, an order (of another customer's) or a
        webhook."""
        if kind == "category":
            return self.category(f"Category {self.uow.store.tables.next_id}")
        if kind == "product":
            return self.product(f"REC-{self.uow.store.tables.next_id}").id
        if kind == "order":
            buyer = self.customer(f"buyer{self.uow.store.tables.next_id}@shop.test")
            return self.order(buyer, (self.product(f"REC-{self.uow.store.tables.next_id}"), 1)).id
        assert kind == "webhook"
        cmd = CreateWebhook("https://example.com/h", frozenset(EventType))
        return create_webhook(
            cmd, uow=self.uow, actor=self.admin, clock=self.clock, sender=RecordingSender()
        ).id


@pytest.fixture
def tokens(clock: FixedClock) -> JwtTokenIssuer:
    return JwtTokenIssuer("test-secret-key-that-is-long-enough", timedelta(minutes=30), clock)


@pytest.fixture
def world(uow: InMemoryUnitOfWork, clock: FixedClock, hasher: FastPasswordHasher) -> World:
    return World(uow, clock, hasher)
