"""Seeding through the use cases, and a statement counter, for integration tests."""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, event

from adapters.clock import SystemClock
from adapters.sql.unit_of_work import sync_unit_of_work
from application.products import CreateProduct, create_product
from application.users import RegisterUser, ensure_admin, register_user
from domain.catalog import Product
from domain.users import User
from entrypoints.api.event_schemas import present
from tests.doubles.security import FastPasswordHasher

T = TypeVar("T")
clock = SystemClock()
hasher = FastPasswordHasher()


class SyncRunner:
    """The async runner's interface over a sync engine, for the use cases that are async flows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return work(sync_unit_of_work(self.engine, present), *args, **kwargs)


def admin(engine: Engine) -> User:
    return asyncio.run(
        ensure_admin(
            "admin@shop.test",
            "quartz-lantern-7",
            "Admin",
            runner=SyncRunner(engine),
            hasher=hasher,
            clock=clock,
        )
    )


def customer(engine: Engine, email: str) -> User:
    return asyncio.run(
        register_user(
            RegisterUser(email, "C", "plum-kettle-42"), runner=SyncRunner(engine), hasher=hasher, clock=clock
        )
    )


def product(engine: Engine, actor: User, sku: str, stock: int, price: str = "10.00", **kw: Any) -> Product:
    cmd = CreateProduct(f"Product {sku}", sku, Decimal(price), None, stock, **kw)
    return create_product(cmd, uow=sync_unit_of_work(engine, present), actor=actor, clock=clock)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.compiled: list[Any] = []  # SQLAlchemy's compiled form of each; None for raw SQL (BEGIN)

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, *_: Any) -> None:
        self.statements.append(statement)
        self.compiled.append(context.compiled)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def opened_a_transaction(self) -> bool:
        return any(s.startswith("BEGIN") for s in self.statements)


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementCounter]:
    """Counts the statements sent: every query, and the BEGIN a Unit of Work sends before its first write
    or lock. (COMMIT/ROLLBACK go through the driver's commit()/rollback(), not a cursor: one more round
    trip where a transaction was opened.)"""
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)
