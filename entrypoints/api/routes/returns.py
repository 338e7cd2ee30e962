"""Returns and refunds of orders (issue 28; docs/api.md#returns-and-refunds-issue-28): /orders/{id}/returns,
/returns/{id}/..., /orders/{id}/refunds."""

from fastapi import APIRouter, Response, status

from application.refunds import Refunded, RefundOrder, RefundReturn
from application.returns import CreateReturn
from entrypoints.api.dependencies import SignedIn
from entrypoints.api.paging import ResourceId
from entrypoints.api.problems import responses
from entrypoints.api.return_schemas import (
    OrderRefundCreate,
    OrderRefundRead,
    ReturnCreate,
    ReturnRead,
    ReturnRefundCreate,
    ReturnReject,
)

router = APIRouter(tags=["returns"])


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnRead,
    responses=responses(401, 403, 404, 409, 422),
)
async def create_return(
    order_id: ResourceId, body: ReturnCreate, response: Response, caller: SignedIn
) -> ReturnRead:
    """Admins: a return, accepted at once. Customers: a request on their own order while it is shipped, or
    delivered within SHOP_RETURN_WINDOW days. Each line at most what was shipped and not returned (409
    `/problems/return-limit`)."""
    cmd = CreateReturn(body.items(), body.refund_extra)
    created = await caller.as_user(caller.cases.create_return, order_id, cmd)
    response.headers["Location"] = f"/returns/{created.id}"
    return ReturnRead.of(created)


@router.get("/orders/{order_id}/returns", response_model=list[ReturnRead], responses=responses(401, 404))
async def list_returns(order_id: ResourceId, caller: SignedIn) -> list[ReturnRead]:
    """The order's returns, oldest first: admins and the order's owner."""
    return [ReturnRead.of(r) for r in await caller.as_user(caller.cases.list_returns, order_id)]


@router.get("/returns/{return_id}", response_model=ReturnRead, responses=responses(401, 404))
async def get_return(return_id: ResourceId, caller: SignedIn) -> ReturnRead:
    return ReturnRead.of(await caller.as_user(caller.cases.get_return, return_id))


@router.post(
    "/returns/{return_id}/accept", response_model=ReturnRead, responses=responses(401, 403, 404, 409)
)
async def accept_return(return_id: ResourceId, caller: SignedIn) -> ReturnRead:
    """Admins: a requested return's units back on the order's lines (and restocked where asked)."""
    return ReturnRead.of(await caller.as_user(caller.cases.accept_return, return_id))


@router.post(
    "/returns/{return_id}/reject", response_model=ReturnRead, responses=responses(401, 403, 404, 409, 422)
)
async def reject_return(return_id: ResourceId, body: ReturnReject, caller: SignedIn) -> ReturnRead:
    return ReturnRead.of(await caller.as_user(caller.cases.reject_return, return_id, body.reason))


def _answer(response: Response, refunded: Refunded) -> OrderRefundRead:
    """201 for what this request recorded, 200 for a repeat."""
    response.status_code = status.HTTP_201_CREATED if refunded.created else status.HTTP_200_OK
    return OrderRefundRead.of(refunded.refund)


@router.post(
    "/returns/{return_id}/refund",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRefundRead,
    responses={
        200: {"model": OrderRefundRead, "description": "A repeat with the first refund's reference"},
        **responses(401, 403, 404, 409, 422),
    },
)
async def refund_return(
    return_id: ResourceId, body: ReturnRefundCreate, response: Response, caller: SignedIn
) -> OrderRefundRead:
    """Admins: refund an accepted return's proposal (plus `extra`), once, from the order's captured payments,
    oldest first (409 `/problems/refund-limit` beyond what they hold)."""
    cmd = RefundReturn(body.reference, body.extra)
    return _answer(response, await caller.as_user(caller.cases.refund_return, return_id, cmd))


@router.post(
    "/orders/{order_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRefundRead,
    responses={
        200: {"model": OrderRefundRead, "description": "A repeat of a recorded refund"},
        **responses(401, 403, 404, 409, 422),
    },
)
async def refund_order(
    order_id: ResourceId, body: OrderRefundCreate, response: Response, caller: SignedIn
) -> OrderRefundRead:
    """Admins: a refund without a return (a goodwill gesture), with its reason."""
    cmd = RefundOrder(body.amount, body.reason, body.reference)
    return _answer(response, await caller.as_user(caller.cases.refund_goodwill, order_id, cmd))


@router.get("/orders/{order_id}/refunds", response_model=list[OrderRefundRead], responses=responses(401, 404))
async def list_refunds(order_id: ResourceId, caller: SignedIn) -> list[OrderRefundRead]:
    """The order's refunds, oldest first: admins and the order's owner."""
    return [OrderRefundRead.of(r) for r in await caller.as_user(caller.cases.list_refunds, order_id)]
