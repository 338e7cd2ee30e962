"""The representation the outbox got reaches the route from inside the Unit of Work (SQLAlchemy's greenlet,
and PostgreSQL's hot path): an order placed as the route places it, on SQLite and PostgreSQL, is presented
once, and the answer is the event's payload."""

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from adapters.security import JwtTokenIssuer
from adapters.sql.engine import make_async_engine
from adapters.sql.tables import events
from adapters.sql.unit_of_work import SqlUnitOfWorkRunner
from application.orders import OrderItem, PlaceOrder
from application.ports import NO_COUNTERS, TokenClaims
from application.throttling import NO_LIMITS
from domain.orders import Order
from entrypoints.api import presented
from entrypoints.api.event_schemas import present
from entrypoints.api.schemas import OrderRead
from entrypoints.use_cases import Flows
from tests.doubles.security import FastPasswordHasher
from tests.integration.helpers import admin, clock, customer, product


def test_a_placed_order_is_presented_once_through_the_sql_runner(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = customer(engine, "ann@shop.test")
    lamp = product(engine, admin(engine), "LAMP-1", stock=2, price="12.50")
    claims = TokenClaims(ann.id, ann.credentials_version)  # as the route has them
    tokens = JwtTokenIssuer(secret_key="k" * 40, lifetime=timedelta(minutes=5), clock=clock)
    built: list[int | None] = []
    of = OrderRead.of.__func__  # type: ignore[attr-defined]

    def counted(cls: type[OrderRead], order: Order) -> OrderRead:
        built.append(order.id)
        return of(cls, order)

    monkeypatch.setattr(OrderRead, "of", classmethod(counted))

    async def place() -> bytes:
        runner_engine = make_async_engine(database_url, instrumented=False)
        try:
            with presented.keeping() as kept:
                runner = SqlUnitOfWorkRunner(runner_engine, present)
                flows = Flows(runner, clock, FastPasswordHasher(), tokens, NO_LIMITS, NO_COUNTERS)
                order = await flows.place_order(claims, PlaceOrder((OrderItem(lamp.id, 2),)))
            return kept.json(order)
        finally:
            await runner_engine.dispose()

    answer = json.loads(asyncio.run(place()))
    assert built == [answer["id"]]
    assert (answer["total_amount"], answer["user_id"], answer["version"]) == ("25.00", ann.id, 1)
    with engine.connect() as c:
        payload = c.execute(select(events.c.payload).where(events.c.type == "order.placed")).scalar_one()
    assert payload == answer
