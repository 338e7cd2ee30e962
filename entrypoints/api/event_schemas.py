"""Request and response models of the event feed and of webhooks."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, UrlConstraints

from domain.catalog import Product
from domain.events import Event, EventType, ResourceType
from domain.fulfillments import Fulfillment
from domain.orders import Order
from domain.payments import Payment
from domain.returns import Return
from domain.users import User
from domain.webhooks import Attempt, Delivery, DeliveryState, Webhook
from entrypoints.api.fulfillment_schemas import FulfillmentRead
from entrypoints.api.payment_schemas import PaymentRead
from entrypoints.api.presented import keep
from entrypoints.api.return_schemas import ReturnRead
from entrypoints.api.schemas import OrderRead, ProductRead, UserRead

WebhookUrl = Annotated[AnyUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]
EventTypes = Annotated[set[EventType], Field(min_length=1, description="The event types to deliver.")]


def present(subject: Order | Product | Payment | User | Fulfillment | Return) -> dict[str, Any]:
    """An event's payload: the order, product, payment, user, fulfilment or return as the API returns it
    (never a password hash; an erased user as anonymised). See application.event_ports.Presenter."""
    read: BaseModel
    if isinstance(subject, Order):
        read = OrderRead.of(subject)
        keep(subject, read)  # a route may answer with it (entrypoints.api.presented)
    elif isinstance(subject, Payment):
        read = PaymentRead.of(subject)
    elif isinstance(subject, Fulfillment):
        read = FulfillmentRead.of(subject)
    elif isinstance(subject, Return):
        read = ReturnRead.of(subject)
    elif isinstance(subject, User):
        read = UserRead.of(subject)
    else:
        read = ProductRead.of(subject)
    return read.model_dump(mode="json")


class EventRead(BaseModel):
    """One event, as the feed lists it and as a webhook receives it (the body of the POST)."""

    id: int
    type: EventType
    resource_type: ResourceType
    resource_id: int
    sequence: int = Field(description="1, 2, ... among the events of its resource, with no gaps.")
    created_at: datetime
    actor_id: int | None
    data: dict[str, Any] = Field(description="The resource as the API returned it at that moment.")

    @classmethod
    def of(cls, e: Event) -> "EventRead":
        return cls(
            id=e.id,
            type=e.type,
            resource_type=e.resource_type,
            resource_id=e.resource_id,
            sequence=e.sequence,
            created_at=e.created_at,
            actor_id=e.actor_id,
            data=e.payload,
        )


def render_event(event: Event) -> bytes:
    """The body a webhook receives."""
    return EventRead.of(event).model_dump_json().encode()


class EventFeed(BaseModel):
    items: list[EventRead]
    has_more: bool = Field(description="More events follow: ask again with the last item's id.")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    event_types: EventTypes
    enabled: bool = True


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    enabled: bool | None = None


class WebhookRead(BaseModel):
    id: int
    url: str
    event_types: list[EventType]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, w: Webhook) -> "WebhookRead":
        return cls(
            id=w.id or 0,
            url=w.url,
            event_types=sorted(w.event_types),
            enabled=w.enabled,
            disabled_reason=w.disabled_reason,
            consecutive_failures=w.consecutive_failures,
            created_at=w.created_at,
            updated_at=w.updated_at,
        )


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signs every delivery (see Shop-Signature). Shown only in this answer.")

    @classmethod
    def of_new(cls, w: Webhook) -> "WebhookCreated":
        return cls(**WebhookRead.of(w).model_dump(), secret=w.secret)


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response_body: str | None = Field(description="The receiver's answer, truncated.")

    @classmethod
    def of(cls, a: Attempt) -> "AttemptRead":
        return cls.model_validate(a, from_attributes=True)


class DeliveryRead(BaseModel):
    id: int
    event_id: int
    event_type: EventType
    state: DeliveryState
    attempts: list[AttemptRead]
    next_attempt_at: datetime | None = Field(description="When it is tried next, while pending.")
    created_at: datetime

    @classmethod
    def of(cls, d: Delivery) -> "DeliveryRead":
        pending = d.state is DeliveryState.PENDING
        return cls(
            id=d.id or 0,
            event_id=d.event_id,
            event_type=d.event_type,
            state=d.state,
            attempts=[AttemptRead.of(a) for a in d.history],
            next_attempt_at=d.next_attempt_at if pending else None,
            created_at=d.created_at,
        )
