"""/orders."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from adapters.fields import MAX_ID
from application.idempotency import place_order_idempotently
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    get_order,
    list_orders,
    order_events,
    order_stats,
    place_order,
)
from application.ports import OrderFilter
from domain.orders import Order, OrderStatus
from entrypoints.api.dependencies import ClockDep, ExpectedVersion, SignedIn
from entrypoints.api.paging import Limit, Offset, ResourceId
from entrypoints.api.problems import responses
from entrypoints.api.schemas import (
    OrderCreate,
    OrderEventRead,
    OrderRead,
    OrderStatsRead,
    PageOf,
    StatusChange,
)

router = APIRouter(prefix="/orders", tags=["orders"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        description="Retry-safe placement: a repeat with the same key and body returns the first order.",
    ),
]


def with_etag(response: Response, order: Order) -> OrderRead:
    response.headers["ETag"] = f'"{order.version}"'
    return OrderRead.of(order)


def _utc(moment: datetime | None) -> datetime | None:
    """A timestamp without an offset is taken to be UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses=responses(400, 401, 403, 409, 422, 503),
)
async def new_order(
    body: OrderCreate,
    response: Response,
    caller: SignedIn,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderRead:
    cmd = PlaceOrder(tuple(OrderItem(i.product_id, i.quantity) for i in body.items), body.user_id)
    if idempotency_key is None:
        order = await caller.run(lambda uow, actor: place_order(uow, clock, actor, cmd))
    else:
        order = await place_order_idempotently(caller.uow, clock, caller.signed_in, cmd, idempotency_key)
    response.headers["Location"] = f"/orders/{order.id}"
    return with_etag(response, order)


@router.get("", response_model=PageOf[OrderRead], responses=responses(401))
async def orders(
    caller: SignedIn,
    limit: Limit = 20,
    offset: Offset = 0,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Admins only; ignored for customers.")
    ] = None,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> PageOf[OrderRead]:
    filters = OrderFilter(user_id, status_, _utc(created_from), _utc(created_to))
    return PageOf.of(
        await caller.run(lambda uow, actor: list_orders(uow, actor, filters, limit, offset)), OrderRead.of
    )


@router.get("/stats", response_model=OrderStatsRead, responses=responses(401, 403))
async def stats(caller: SignedIn) -> OrderStatsRead:
    return OrderStatsRead.of(await caller.run(lambda uow, actor: order_stats(uow, actor)))


@router.get("/{order_id}", response_model=OrderRead, responses=responses(401, 404))
async def order(order_id: ResourceId, response: Response, caller: SignedIn) -> OrderRead:
    return with_etag(response, await caller.run(lambda uow, actor: get_order(uow, actor, order_id)))


@router.get("/{order_id}/events", response_model=list[OrderEventRead], responses=responses(401, 404))
async def events(order_id: ResourceId, caller: SignedIn) -> list[OrderEventRead]:
    return [
        OrderEventRead.of(e) for e in await caller.run(lambda uow, actor: order_events(uow, actor, order_id))
    ]


@router.patch("/{order_id}/status", response_model=OrderRead, responses=responses(400, 401, 403, 404, 412))
async def change_status(
    order_id: ResourceId,
    body: StatusChange,
    response: Response,
    caller: SignedIn,
    clock: ClockDep,
    version: ExpectedVersion,
) -> OrderRead:
    order = await caller.run(
        lambda uow, actor: change_order_status(uow, clock, actor, order_id, body.status, version)
    )
    return with_etag(response, order)


@router.delete("/{order_id}", response_model=OrderRead, responses=responses(400, 401, 404))
async def cancel(order_id: ResourceId, response: Response, caller: SignedIn, clock: ClockDep) -> OrderRead:
    return with_etag(response, await caller.run(lambda uow, actor: cancel_order(uow, clock, actor, order_id)))
