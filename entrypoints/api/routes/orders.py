"""/orders."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from adapters.fields import MAX_ID
from application import paging
from application.lists import OrderFilter
from application.orders import OrderItem, PlaceOrder
from application.sales import SalesQuery
from domain.orders import Order, OrderStatus
from domain.periods import Grouping
from entrypoints.api.address_schemas import ShippingAddressChange
from entrypoints.api.dependencies import ExpectedVersion, SignedIn
from entrypoints.api.etag import etag, tag
from entrypoints.api.paging import Paged, ResourceId, utc_or_none
from entrypoints.api.presented import keeping
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
    tag(response, order.version)
    return OrderRead.of(order)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses=responses(400, 401, 403, 409, 422, 503),
)
async def place_order(
    body: OrderCreate, caller: SignedIn, idempotency_key: IdempotencyKey = None
) -> Response:
    # Answers the representation built for the `order.placed` event (entrypoints.api.presented): the
    # document FastAPI would build from `OrderRead`, built and serialised once.
    items = tuple(OrderItem(i.product_id, i.quantity) for i in body.items)
    cmd = PlaceOrder(items, body.user_id, body.shipping(), body.billing())
    with keeping() as presented:
        if idempotency_key is None:
            order = await caller.flows.place_order(caller.claims, cmd)
        else:
            order = await caller.flows.place_order_idempotently(caller.claims, cmd, idempotency_key)
    headers = {"Location": f"/orders/{order.id}", "ETag": etag(order.version)}
    return Response(presented.json(order), status.HTTP_201_CREATED, headers, "application/json")


@router.get("", response_model=PageOf[OrderRead], responses=responses(400, 401))
async def list_orders(
    caller: SignedIn,
    pages: Paged,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Admins only; ignored for customers.")
    ] = None,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> PageOf[OrderRead]:
    filters = OrderFilter(user_id, status_, utc_or_none(created_from), utc_or_none(created_to))
    page = await caller.as_user(caller.cases.list_orders, filters, pages.window(paging.ORDERS))
    return pages.answer(page, paging.ORDERS, OrderRead.of)


@router.get(
    "/stats",
    response_model=OrderStatsRead,
    response_model_exclude_none=True,
    responses=responses(401, 403, 422),
)
async def get_order_stats(
    caller: SignedIn,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    group_by: Annotated[
        Grouping | None, Query(description="Adds `periods`; needs created_from (created_to: now).")
    ] = None,
    tz: Annotated[
        str, Query(min_length=1, max_length=64, description="IANA zone the periods start in.")
    ] = "UTC",
) -> OrderStatsRead:
    """Without a period, all time. With one, the totals cover [created_from, created_to] (inclusive)."""
    query = SalesQuery(utc_or_none(created_from), utc_or_none(created_to), group_by, tz)
    return OrderStatsRead.of_report(await caller.as_user(caller.cases.sales_report, query))


@router.get("/{order_id}", response_model=OrderRead, responses=responses(401, 404))
async def get_order(order_id: ResourceId, response: Response, caller: SignedIn) -> OrderRead:
    return with_etag(response, await caller.as_user(caller.cases.get_order, order_id))


@router.get("/{order_id}/events", response_model=list[OrderEventRead], responses=responses(401, 404))
async def list_order_events(order_id: ResourceId, caller: SignedIn) -> list[OrderEventRead]:
    return [OrderEventRead.of(e) for e in await caller.as_user(caller.cases.order_events, order_id)]


@router.patch(
    "/{order_id}/status", response_model=OrderRead, responses=responses(400, 401, 403, 404, 409, 412)
)
async def change_order_status(
    order_id: ResourceId, body: StatusChange, response: Response, caller: SignedIn, version: ExpectedVersion
) -> OrderRead:
    order = await caller.as_user(caller.cases.change_order_status, order_id, body.status, version)
    return with_etag(response, order)


@router.put(
    "/{order_id}/shipping-address",
    response_model=OrderRead,
    responses=responses(400, 401, 404, 409, 412, 422),
)
async def change_shipping_address(
    order_id: ResourceId,
    body: ShippingAddressChange,
    response: Response,
    caller: SignedIn,
    version: ExpectedVersion,
) -> OrderRead:
    """Its owner or an admin, while the order is pending or confirmed (409 `/problems/address-locked`
    after): an address inline, or `address_id` from the buyer's address book (400 if not in it). A new
    version (honours If-Match) and an entry in the order's history (`reason`: "shipping address changed",
    from and to its status). The billing address stays as it is."""
    order = await caller.as_user(caller.cases.change_shipping_address, order_id, body.choice(), version)
    return with_etag(response, order)


@router.delete("/{order_id}", response_model=OrderRead, responses=responses(400, 401, 404, 409))
async def cancel_order(order_id: ResourceId, response: Response, caller: SignedIn) -> OrderRead:
    return with_etag(response, await caller.as_user(caller.cases.cancel_order, order_id))
