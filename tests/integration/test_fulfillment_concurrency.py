"""Fulfilments under concurrency on real PostgreSQL: two racing for the last unshipped units of a line
(one 201, the other 409 `/problems/fulfillment-limit`, over HTTP), the second one waiting for the first's
order lock then refused, and many at once never shipping more than was ordered."""

import asyncio
import threading

import httpx
import pytest
from dependency_injector import providers
from sqlalchemy import Engine, text

from adapters.settings import Settings
from adapters.sql.unit_of_work import sync_unit_of_work
from application.fulfillments import CreateFulfillment, create_fulfillment
from application.orders import OrderItem, PlaceOrder, change_order_status, place_order
from domain.addresses import Address
from domain.fulfillment_errors import FulfillmentLimit
from domain.fulfillments import Fulfillment
from domain.orders import OrderStatus
from entrypoints.api.app import create_app
from entrypoints.api.event_schemas import present
from entrypoints.container import Container
from tests.doubles.security import FastPasswordHasher
from tests.integration.helpers import admin, clock, customer, product
from tests.integration.test_concurrency import wait_until_blocked

pytestmark = pytest.mark.postgres
HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def confirmed_order(pg: Engine, quantity: int):  # type: ignore[no-untyped-def]
    boss, bob = admin(pg), customer(pg, "bob@shop.test")
    item = product(pg, boss, "P-1", stock=quantity + 5)
    cmd = PlaceOrder((OrderItem(item.id, quantity),), shipping_address=HOME)
    order = place_order(cmd, uow=sync_unit_of_work(pg, present), actor=bob, clock=clock)
    change_order_status(
        order.id, OrderStatus.CONFIRMED, uow=sync_unit_of_work(pg, present), actor=boss, clock=clock
    )
    return boss, order


def shipped(pg: Engine, order_id: int) -> tuple:
    """The line's shipped units, the units of its fulfilments, and the order's status and version."""
    with pg.connect() as c:
        line = c.execute(
            text("SELECT quantity, quantity_shipped FROM order_lines WHERE order_id = :o"), {"o": order_id}
        ).one()
        units = c.execute(
            text(
                "SELECT coalesce(sum(l.quantity), 0) FROM fulfillment_lines l"
                " JOIN fulfillments f ON f.id = l.fulfillment_id"
                " WHERE f.order_id = :o AND f.status = 'fulfilled'"
            ),
            {"o": order_id},
        ).scalar_one()
        order = c.execute(text("SELECT status, version FROM orders WHERE id = :o"), {"o": order_id}).one()
    return (*line, units, *order)


def test_two_requests_for_the_last_units_one_201_the_other_409(pg: Engine, clean_postgres: str) -> None:
    boss, order = confirmed_order(pg, 3)
    line_id = order.lines[0].id
    create_fulfillment(
        order.id,
        CreateFulfillment(((line_id, 1),)),
        uow=sync_unit_of_work(pg, present),
        actor=boss,
        clock=clock,
    )
    container = Container()
    container.settings.override(
        providers.Object(Settings(database_url=clean_postgres, secret_key="k" * 40, _env_file=None))
    )
    container.password_hasher.override(providers.Object(FastPasswordHasher()))
    app = create_app(container)

    async def race() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
            token = await client.post(
                "/auth/token", data={"username": "admin@shop.test", "password": "quartz-lantern-7"}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            body = {"lines": [{"order_line_id": line_id, "quantity": 2}], "carrier": "DHL"}
            url = f"/orders/{order.id}/fulfillments"
            answers = await asyncio.gather(*(client.post(url, json=body, headers=headers) for _ in range(2)))
            await container.async_engine().dispose()
            return list(answers)

    answers = asyncio.run(race())
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    refusal = next(a for a in answers if a.status_code == 409).json()
    assert refusal["type"] == "/problems/fulfillment-limit"
    assert (refusal["order_line_id"], refusal["requested"], refusal["available"]) == (line_id, 2, 0)
    # Ordered 3, shipped 3 by fulfilments of 1 + 2; shipped in the one version each fulfilment made.
    assert shipped(pg, order.id) == (3, 3, 3, "shipped", order.version + 3)


def test_the_second_waits_for_the_order_lock_then_is_refused(pg: Engine) -> None:
    boss, order = confirmed_order(pg, 2)
    line_id = order.lines[0].id
    first = sync_unit_of_work(pg, present)
    with first:
        held = first.orders.get(order.id, for_update=True)
        outcome: dict[str, object] = {}

        def second() -> None:
            try:
                cmd = CreateFulfillment(((line_id, 1),))
                outcome["fulfillment"] = create_fulfillment(
                    order.id, cmd, uow=sync_unit_of_work(pg, present), actor=boss, clock=clock
                )
            except FulfillmentLimit as error:
                outcome["error"] = error

        worker = threading.Thread(target=second)
        worker.start()
        wait_until_blocked(pg)
        fulfillment = Fulfillment.create(held, [(line_id, 2)], actor_id=boss.id, at=clock.now())
        first.fulfillments.add(fulfillment)
        fulfillment.ship(held)
        first.orders.save(held)
        first.commit()
    worker.join(timeout=30)
    error = outcome.get("error")
    assert isinstance(error, FulfillmentLimit) and "fulfillment" not in outcome
    assert (error.order_line_id, error.requested, error.available) == (line_id, 1, 0)
    assert shipped(pg, order.id)[:3] == (2, 2, 2)


def test_many_at_once_never_ship_more_than_ordered(pg: Engine) -> None:
    boss, order = confirmed_order(pg, 5)
    line_id = order.lines[0].id
    start = threading.Barrier(8)
    results: list[bool] = []

    def attempt() -> None:
        start.wait()
        try:
            create_fulfillment(
                order.id, CreateFulfillment(((line_id, 2),)), uow=sync_unit_of_work(pg, present), actor=boss,
                clock=clock,
            )  # fmt: skip
            results.append(True)
        except FulfillmentLimit:
            results.append(False)

    workers = [threading.Thread(target=attempt) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert results.count(True) == 2 and results.count(False) == 6
    assert shipped(pg, order.id) == (
        5,
        4,
        4,
        "processing",
        order.version + 3,
    )  # confirmed, then two fulfilments
