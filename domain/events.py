"""Domain events: what happened to an order or a product, for other systems to learn (the outbox, the
event feed, webhooks). The use cases raise them; the Unit of Work stores them with the change itself."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.catalog import Product
from domain.orders import Order
from domain.stock import StockMovement


class EventType(StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_STATUS_CHANGED = "order.status_changed"  # any move but to cancelled
    ORDER_CANCELLED = "order.cancelled"  # by a customer, an admin, or expiry (then the actor is None)
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"  # soft: it leaves the catalog
    PRODUCT_OUT_OF_STOCK = "product.out_of_stock"
    PRODUCT_BACK_IN_STOCK = "product.back_in_stock"
    STOCK_ADJUSTED = "stock.adjusted"  # an admin's adjustment or correction


class ResourceType(StrEnum):
    ORDER = "order"
    PRODUCT = "product"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Raised in a use case; `subject` is the order or product as the change left it."""

    type: EventType
    subject: Order | Product
    at: datetime
    actor_id: int | None = None

    @property
    def resource_type(self) -> ResourceType:
        return ResourceType.ORDER if isinstance(self.subject, Order) else ResourceType.PRODUCT

    @property
    def resource_id(self) -> int:
        assert self.subject.id is not None, "events are raised once the resource is stored"
        return self.subject.id


@dataclass(frozen=True, slots=True)
class Event:
    """A stored event. `sequence` counts the events of its resource from 1, with no gaps; `payload` is the
    resource's public representation at that moment."""

    id: int
    type: EventType
    resource_type: ResourceType
    resource_id: int
    sequence: int
    created_at: datetime
    actor_id: int | None
    payload: dict[str, Any] = field(default_factory=dict)


def stock_events(
    movements: Sequence[StockMovement], products: dict[int, Product], *, at: datetime, actor_id: int | None
) -> list[DomainEvent]:
    """A product ran out (a movement left it at 0) or came back (a movement lifted it from 0)."""
    raised = []
    for m in movements:
        if m.delta < 0 and m.quantity == 0:
            raised.append(DomainEvent(EventType.PRODUCT_OUT_OF_STOCK, products[m.product_id], at, actor_id))
        elif m.delta > 0 and m.quantity == m.delta:
            raised.append(DomainEvent(EventType.PRODUCT_BACK_IN_STOCK, products[m.product_id], at, actor_id))
    return raised
