"""/auth/token and /users."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from application.ports import UserFilter
from application.users import (
    LogIn,
    RegisterUser,
    UserPatch,
    authenticate,
    deactivate_user,
    get_user,
    list_users,
    log_out,
    register_user,
    update_user,
)
from entrypoints.api.dependencies import (
    ClientAddress,
    ClockDep,
    ContainerDep,
    HasherDep,
    LimitsDep,
    SignedIn,
    Uow,
)
from entrypoints.api.paging import Limit, Offset, ResourceId, SearchText
from entrypoints.api.problems import responses
from entrypoints.api.schemas import PageOf, Token, UserCreate, UserRead, UserUpdate

router = APIRouter()


@router.post("/auth/token", response_model=Token, tags=["auth"], responses=responses(401, 429))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    container: ContainerDep,
    uow: Uow,
    hasher: HasherDep,
    clock: ClockDep,
    limits: LimitsDep,
    address: ClientAddress,
) -> Token:
    """OAuth2 password flow: `username` is the email."""
    cmd = LogIn(form.username, form.password, address)
    token = await authenticate(uow, hasher, container.token_issuer(), clock, cmd, limits)
    return Token(access_token=token.access_token, token_type=token.token_type, expires_in=token.expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"], responses=responses(401))
async def logout(caller: SignedIn, clock: ClockDep) -> Response:
    """Revokes every token of the caller's (on every device), this one included."""
    await caller.run(lambda uow, actor: log_out(uow, clock, actor))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    tags=["users"],
    responses=responses(409, 429),
)
async def register(
    body: UserCreate,
    response: Response,
    uow: Uow,
    hasher: HasherDep,
    clock: ClockDep,
    limits: LimitsDep,
    address: ClientAddress,
) -> UserRead:
    cmd = RegisterUser(body.email, body.name, body.password, address)
    user = await register_user(uow, hasher, clock, cmd, limits)
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.of(user)


@router.get("/users", response_model=PageOf[UserRead], tags=["users"], responses=responses(401, 403))
async def users(
    caller: SignedIn,
    limit: Limit = 20,
    offset: Offset = 0,
    is_active: bool | None = None,
    q: SearchText = None,
) -> PageOf[UserRead]:
    page = await caller.run(
        lambda uow, actor: list_users(uow, actor, UserFilter(is_active=is_active, q=q), limit, offset)
    )
    return PageOf.of(page, UserRead.of)


@router.get("/users/me", response_model=UserRead, tags=["users"], responses=responses(401))
async def me(caller: SignedIn) -> UserRead:
    return UserRead.of(await caller.run(lambda uow, actor: actor))


@router.get("/users/{user_id}", response_model=UserRead, tags=["users"], responses=responses(401, 404))
async def user(user_id: ResourceId, caller: SignedIn) -> UserRead:
    return UserRead.of(await caller.run(lambda uow, actor: get_user(uow, actor, user_id)))


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    tags=["users"],
    responses=responses(401, 403, 404, 409, 422, 429),
)
async def change_user(
    user_id: ResourceId,
    body: UserUpdate,
    caller: SignedIn,
    hasher: HasherDep,
    clock: ClockDep,
    limits: LimitsDep,
) -> UserRead:
    """Changing your own `email` or `password` needs `current_password` (422 without it, 403 when wrong);
    a new password revokes every earlier token, so log in again afterwards."""
    patch = UserPatch(**body.model_dump(exclude_unset=True))
    return UserRead.of(await update_user(caller.uow, hasher, clock, caller.signed_in, user_id, patch, limits))


@router.delete(
    "/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"], responses=responses(401, 404)
)
async def deactivate(user_id: ResourceId, caller: SignedIn, clock: ClockDep) -> Response:
    await caller.run(lambda uow, actor: deactivate_user(uow, clock, actor, user_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
