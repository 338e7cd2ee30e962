"""/auth and /users."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from application import paging
from application.auth import LogIn
from application.lists import UserFilter
from application.sales import DEFAULT_SPENDERS, MAX_SPENDERS
from application.users import RegisterUser, UserPatch
from entrypoints.api.dependencies import ClientAddress, Public, SignedIn
from entrypoints.api.paging import Paged, ResourceId, SearchText, utc_or_none
from entrypoints.api.problems import responses
from entrypoints.api.schemas import (
    CustomerStatsRead,
    PageOf,
    Token,
    TopSpenderRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter()


@router.post("/auth/token", response_model=Token, tags=["auth"], responses=responses(401, 429))
async def log_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], caller: Public, address: ClientAddress
) -> Token:
    """OAuth2 password flow: `username` is the email."""
    token = await caller.flows.authenticate(LogIn(form.username, form.password, address))
    return Token(access_token=token.access_token, token_type=token.token_type, expires_in=token.expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"], responses=responses(401))
async def log_out(caller: SignedIn) -> Response:
    """Revokes every token of the caller's (on every device), this one included."""
    await caller.as_user(caller.cases.log_out)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    tags=["users"],
    responses=responses(409, 429),
)
async def register_user(
    body: UserCreate, response: Response, caller: Public, address: ClientAddress
) -> UserRead:
    user = await caller.flows.register_user(RegisterUser(body.email, body.name, body.password, address))
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.of(user)


@router.get("/users", response_model=PageOf[UserRead], tags=["users"], responses=responses(400, 401, 403))
async def list_users(
    caller: SignedIn,
    pages: Paged,
    is_active: bool | None = None,
    q: SearchText = None,
) -> PageOf[UserRead]:
    page = await caller.as_user(
        caller.cases.list_users, UserFilter(is_active=is_active, q=q), pages.window(paging.USERS)
    )
    return pages.answer(page, paging.USERS, UserRead.of)


@router.get("/users/me", response_model=UserRead, tags=["users"], responses=responses(401))
async def get_current_user(caller: SignedIn) -> UserRead:
    return UserRead.of(await caller.as_user(caller.cases.current_user))


# Fixed paths under /users/ come before /users/{user_id}, whose integer would refuse them.
@router.get(
    "/users/top-spenders",
    response_model=list[TopSpenderRead],
    tags=["users"],
    responses=responses(401, 403, 422),
)
async def list_top_spenders(
    caller: SignedIn,
    limit: Annotated[int, Query(ge=1, le=MAX_SPENDERS)] = DEFAULT_SPENDERS,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> list[TopSpenderRead]:
    """Customers ranked by the revenue of their non-cancelled orders created in [created_from, created_to]
    (inclusive; all time without them), then by id; those without such an order are not listed."""
    spenders = await caller.as_user(
        caller.cases.top_spenders, limit, utc_or_none(created_from), utc_or_none(created_to)
    )
    return [TopSpenderRead.of(s) for s in spenders]


@router.get(
    "/users/{user_id}/stats", response_model=CustomerStatsRead, tags=["users"], responses=responses(401, 404)
)
async def get_user_stats(user_id: ResourceId, caller: SignedIn) -> CustomerStatsRead:
    """The customer's own, or any as an admin; another customer's is a 404, as the account is."""
    return CustomerStatsRead.of(await caller.as_user(caller.cases.customer_stats, user_id))


@router.get("/users/{user_id}", response_model=UserRead, tags=["users"], responses=responses(401, 404))
async def get_user(user_id: ResourceId, caller: SignedIn) -> UserRead:
    return UserRead.of(await caller.as_user(caller.cases.get_user, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    tags=["users"],
    responses=responses(401, 403, 404, 409, 422, 429),
)
async def update_user(
    user_id: ResourceId, body: UserUpdate, caller: SignedIn, address: ClientAddress
) -> UserRead:
    """Changing your own `email` or `password` needs `current_password` (422 without it, 403 when wrong,
    checked before anything else); a new password revokes every earlier token, so log in again afterwards."""
    patch = UserPatch(**body.model_dump(exclude_unset=True))
    return UserRead.of(await caller.flows.update_user(caller.claims, user_id, patch, address))


@router.delete(
    "/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"], responses=responses(401, 404)
)
async def deactivate_user(user_id: ResourceId, caller: SignedIn) -> Response:
    await caller.as_user(caller.cases.deactivate_user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
