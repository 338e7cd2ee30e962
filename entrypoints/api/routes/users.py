"""/auth and /users."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from application import paging
from application.auth import LogIn
from application.lists import UserFilter
from application.sales import DEFAULT_SPENDERS, MAX_SPENDERS
from application.users import Deactivation, RegisterUser, UserPatch
from domain.periods import MAX_LAST_DAYS
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
    UsersCreate,
    UsersCreated,
    UsersDeactivate,
    UsersDeactivated,
    UserStatsRead,
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
    responses=responses(409, 422, 429),
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
    days: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_LAST_DAYS,
            description="The last `days` UTC days, today included (instead of created_from/created_to); "
            "`days=30` is kept ranked, as all time is.",
        ),
    ] = None,
) -> list[TopSpenderRead]:
    """Customers ranked by the revenue of their non-cancelled orders created in [created_from, created_to]
    (inclusive; all time without them) or in the last `days` days, then by id; those without such an order
    are not listed."""
    spenders = await caller.as_user(
        caller.cases.top_spenders, limit, utc_or_none(created_from), utc_or_none(created_to), days
    )
    return [TopSpenderRead.of(s) for s in spenders]


@router.get(
    "/users/{user_id}/stats", response_model=CustomerStatsRead, tags=["users"], responses=responses(401, 404)
)
async def get_user_stats(user_id: ResourceId, caller: SignedIn) -> CustomerStatsRead:
    """The customer's own, or any as an admin; another customer's is a 404, as the account is."""
    return CustomerStatsRead.of(await caller.as_user(caller.cases.customer_stats, user_id))


# --- bulk administration and statistics: registered before /users/{user_id} ---------------------------


@router.post(
    "/users/bulk",
    status_code=status.HTTP_201_CREATED,
    response_model=UsersCreated,
    tags=["users"],
    responses=responses(400, 401, 403, 409, 422),
)
async def register_users(body: UsersCreate, caller: SignedIn) -> UsersCreated:
    """Admins: register 1 to 100 users, all or none. A refusal names the row at fault by its position (from
    0): in `loc` for a schema error, in the problem's `index` otherwise (409 for an e-mail given twice or
    already registered, 422 `/problems/weak-password`); then no user is created."""
    rows = [RegisterUser(u.email, u.name, u.password) for u in body.users]
    created = await caller.flows.register_users(caller.claims, rows)
    return UsersCreated(users=[UserRead.of(u) for u in created])


@router.post(
    "/users/bulk-deactivate",
    response_model=UsersDeactivated,
    tags=["users"],
    responses=responses(401, 403),
)
async def deactivate_users(body: UsersDeactivate, caller: SignedIn) -> UsersDeactivated:
    """Admins: deactivate customers (never admins) not seen since `last_login_before` (their last log-in,
    or their registration if they never logged in), at most 1,000 a call (call again until it answers
    fewer), or those listed in `ids` (up to 1,000; unknown ids, admins and inactive accounts are skipped).
    Each deactivation revokes the account's tokens, as `DELETE /users/{id}` does, and puts its
    `user.deactivated` event in the feed (`GET /events?resource=user`), in the same transaction."""
    criteria = Deactivation(
        last_login_before=utc_or_none(body.last_login_before),
        ids=None if body.ids is None else tuple(body.ids),
    )
    return UsersDeactivated(deactivated=await caller.as_user(caller.cases.deactivate_customers, criteria))


@router.get("/users/stats", response_model=UserStatsRead, tags=["users"], responses=responses(401, 403))
async def get_users_stats(
    caller: SignedIn, registered_from: datetime | None = None, registered_to: datetime | None = None
) -> UserStatsRead:
    """Admins: counts of users. `registered` counts those created between `registered_from` and
    `registered_to` (both inclusive, either optional; all users when neither is given)."""
    stats = await caller.as_user(
        caller.cases.user_stats, utc_or_none(registered_from), utc_or_none(registered_to)
    )
    return UserStatsRead.of(stats)


@router.post(
    "/users/{user_id}/erase", response_model=UserRead, tags=["users"], responses=responses(401, 403, 404, 409)
)
async def erase_user(user_id: ResourceId, caller: SignedIn) -> UserRead:
    """Admins: anonymise a customer's account (GDPR erasure): e-mail and name replaced, password unusable,
    deactivated, tokens revoked; their orders keep their history. Erasing again answers the same. An admin's
    account, your own included, is refused (409): demote it first. The first erasure puts `user.erased`
    (with the anonymised account) in the event feed."""
    return UserRead.of(await caller.as_user(caller.cases.erase_user, user_id))


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
