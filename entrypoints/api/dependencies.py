"""FastAPI dependencies: the container's collaborators and the caller, as `Annotated` aliases."""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from application.errors import AuthenticationFailed
from application.ports import AsyncUnitOfWork, Clock
from application.users import identify
from domain.users import User
from entrypoints.container import Container

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def get_container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_uow(container: ContainerDep) -> AsyncUnitOfWork:
    return container.async_unit_of_work()  # type: ignore[no-any-return]


async def get_clock(container: ContainerDep) -> Clock:
    return container.clock()  # type: ignore[no-any-return]


Uow = Annotated[AsyncUnitOfWork, Depends(get_uow)]
ClockDep = Annotated[Clock, Depends(get_clock)]


async def current_user(
    container: ContainerDep, uow: Uow, token: Annotated[str | None, Depends(bearer)]
) -> User:
    if not token:
        raise AuthenticationFailed("this route needs a bearer token: log in at POST /auth/token")
    return await uow.run(identify, container.token_issuer(), token)


async def optional_user(
    container: ContainerDep, uow: Uow, token: Annotated[str | None, Depends(bearer)]
) -> User | None:
    """Public routes that show more to admins: no token is anonymous, a bad token is still a 401."""
    if not token:
        return None
    return await uow.run(identify, container.token_issuer(), token)


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


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
