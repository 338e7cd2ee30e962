"""Errors become RFC 9457 problem+json here, in one place. Schema errors keep FastAPI's 422 shape."""

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.metrics import REFUSALS
from application.errors import (
    AuthenticationFailed,
    Conflict,
    CurrentPasswordRequired,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IncorrectPassword,
    InvalidCursor,
    NotFound,
    OffsetTooDeep,
    PaymentReferenceReused,
    PreconditionFailed,
    RejectedValue,
    RowRefused,
    ServiceUnavailable,
    TooManyAttempts,
    UnknownReference,
    UnsafeTarget,
)
from domain.errors import (
    AddressBookFull,
    AddressLocked,
    AdminNotErasable,
    DomainError,
    InsufficientStock,
    InvalidAddress,
    WeakPassword,
)
from domain.fulfillment_errors import (
    FulfillmentLimit,
    FulfillmentNotCancellable,
    InvalidFulfillment,
    OrderFulfilled,
    OrderNotFulfillable,
    ShippingAddressRequired,
)
from domain.payment_errors import (
    InvalidPaymentAmount,
    OrderNotPayable,
    PaymentLimit,
    PaymentOutstanding,
    PaymentRequired,
    PaymentVoided,
)
from domain.periods import InvalidPeriod
from domain.return_errors import (
    IllegalReturnChange,
    InvalidReturn,
    RefundLimit,
    ReturnAlreadyRefunded,
    ReturnLimit,
    ReturnWindowClosed,
)
from entrypoints.api.echo import safe_errors
from entrypoints.api.schemas import Problem

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"

# Most specific first: the first matching class decides the status.
STATUS_OF: list[tuple[type[Exception], int]] = [
    (AuthenticationFailed, 401),
    (Forbidden, 403),
    (IncorrectPassword, 403),
    (NotFound, 404),
    (IdempotencyKeyInUse, 409),
    (PaymentReferenceReused, 409),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (IdempotencyKeyReused, 422),
    (CurrentPasswordRequired, 422),
    (TooManyAttempts, 429),
    (ServiceUnavailable, 503),
    (UnknownReference, 400),
    (OffsetTooDeep, 400),
    (InvalidCursor, 400),
    (UnsafeTarget, 422),
    (InvalidPeriod, 422),
    (WeakPassword, 422),
    (AdminNotErasable, 409),
    (AddressBookFull, 409),
    (AddressLocked, 409),
    (InvalidAddress, 422),
    (PaymentLimit, 409),
    (PaymentVoided, 409),
    (PaymentOutstanding, 409),
    (PaymentRequired, 409),
    (OrderNotPayable, 409),
    (InvalidPaymentAmount, 422),
    (FulfillmentLimit, 409),
    (FulfillmentNotCancellable, 409),
    (OrderFulfilled, 409),
    (OrderNotFulfillable, 409),
    (ShippingAddressRequired, 409),
    (InvalidFulfillment, 422),
    (InvalidReturn, 422),
    (ReturnLimit, 409),
    (ReturnWindowClosed, 409),
    (IllegalReturnChange, 409),
    (ReturnAlreadyRefunded, 409),
    (RefundLimit, 409),
    (DomainError, 400),
]

# Answers operators watch: conflicts, stale If-Match, throttling.
_REFUSAL_REASONS = {409: "conflict", 412: "precondition_failed", 429: "too_many_attempts"}


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body = Problem(
        type=f"/problems/{slug or phrase.lower().replace(' ', '-')}",
        title=phrase,
        status=status,
        detail=detail,
        request_id=correlation_id.get(),
    )
    if status in _REFUSAL_REASONS:
        REFUSALS.labels(_REFUSAL_REASONS[status]).inc()
    return JSONResponse(
        body.model_dump(exclude_none=True) | (extensions or {}),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _slug(error: Exception) -> str:
    """InsufficientStock -> insufficient-stock: a stable type clients can branch on."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()


async def _row_refused(request: Request, error: RowRefused) -> JSONResponse:
    """A bulk request's row: answered as that row's error would be on its own, plus the row's `index`."""
    answer = await _application_error(request, error.error)
    body = json.loads(bytes(answer.body))
    body["index"] = error.index
    body["detail"] = _sentence(str(error))
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in {"content-length", "content-type"}}
    return JSONResponse(body, status_code=answer.status_code, media_type=PROBLEM_JSON, headers=headers)


async def _application_error(request: Request, error: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS_OF if isinstance(error, kind))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 412 and isinstance(error, PreconditionFailed):
        headers = {"ETag": f'"{error.current_version}"'}
    if status == 503:
        headers = {"Retry-After": "1"}
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    if isinstance(error, InsufficientStock):
        REFUSALS.labels("insufficient_stock").inc()
    detail = str(error) or HTTPStatus(status).description
    # Members of its own a refusal names (a payment's limit and what it allows).
    extensions: dict[str, Any] | None = (
        error.extensions()
        if isinstance(
            error,
            PaymentLimit
            | PaymentOutstanding
            | PaymentRequired
            | FulfillmentLimit
            | ReturnLimit
            | RefundLimit,
        )
        else None
    )
    return problem(status, _sentence(detail), slug=_slug(error), headers=headers, extensions=extensions)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    if error.status_code == 400 and error.detail == FASTAPI_UNPARSABLE_BODY:
        # A body that is not JSON text at all (e.g. not UTF-8) is a schema violation like any other.
        errors = [{"loc": ["body"], "msg": "the body is not valid UTF-8 JSON", "type": "json_invalid"}]
        return JSONResponse({"detail": errors}, status_code=422)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).description
    return problem(error.status_code, _sentence(detail), headers=getattr(error, "headers", None))


async def _rejected_value(request: Request, error: RejectedValue) -> JSONResponse:
    """A value the database refused (a backstop behind schema validation): a 422 in FastAPI's shape."""
    return JSONResponse({"detail": [{"loc": [], "msg": str(error), "type": "value_error"}]}, status_code=422)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 shape, made safe to send back: see `safe_errors`."""
    return JSONResponse({"detail": safe_errors(error.errors())}, status_code=422)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "The server failed to handle this request; it has been logged.")


def _sentence(text: str) -> str:
    """Messages keep their words (clients match on "insufficient stock"); they end as a sentence."""
    text = text.strip()
    return text if not text or text.endswith(".") else text + "."


def install(app: FastAPI) -> None:
    document_problems(app)
    for kind, _ in STATUS_OF:
        app.add_exception_handler(kind, _application_error)
    # Starlette types every handler as taking any Exception; it calls each with its registered class.
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(RejectedValue, _rejected_value)  # type: ignore[arg-type]
    app.add_exception_handler(RowRefused, _row_refused)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses a route can give, for its OpenAPI description (see `document_problems`).

    422 is FastAPI's validation error; listing it here adds the problem+json 422 of a broken rule on the
    request itself (an Idempotency-Key reused with another body)."""
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": Problem, "description": HTTPStatus(status).phrase}
        for status in statuses
        if status != 422
    }
    if 422 in statuses:
        documented[422] = {
            "description": "Validation Error, or a rule broken by the request itself (an Idempotency-Key "
            "reused with another body, a weak password)",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}},
                PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}},
            },
        }
    return documented


def document_problems(app: FastAPI) -> None:
    """FastAPI files every response model under application/json; move the Problem ones to problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path in schema["paths"].values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if content.get("application/json", {}).get("schema") == {
                        "$ref": "#/components/schemas/Problem"
                    }:
                        content[PROBLEM_JSON] = content.pop("application/json")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
