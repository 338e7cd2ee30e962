"""/users/me/addresses and (admins) /users/{user_id}/addresses: the address book."""

from fastapi import APIRouter, Response, status

from application.addresses import NewAddress
from entrypoints.api.address_schemas import AddressCreate, AddressRead, AddressUpdate
from entrypoints.api.dependencies import SignedIn
from entrypoints.api.paging import ResourceId
from entrypoints.api.problems import responses

router = APIRouter(tags=["addresses"])
MINE = "/users/me/addresses"
THEIRS = "/users/{user_id}/addresses"


async def _list(caller: SignedIn, user_id: int | None) -> list[AddressRead]:
    entries = await caller.as_user(caller.cases.list_addresses, user_id)
    return [AddressRead.of_entry(e) for e in entries]


async def _add(caller: SignedIn, user_id: int | None, body: AddressCreate, response: Response) -> AddressRead:
    cmd = NewAddress(body.to_address(), body.is_default_shipping, body.is_default_billing)
    entry = await caller.as_user(caller.cases.add_address, user_id, cmd)
    book = MINE if user_id is None else THEIRS.format(user_id=user_id)
    response.headers["Location"] = f"{book}/{entry.id}"
    return AddressRead.of_entry(entry)


@router.get(MINE, response_model=list[AddressRead], responses=responses(401))
async def list_my_addresses(caller: SignedIn) -> list[AddressRead]:
    """Your address book (at most 50 entries), oldest first."""
    return await _list(caller, None)


@router.post(
    MINE, status_code=status.HTTP_201_CREATED, response_model=AddressRead, responses=responses(401, 409, 422)
)
async def add_my_address(body: AddressCreate, response: Response, caller: SignedIn) -> AddressRead:
    """A default sent true takes it from the entry that had it. A full book (50) answers 409
    `/problems/address-book-full`."""
    return await _add(caller, None, body, response)


@router.get(MINE + "/{address_id}", response_model=AddressRead, responses=responses(401, 404))
async def get_my_address(address_id: ResourceId, caller: SignedIn) -> AddressRead:
    return AddressRead.of_entry(await caller.as_user(caller.cases.get_address, None, address_id))


@router.patch(MINE + "/{address_id}", response_model=AddressRead, responses=responses(401, 404, 422))
async def update_my_address(address_id: ResourceId, body: AddressUpdate, caller: SignedIn) -> AddressRead:
    """Orders placed with it keep the copy they have."""
    entry = await caller.as_user(caller.cases.update_address, None, address_id, body.to_patch())
    return AddressRead.of_entry(entry)


@router.delete(MINE + "/{address_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 404))
async def delete_my_address(address_id: ResourceId, caller: SignedIn) -> Response:
    """Orders placed with it keep the copy they have."""
    await caller.as_user(caller.cases.delete_address, None, address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- admins: anyone's book (a customer's own id works too; another's is a 404) --------------------------


@router.get(THEIRS, response_model=list[AddressRead], responses=responses(401, 404))
async def list_user_addresses(user_id: ResourceId, caller: SignedIn) -> list[AddressRead]:
    return await _list(caller, user_id)


@router.post(
    THEIRS,
    status_code=status.HTTP_201_CREATED,
    response_model=AddressRead,
    responses=responses(401, 404, 409, 422),
)
async def add_user_address(
    user_id: ResourceId, body: AddressCreate, response: Response, caller: SignedIn
) -> AddressRead:
    return await _add(caller, user_id, body, response)


@router.get(THEIRS + "/{address_id}", response_model=AddressRead, responses=responses(401, 404))
async def get_user_address(user_id: ResourceId, address_id: ResourceId, caller: SignedIn) -> AddressRead:
    return AddressRead.of_entry(await caller.as_user(caller.cases.get_address, user_id, address_id))


@router.patch(THEIRS + "/{address_id}", response_model=AddressRead, responses=responses(401, 404, 422))
async def update_user_address(
    user_id: ResourceId, address_id: ResourceId, body: AddressUpdate, caller: SignedIn
) -> AddressRead:
    entry = await caller.as_user(caller.cases.update_address, user_id, address_id, body.to_patch())
    return AddressRead.of_entry(entry)


@router.delete(
    THEIRS + "/{address_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 404)
)
async def delete_user_address(user_id: ResourceId, address_id: ResourceId, caller: SignedIn) -> Response:
    await caller.as_user(caller.cases.delete_address, user_id, address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
