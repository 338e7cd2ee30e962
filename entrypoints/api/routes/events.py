"""/events (the feed) and /webhooks (subscriptions, their deliveries, retries)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from adapters.fields import MAX_ID
from application import events, paging
from application.lists import EventFilter
from application.patch import UNSET
from application.webhooks import CreateWebhook, WebhookPatch
from domain.events import EventType, ResourceType
from entrypoints.api.dependencies import SignedIn
from entrypoints.api.event_schemas import (
    DeliveryRead,
    EventFeed,
    EventRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from entrypoints.api.paging import Paged, ResourceId
from entrypoints.api.problems import responses
from entrypoints.api.schemas import PageOf

router = APIRouter()
ADMIN = (401, 403)
FeedLimit = Annotated[int, Query(ge=1, le=events.MAX_FEED_PAGE, description="Events per answer.")]


@router.get("/events", response_model=EventFeed, tags=["events"], responses=responses(400, *ADMIN))
async def read_events(
    caller: SignedIn,
    type: Annotated[EventType | None, Query(description="Only events of this type.")] = None,
    resource: Annotated[
        ResourceType | None, Query(description="Only events of this kind of resource.")
    ] = None,
    resource_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this resource's.")] = None,
    starting_after: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="An event's id: the events committed after it.")
    ] = None,
    limit: FeedLimit = 50,
) -> EventFeed:
    filters = EventFilter(type, resource, resource_id)
    feed = await caller.as_user(caller.cases.read_events, filters, starting_after, limit)
    return EventFeed(items=[EventRead.of(e) for e in feed.items], has_more=feed.has_more)


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    tags=["webhooks"],
    responses=responses(*ADMIN, 422),
)
async def create_webhook(body: WebhookCreate, response: Response, caller: SignedIn) -> WebhookCreated:
    cmd = CreateWebhook(str(body.url), frozenset(body.event_types), body.enabled)
    webhook = await caller.as_user(caller.cases.create_webhook, cmd)
    response.headers["Location"] = f"/webhooks/{webhook.id}"
    return WebhookCreated.of_new(webhook)


@router.get(
    "/webhooks", response_model=PageOf[WebhookRead], tags=["webhooks"], responses=responses(400, *ADMIN)
)
async def list_webhooks(caller: SignedIn, pages: Paged) -> PageOf[WebhookRead]:
    page = await caller.as_user(caller.cases.list_webhooks, pages.window(paging.WEBHOOKS))
    return pages.answer(page, paging.WEBHOOKS, WebhookRead.of)


@router.get(
    "/webhooks/{webhook_id}", response_model=WebhookRead, tags=["webhooks"], responses=responses(*ADMIN, 404)
)
async def get_webhook(webhook_id: ResourceId, caller: SignedIn) -> WebhookRead:
    return WebhookRead.of(await caller.as_user(caller.cases.get_webhook, webhook_id))


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    tags=["webhooks"],
    responses=responses(*ADMIN, 404, 422),
)
async def update_webhook(webhook_id: ResourceId, body: WebhookUpdate, caller: SignedIn) -> WebhookRead:
    patch = WebhookPatch(
        url=str(body.url) if body.url is not None else UNSET,
        event_types=frozenset(body.event_types) if body.event_types is not None else UNSET,
        enabled=body.enabled if body.enabled is not None else UNSET,
    )
    return WebhookRead.of(await caller.as_user(caller.cases.update_webhook, webhook_id, patch))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["webhooks"],
    responses=responses(*ADMIN, 404),
)
async def delete_webhook(webhook_id: ResourceId, caller: SignedIn) -> Response:
    await caller.as_user(caller.cases.delete_webhook, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=PageOf[DeliveryRead],
    tags=["webhooks"],
    responses=responses(400, *ADMIN, 404),
)
async def list_deliveries(webhook_id: ResourceId, caller: SignedIn, pages: Paged) -> PageOf[DeliveryRead]:
    page = await caller.as_user(caller.cases.list_deliveries, webhook_id, pages.window(paging.DELIVERIES))
    return pages.answer(page, paging.DELIVERIES, DeliveryRead.of)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["webhooks"],
    responses=responses(*ADMIN, 404),
)
async def retry_delivery(
    webhook_id: ResourceId,
    delivery_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    caller: SignedIn,
) -> DeliveryRead:
    return DeliveryRead.of(await caller.as_user(caller.cases.retry_delivery, webhook_id, delivery_id))
