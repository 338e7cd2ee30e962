"""FastAPI dependencies: the container's collaborators and the caller, as `Annotated` aliases."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from application.errors import AuthenticationFailed
from application.ports import AsyncUnitOfWork, Clock, PasswordHasher, TokenClaims, UnitOfWork
from application.throttling import Limits
from application.users import as_caller
from entrypoints.container import Container

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
T = TypeVar("T")


async def get_container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_uow(container: ContainerDep) -> AsyncUnitOfWork:
    return container.async_unit_of_work()  # type: ignore[no-any-return]


async def get_clock(container: ContainerDep) -> Clock:
    return container.clock()  # type: ignore[no-any-return]


async def get_hasher(container: ContainerDep) -> PasswordHasher:
    return container.password_hasher()  # type: ignore[no-any-return]


async def get_limits(container: ContainerDep) -> Limits:
    return container.throttle_limits()  # type: ignore[no-any-return]


async def client_address(request: Request) -> str | None:
    """The client's address as uvicorn reports it (X-Forwarded-For only from SHOP_FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else None


Uow = Annotated[AsyncUnitOfWork, Depends(get_uow)]
ClockDep = Annotated[Clock, Depends(get_clock)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
ClientAddress = Annotated[str | None, Depends(client_address)]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the request (the claims of a verified token; None when anonymous) and how to act as them.

    The token's signature is checked here, before the body is read; the user behind it is loaded (and the
    token's credentials version compared with theirs) by `run`, in the same transaction as the use case."""

    claims: TokenClaims | None
    uow: AsyncUnitOfWork

    async def run(self, work: Callable[[UnitOfWork, Any], T]) -> T:
        """`work(uow, user)`: the user is the active account behind the token, or None if anonymous."""
        return await self.uow.run(as_caller, self.claims, work)

    @property
    def signed_in(self) -> TokenClaims:
        assert self.claims is not None, "only for routes that depend on SignedIn"
        return self.claims


def _claims(container: Container, token: str) -> TokenClaims:
    return container.token_issuer().read(token)  # type: ignore[no-any-return]


async def current_caller(
    container: ContainerDep, uow: Uow, token: Annotated[str | None, Depends(bearer)]
) -> Caller:
    if not token:
        raise AuthenticationFailed("this route needs a bearer token: log in at POST /auth/token")
    return Caller(_claims(container, token), uow)


async def optional_caller(
    container: ContainerDep, uow: Uow, token: Annotated[str | None, Depends(bearer)]
) -> Caller:
    """Public routes that show more to admins: no token is anonymous, a bad token is still a 401."""
    return Caller(_claims(container, token) if token else None, uow)


SignedIn = Annotated[Caller, Depends(current_caller)]
Anyone = Annotated[Caller, Depends(optional_caller)]


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
