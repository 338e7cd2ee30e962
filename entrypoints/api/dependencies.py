"""FastAPI dependencies: the caller, who runs use cases with the container's collaborators bound.

Every use case has one shape: the request's data as positional arguments, then keyword-only `uow` and
`actor` (one unit of work, the caller identified in it) or, for the async flows that hash passwords,
`runner` and `claims`; plus whichever collaborators it names (`container.COLLABORATORS`: `clock`,
`hasher`, `tokens`, `limits`, `counters`).
A route names the use case and its data, nothing else: `await caller.run(cancel_order, order_id)`."""

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from application.auth import as_caller
from application.errors import AuthenticationFailed
from application.ports import TokenClaims, UnitOfWork, UnitOfWorkRunner
from domain.users import User
from entrypoints.container import COLLABORATORS, Container

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Shape:
    is_flow: bool
    collaborators: tuple[str, ...]
    wants_actor: bool
    wants_claims: bool


@cache
def _shape(use_case: Callable[..., Any]) -> _Shape:
    """What a use case asks for, read once from its signature (Cosmic Python's inject_dependencies)."""
    names = inspect.signature(use_case).parameters
    return _Shape(
        is_flow=inspect.iscoroutinefunction(use_case),
        collaborators=tuple(name for name in names if name in COLLABORATORS),
        wants_actor="actor" in names,
        wants_claims="claims" in names,
    )


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the request (the claims of a verified token; None when anonymous) and how to act as them.

    The token's signature is checked when the route's dependencies are solved, before the body is read;
    the user behind it is loaded (and the token's credentials version compared with theirs) in the same
    transaction as the use case."""

    claims: TokenClaims | None
    runner: UnitOfWorkRunner
    collaborators: Mapping[str, Any]

    async def run(self, use_case: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        shape = _shape(use_case)
        bound = {name: self.collaborators[name] for name in shape.collaborators} | kwargs
        if shape.wants_claims:
            bound["claims"] = self.claims
        if shape.is_flow:
            return await use_case(*args, runner=self.runner, **bound)

        def work(uow: UnitOfWork, actor: User | None) -> Any:
            if shape.wants_actor:
                return use_case(*args, uow=uow, actor=actor, **bound)
            return use_case(*args, uow=uow, **bound)

        if not shape.wants_actor:  # nobody to identify: no need to read the caller
            return await self.runner.run(work, None)
        return await self.runner.run(as_caller, self.claims, work)


def _caller(request: Request, claims: TokenClaims | None) -> Caller:
    container: Container = request.app.state.container
    return Caller(claims, container.unit_of_work_runner(), container.collaborators())


def _claims(request: Request, token: str) -> TokenClaims:
    claims: TokenClaims = request.app.state.container.token_issuer().read(token)
    structlog.contextvars.bind_contextvars(user_id=claims.user_id)  # in the request's log lines
    return claims


async def current_caller(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Caller:
    if not token:
        raise AuthenticationFailed("this route needs a bearer token: log in at POST /auth/token")
    return _caller(request, _claims(request, token))


async def optional_caller(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Caller:
    """Public routes that show more to admins: no token is anonymous, a bad token is still a 401."""
    return _caller(request, _claims(request, token) if token else None)


async def anonymous_caller(request: Request) -> Caller:
    """Routes that are the same for everyone (and log-in, which must not depend on an old token)."""
    return _caller(request, None)


SignedIn = Annotated[Caller, Depends(current_caller)]
Anyone = Annotated[Caller, Depends(optional_caller)]
Public = Annotated[Caller, Depends(anonymous_caller)]


async def client_address(request: Request) -> str | None:
    """The client's address as uvicorn reports it (X-Forwarded-For only from SHOP_FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(max_length=100, description='Send the ETag you read ("3") to update only that version.'),
    ] = None,
) -> int | None:
    """`If-Match: "3"` -> 3; absent or `*` -> no precondition; anything else can never match."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 10:
        raise HTTPException(412, 'If-Match must be an ETag this service sent, such as "3"')
    return int(tag)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
