"""The fulfilment use cases over the fakes: the locks they take and in which order, who may do what, and a
version that moved meanwhile."""

import pytest

from application.errors import Forbidden, NotFound, PreconditionFailed
from application.fulfillments import (
    CreateFulfillment,
    cancel_fulfillment,
    create_fulfillment,
    get_fulfillment,
    list_fulfillments,
)
from application.orders import change_order_status, change_shipping_address
from application.ports import StaleVersion
from domain.addresses import Address
from domain.fulfillments import FulfillmentState, Tracking
from domain.orders import OrderStatus
from tests.unit.conftest import World, dump

HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")


@pytest.fixture
def confirmed(world: World):  # type: ignore[no-untyped-def]
    ann = world.customer()
    order = world.order(ann, (world.product(), 2))
    change_shipping_address(order.id, HOME, uow=world.uow, actor=ann, clock=world.clock)
    change_order_status(order.id, OrderStatus.CONFIRMED, uow=world.uow, actor=world.admin, clock=world.clock)
    return ann, order


def create(world: World, order_id: int, line_id: int, quantity: int = 1):  # type: ignore[no-untyped-def]
    cmd = CreateFulfillment(((line_id, quantity),), Tracking("UPS"))
    return create_fulfillment(order_id, cmd, uow=world.uow, actor=world.admin, clock=world.clock)


def test_creating_locks_the_order_and_cancelling_the_fulfilment_then_the_order(
    world: World, confirmed
) -> None:
    _, order = confirmed
    locks = world.uow.store.locks
    locks.clear()
    fulfillment = create(world, order.id, order.lines[0].id)
    assert locks == [("order", order.id)]
    assert fulfillment.carrier == "UPS" and fulfillment.created_at == world.clock.now()
    locks.clear()
    cancelled = cancel_fulfillment(fulfillment.id, uow=world.uow, actor=world.admin, clock=world.clock)
    assert locks == [("fulfillment", fulfillment.id), ("order", order.id)]
    assert cancelled.status is FulfillmentState.CANCELLED
    stored = world.uow.store.tables.fulfillments[fulfillment.id]
    assert (stored.status, stored.version) == (FulfillmentState.CANCELLED, 2)


def test_customers_read_their_own_and_change_nothing(world: World, confirmed) -> None:
    ann, order = confirmed
    fulfillment = create(world, order.id, order.lines[0].id)
    assert [f.id for f in list_fulfillments(order.id, uow=world.uow, actor=ann)] == [fulfillment.id]
    assert get_fulfillment(fulfillment.id, uow=world.uow, actor=ann).lines == fulfillment.lines
    bob = world.customer("bob@shop.test")
    with pytest.raises(NotFound, match=f"^fulfillment {fulfillment.id} was not found$"):
        get_fulfillment(fulfillment.id, uow=world.uow, actor=bob)
    with pytest.raises(NotFound, match=f"^order {order.id} was not found$"):
        list_fulfillments(order.id, uow=world.uow, actor=bob)
    with pytest.raises(NotFound, match="^order 999 was not found$"):
        list_fulfillments(999, uow=world.uow, actor=world.admin)
    before = dump(world.uow.store)
    with pytest.raises(Forbidden, match="^only admins may record fulfillments$"):
        create_fulfillment(order.id, CreateFulfillment(((order.lines[0].id, 1),)), uow=world.uow, actor=ann,
                           clock=world.clock)  # fmt: skip
    with pytest.raises(Forbidden, match="^only admins may cancel fulfillments$"):
        cancel_fulfillment(fulfillment.id, uow=world.uow, actor=ann, clock=world.clock)
    with pytest.raises(NotFound, match="^order 999 was not found$"):
        create(world, 999, order.lines[0].id)
    assert dump(world.uow.store) == before


def test_a_fulfilment_saved_meanwhile_is_a_precondition_failure(world: World, confirmed, monkeypatch) -> None:
    _, order = confirmed
    fulfillment = create(world, order.id, order.lines[0].id)
    before = dump(world.uow.store)

    def stale(f: object) -> None:
        raise StaleVersion(5)

    monkeypatch.setattr(world.uow.fulfillments, "save", stale)
    with pytest.raises(
        PreconditionFailed, match=f"^fulfillment {fulfillment.id} has changed \\(now at version 5\\)"
    ):
        cancel_fulfillment(fulfillment.id, uow=world.uow, actor=world.admin, clock=world.clock)
    monkeypatch.undo()
    monkeypatch.setattr(world.uow.orders, "save", stale)
    with pytest.raises(PreconditionFailed, match=f"^order {order.id} has changed \\(now at version 5\\)"):
        create(world, order.id, order.lines[0].id)
    assert dump(world.uow.store) == before
