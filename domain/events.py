"""Domain events: what happened to an order, a product, a payment or a user account, for other systems to
learn (the outbox, the event feed, webhooks). The aggregates record them as they change (domain.aggregate);
the Unit of Work collects them and stores them with the change itself.

Not to be mixed up with an order's status history (domain.orders.StatusChange): that is part of the order,
served at /orders/{id}/events; these are the outbox's, served at /events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the aggregates import this module to record their events
    from domain.catalog import Product
    from domain.fulfillments import Fulfillment
    from domain.orders import Order
    from domain.payments import Payment
    from domain.returns import Return
    from domain.users import User


class ResourceType(StrEnum):
    ORDER = "order"
    PRODUCT = "product"
    USER = "user"
    PAYMENT = "payment"
    FULFILLMENT = "fulfillment"
    RETURN = "return"


class EventType(StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_STATUS_CHANGED = "order.status_changed"  # any move but to cancelled
    ORDER_CANCELLED = "order.cancelled"  # by a customer, an admin, or expiry (then the actor is None)
    ORDER_REFUNDED = "order.refunded"  # money given back for a return or as a goodwill gesture
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"  # soft: it leaves the catalog
    PRODUCT_OUT_OF_STOCK = "product.out_of_stock"
    PRODUCT_BACK_IN_STOCK = "product.back_in_stock"
    STOCK_ADJUSTED = "stock.adjusted"  # an admin's adjustment or correction
    USER_DEACTIVATED = "user.deactivated"  # by an admin, the user, or in bulk; its tokens are revoked
    USER_REACTIVATED = "user.reactivated"
    USER_ERASED = "user.erased"  # anonymised (and deactivated): the payload is the anonymised account
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CAPTURED = "payment.captured"  # a capture, or a charge (authorised and captured at once)
    PAYMENT_VOIDED = "payment.voided"
    PAYMENT_REFUNDED = "payment.refunded"
    FULFILLMENT_CREATED = "fulfillment.created"
    FULFILLMENT_CANCELLED = "fulfillment.cancelled"
    RETURN_REQUESTED = "return.requested"  # by the customer, for an admin to accept or reject
    RETURN_ACCEPTED = "return.accepted"  # by an admin (one an admin records is accepted at once)
    RETURN_REJECTED = "return.rejected"

    @property
    def resource_type(self) -> ResourceType:
        return _RESOURCES[self.value.partition(".")[0]]


# An event type's resource, by the type's prefix.
_RESOURCES = {
    "order": ResourceType.ORDER,
    "product": ResourceType.PRODUCT,
    "stock": ResourceType.PRODUCT,
    "user": ResourceType.USER,
    "payment": ResourceType.PAYMENT,
    "fulfillment": ResourceType.FULFILLMENT,
    "return": ResourceType.RETURN,
}

# Numbers every domain event in the order it was raised: a unit of work that collects the events of several
# aggregates (an order and the products it emptied) stores them in that order.
# Equivalent mutants: only the order of the numbers matters, not where they start.
_RAISED = itertools.count(1)  # pragma: no mutate


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Recorded by an aggregate as it changes; `subject` is the order, product, user, payment or return,
    presented (as the API shows it) when the Unit of Work collects the event, once the change is stored."""

    type: EventType
    subject: Order | Product | User | Payment | Fulfillment | Return
    at: datetime
    actor_id: int | None = None
    raised: int = field(default_factory=_RAISED.__next__)

    @property
    def resource_type(self) -> ResourceType:
        return self.type.resource_type

    @property
    def resource_id(self) -> int:
        assert self.subject.id is not None, "events are collected once the resource is stored"
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
