"""The representation the outbox got reaches the route across SQLAlchemy's greenlet (the async runner runs
the use case in `run_sync`): an order placed on SQLite and PostgreSQL is presented once, and the answer is
the event's payload."""

import asyncio
import json

import pytest
from sqlalchemy import Engine, select

from adapters.sql.engine import make_async_engine
from adapters.sql.tables import events
from adapters.sql.unit_of_work import SqlUnitOfWorkRunner
from application.orders import OrderItem, PlaceOrder
from application.ports import NO_COUNTERS
from application.webhooks import DeliveryOptions
from domain.orders import Order
from entrypoints.api import presented
from entrypoints.api.event_schemas import present, render_event
from entrypoints.api.schemas import OrderRead
from entrypoints.use_cases import UseCases
from tests.doubles.sender import RecordingSender
from tests.integration.helpers import admin, clock, customer, product


def test_a_placed_order_is_presented_once_through_the_sql_runner(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = customer(engine, "ann@shop.test")
    lamp = product(engine, admin(engine), "LAMP-1", stock=2, price="12.50")
    cases = UseCases(clock, NO_COUNTERS, RecordingSender(), render_event, DeliveryOptions())
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
                order = await SqlUnitOfWorkRunner(runner_engine, present).run(
                    cases.place_order, ann, PlaceOrder((OrderItem(lamp.id, 2),))
                )
            return kept.json(order)
        finally:
            await runner_engine.dispose()

    answer = json.loads(asyncio.run(place()))
    assert built == [answer["id"]]
    assert (answer["total_amount"], answer["user_id"], answer["version"]) == ("25.00", ann.id, 1)
    with engine.connect() as c:
        payload = c.execute(select(events.c.payload).where(events.c.type == "order.placed")).scalar_one()
    assert payload == answer
