"""FastAPI dependencies: the caller, who runs the container's bound use cases (entrypoints.use_cases).

A route runs its use case one of four ways, each typed end to end (arguments checked against the use case,
the result's type is the use case's):
- `await caller.anonymous(caller.cases.get_product, product_id)`: work that is the same for everyone; the
  caller is not read (no statement spent on them);
- `await caller.as_user(caller.cases.cancel_order, order_id)`: work for a signed-in user, loaded (and their
  token's credentials version checked) in the work's own unit of work; only a `SignedIn` caller has it;
- `await caller.as_anyone(caller.cases.list_products, filters, window)`: the same with None for an anonymous
  caller (public routes that show admins more);
- `await caller.flows.update_user(caller.claims, user_id, patch, address)`: an async flow over the runner
  (password hashing, idempotent placement), given the token's claims where it identifies the caller itself.

Where the work reads is decided here, once, from the use case itself: those marked `replica_read`
(entrypoints.use_cases) go to `reads` (a streaming replica when one may serve the request), all others and
every flow to the primary's runner. Without replicas `reads` is None."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Concatenate, ParamSpec, TypeVar

import structlog
from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param

from application.auth import as_caller
from application.errors import AuthenticationFailed
from application.ports import TokenClaims, UnitOfWork, UnitOfWorkRunner
from domain.users import User
from entrypoints.container import Container
from entrypoints.use_cases import Flows, UseCases, Wiring, reads_from_replica

# The scheme the OpenAPI names for every route that reads a bearer token (see _BearerCaller).
_SCHEME = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the request (the claims of a verified token; None when anonymous) and how to act as them.

    The token's signature is checked when the route's dependencies are solved, before the body is read;
    the user behind it is loaded (and the token's credentials version compared with theirs) in the same
    transaction as the use case."""

    claims: TokenClaims | None
    runner: UnitOfWorkRunner
    cases: UseCases
    flows: Flows
    reads: UnitOfWorkRunner | None = None  # for the use cases marked replica_read; None: the runner

    def runner_for(self, work: object) -> UnitOfWorkRunner:
        """The one place that decides where a use case runs: a replica-readable one on `reads`."""
        return self.reads if self.reads is not None and reads_from_replica(work) else self.runner

    async def anonymous(
        self, work: Callable[Concatenate[UnitOfWork, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self.runner_for(work).run(work, *args, **kwargs)

    async def as_anyone(
        self, work: Callable[Concatenate[UnitOfWork, User | None, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        def as_them(uow: UnitOfWork, actor: User | None) -> T:
            return work(uow, actor, *args, **kwargs)

        return await self.runner_for(work).run(as_caller, self.claims, as_them)


@dataclass(frozen=True, slots=True)
class SignedInCaller(Caller):
    """A caller with a verified token: the only kind that runs work as a user."""

    claims: TokenClaims

    async def as_user(
        self, work: Callable[Concatenate[UnitOfWork, User, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        def as_them(uow: UnitOfWork, actor: User | None) -> T:
            if actor is None:  # as_caller always finds the user these claims name, or raises
                raise AuthenticationFailed("log in again")
            return work(uow, actor, *args, **kwargs)

        return await self.runner_for(work).run(as_caller, self.claims, as_them)


def _wiring(request: Request) -> Wiring:
    """What every caller runs with, built once by the container."""
    container: Container = request.app.state.container
    return Wiring(
        container.unit_of_work_runner(),
        container.use_cases(),
        container.flows(),
        container.kept_replica_reads()[0],
        container.token_issuer(),
    )


def _claims(wiring: Wiring, token: str) -> TokenClaims:
    claims = wiring.tokens.read(token)
    structlog.contextvars.bind_contextvars(user_id=claims.user_id)  # in the request's log lines
    return claims


class _BearerCaller(SecurityBase):
    """The caller, from the request's bearer token, as one dependency: FastAPI solves one callable per
    request instead of a caller depending on `OAuth2PasswordBearer` (a dependency of its own). In the
    OpenAPI it is that very scheme (same model, same name), so the document does not change."""

    def __init__(self) -> None:
        self.model = _SCHEME.model
        self.scheme_name = _SCHEME.scheme_name

    def token(self, request: Request) -> str | None:
        """What `OAuth2PasswordBearer(auto_error=False)` reads: the `Bearer` credentials, else None."""
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        return token if scheme.lower() == "bearer" else None


class _SignedIn(_BearerCaller):
    async def __call__(self, request: Request) -> SignedInCaller:
        token = self.token(request)
        if not token:
            raise AuthenticationFailed("this route needs a bearer token: log in at POST /auth/token")
        w = _wiring(request)
        return SignedInCaller(_claims(w, token), w.runner, w.cases, w.flows, w.reads)


class _Anyone(_BearerCaller):
    async def __call__(self, request: Request) -> Caller:
        """Public routes that show more to admins: no token is anonymous, a bad token is still a 401."""
        token, w = self.token(request), _wiring(request)
        return Caller(_claims(w, token) if token else None, w.runner, w.cases, w.flows, w.reads)


async def anonymous_caller(request: Request) -> Caller:
    """Routes that are the same for everyone (and log-in, which must not depend on an old token)."""
    w = _wiring(request)
    return Caller(None, w.runner, w.cases, w.flows, w.reads)


current_caller = _SignedIn()
optional_caller = _Anyone()
SignedIn = Annotated[SignedInCaller, Depends(current_caller)]
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
