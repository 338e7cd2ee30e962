"""Fulfilments: /orders/{id}/fulfillments and /fulfillments/{id} (docs/api.md#fulfilments-issue-28). An
admin records what left the shop and may cancel it before delivery; an order's owner may read them."""

from fastapi import APIRouter, Response, status

from application.fulfillments import CreateFulfillment
from entrypoints.api.dependencies import SignedIn
from entrypoints.api.fulfillment_schemas import FulfillmentCreate, FulfillmentRead
from entrypoints.api.paging import ResourceId
from entrypoints.api.problems import responses

router = APIRouter(tags=["fulfillments"])


@router.post(
    "/orders/{order_id}/fulfillments",
    status_code=status.HTTP_201_CREATED,
    response_model=FulfillmentRead,
    responses=responses(401, 403, 404, 409, 422),
)
async def create_fulfillment(
    order_id: ResourceId, body: FulfillmentCreate, response: Response, caller: SignedIn
) -> FulfillmentRead:
    """Admins: units of the order's lines shipped together, with optional tracking. The order must be
    confirmed or processing and have a shipping address; each line at most what is left unshipped (409
    `/problems/fulfillment-limit`). The first moves a confirmed order to processing, the one that leaves
    nothing unshipped moves it to shipped."""
    cmd = CreateFulfillment(body.units(), body.tracking())
    fulfillment = await caller.as_user(caller.cases.create_fulfillment, order_id, cmd)
    response.headers["Location"] = f"/fulfillments/{fulfillment.id}"
    return FulfillmentRead.of(fulfillment)


@router.get(
    "/orders/{order_id}/fulfillments", response_model=list[FulfillmentRead], responses=responses(401, 404)
)
async def list_fulfillments(order_id: ResourceId, caller: SignedIn) -> list[FulfillmentRead]:
    """The order's fulfilments, oldest first, cancelled ones too: admins and the order's owner."""
    return [FulfillmentRead.of(f) for f in await caller.as_user(caller.cases.list_fulfillments, order_id)]


@router.get("/fulfillments/{fulfillment_id}", response_model=FulfillmentRead, responses=responses(401, 404))
async def get_fulfillment(fulfillment_id: ResourceId, caller: SignedIn) -> FulfillmentRead:
    """Admins and the order's owner (another customer's: 404)."""
    return FulfillmentRead.of(await caller.as_user(caller.cases.get_fulfillment, fulfillment_id))


@router.post(
    "/fulfillments/{fulfillment_id}/cancel",
    response_model=FulfillmentRead,
    responses=responses(401, 403, 404, 409),
)
async def cancel_fulfillment(fulfillment_id: ResourceId, caller: SignedIn) -> FulfillmentRead:
    """Admins, until the order is delivered, and only units not returned since: they go back to unshipped
    (a shipped order back to processing). Cancelling a cancelled one changes nothing."""
    return FulfillmentRead.of(await caller.as_user(caller.cases.cancel_fulfillment, fulfillment_id))
