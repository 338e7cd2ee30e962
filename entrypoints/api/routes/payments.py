"""Payments: /orders/{id}/payments and /payments/{id}/... (docs/api.md#payments). A provider integration
reports what it did with an admin token; an order's owner may read its payments."""

from fastapi import APIRouter, Response, status

from application.payments import Recorded, RecordPayment, RefundPayment
from entrypoints.api.dependencies import SignedIn
from entrypoints.api.paging import ResourceId
from entrypoints.api.payment_schemas import CaptureRequest, PaymentCreate, PaymentRead, RefundCreate
from entrypoints.api.problems import responses

router = APIRouter(tags=["payments"])


def _answer(response: Response, recorded: Recorded) -> PaymentRead:
    """201 for what this request recorded, 200 for a repeat (the payment as it is now)."""
    response.status_code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
    response.headers["Location"] = f"/payments/{recorded.payment.id}"
    return PaymentRead.of(recorded.payment)


@router.post(
    "/orders/{order_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRead,
    responses={
        200: {"model": PaymentRead, "description": "A repeat of a recorded payment, as it is now"},
        **responses(401, 403, 404, 409, 422),
    },
)
async def record_payment(
    order_id: ResourceId, body: PaymentCreate, response: Response, caller: SignedIn
) -> PaymentRead:
    """Admins (a provider integration): record an authorisation or a charge the provider made."""
    cmd = RecordPayment(body.provider, body.reference, body.amount, body.action)
    return _answer(response, await caller.as_user(caller.cases.record_payment, order_id, cmd))


@router.get("/orders/{order_id}/payments", response_model=list[PaymentRead], responses=responses(401, 404))
async def list_payments(order_id: ResourceId, caller: SignedIn) -> list[PaymentRead]:
    """The order's payments, oldest first, with every transaction: admins and the order's owner."""
    return [PaymentRead.of(p) for p in await caller.as_user(caller.cases.list_payments, order_id)]


@router.post(
    "/payments/{payment_id}/capture",
    response_model=PaymentRead,
    responses=responses(401, 403, 404, 409, 422),
)
async def capture_payment(
    payment_id: ResourceId, caller: SignedIn, body: CaptureRequest | None = None
) -> PaymentRead:
    amount = body.amount if body is not None else None
    return PaymentRead.of(await caller.as_user(caller.cases.capture_payment, payment_id, amount))


@router.post(
    "/payments/{payment_id}/void", response_model=PaymentRead, responses=responses(401, 403, 404, 409)
)
async def void_payment(payment_id: ResourceId, caller: SignedIn) -> PaymentRead:
    """Release what is authorised and not captured."""
    return PaymentRead.of(await caller.as_user(caller.cases.void_payment, payment_id))


@router.post(
    "/payments/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRead,
    responses={
        200: {"model": PaymentRead, "description": "A repeat of a recorded refund: the payment as it is now"},
        **responses(401, 403, 404, 409, 422),
    },
)
async def refund_payment(
    payment_id: ResourceId, body: RefundCreate, response: Response, caller: SignedIn
) -> PaymentRead:
    cmd = RefundPayment(body.amount, body.reason, body.reference)
    return _answer(response, await caller.as_user(caller.cases.refund_payment, payment_id, cmd))
