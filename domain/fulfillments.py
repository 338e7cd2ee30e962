"""Fulfilments: units of an order's lines that left the shop together, with the carrier's tracking. The order
stays the consistency boundary: a fulfilment is created and cancelled under the order's row lock, and moves
the order's lines (`quantity_shipped`) and status through the order's own methods (`Order.ship`,
`Order.unship`), which hold the status rules. A `Fulfillment` is an aggregate of its own for its events."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from domain.aggregate import Aggregate
from domain.errors import IllegalStatusChange
from domain.events import DomainEvent, EventType
from domain.fulfillment_errors import InvalidFulfillment, ShippingAddressRequired
from domain.orders import Order, OrderStatus, can_change

MAX_CARRIER = 100
MAX_TRACKING_NUMBER = 100
MAX_TRACKING_URL = 2000
MAX_FULFILLMENT_LINES = 50  # an order has at most domain.orders.MAX_LINES lines, each once


class FulfillmentState(StrEnum):
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class FulfillmentLine:
    order_line_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Tracking:
    """What the carrier gave, all optional: its name, the parcel's number, a page to follow it."""

    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None

    def check(self) -> None:
        for name, value, limit in (
            ("carrier", self.carrier, MAX_CARRIER),
            ("tracking_number", self.tracking_number, MAX_TRACKING_NUMBER),
            ("tracking_url", self.tracking_url, MAX_TRACKING_URL),
        ):
            if value is not None and not 1 <= len(value) <= limit:
                raise InvalidFulfillment(f"{name} has between 1 and {limit} characters")
        if self.tracking_url is not None:
            url = urlsplit(self.tracking_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise InvalidFulfillment("tracking_url must be an http or https URL")


def check_fulfillment_lines(lines: Sequence[tuple[int, int]]) -> None:
    """1..MAX_FULFILLMENT_LINES lines, each order line once, at least 1 unit each; the API checks the same at
    its door (a 422) by calling this."""
    if not 1 <= len(lines) <= MAX_FULFILLMENT_LINES:
        raise InvalidFulfillment(f"a fulfillment has between 1 and {MAX_FULFILLMENT_LINES} lines")
    line_ids = [line_id for line_id, _ in lines]
    if len(set(line_ids)) != len(line_ids):
        raise InvalidFulfillment("each order line may appear only once in a fulfillment")
    for line_id, quantity in lines:
        if quantity < 1:
            raise InvalidFulfillment(f"quantity for order line {line_id} must be at least 1")


@dataclass(eq=False, slots=True)
class Fulfillment(Aggregate):
    order_id: int
    lines: list[FulfillmentLine]
    created_at: datetime
    updated_at: datetime
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    status: FulfillmentState = FulfillmentState.FULFILLED
    created_by: int | None = None
    cancelled_at: datetime | None = None
    cancelled_by: int | None = None
    version: int = 1
    id: int | None = None
    domain_events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        order: Order,
        lines: Sequence[tuple[int, int]],
        tracking: Tracking = Tracking(),
        *,
        actor_id: int | None,
        at: datetime,
        address_required: bool = True,
    ) -> "Fulfillment":
        """A fulfilment of `lines` (order line id, quantity) the order allows (`Order.check_shipment`; a
        shipping address unless `address_required` is False); it moves nothing yet: once stored, `ship`."""
        check_fulfillment_lines(lines)
        tracking.check()
        if address_required and order.shipping_address is None:
            raise ShippingAddressRequired(order.id)
        order.check_shipment(lines)
        assert order.id is not None
        fulfillment = cls(
            order_id=order.id,
            lines=[FulfillmentLine(line_id, quantity) for line_id, quantity in lines],
            created_at=at,
            updated_at=at,
            carrier=tracking.carrier,
            tracking_number=tracking.tracking_number,
            tracking_url=tracking.tracking_url,
            created_by=actor_id,
        )
        fulfillment.domain_events.append(
            DomainEvent(EventType.FULFILLMENT_CREATED, fulfillment, at, actor_id)
        )
        return fulfillment

    @classmethod
    def of_the_rest(cls, order: Order, *, actor_id: int | None, at: datetime) -> "Fulfillment":
        """A manual status change to shipped: every unit left unshipped, without tracking or an address,
        where the status rules allow the move (IllegalStatusChange, as for any PATCH, where not)."""
        if not can_change(order.status, OrderStatus.SHIPPED):
            raise IllegalStatusChange(order.status.value, OrderStatus.SHIPPED.value)
        return cls.create(order, order.unshipped(), actor_id=actor_id, at=at, address_required=False)

    @property
    def units(self) -> list[tuple[int, int]]:
        return [(line.order_line_id, line.quantity) for line in self.lines]

    @property
    def reason(self) -> str:
        """The reason of the order's status moves it makes."""
        return f"fulfillment {self.id}"

    def ship(self, order: Order, *, announce: bool = True) -> None:
        """Once stored (its id names it): its units leave the order's lines, which may move the order's
        status; `announce` False leaves the history entries without a reason (a manual status change)."""
        assert self.id is not None and order.id == self.order_id
        order.ship(
            self.units, reason=self.reason if announce else None, actor_id=self.created_by, at=self.created_at
        )

    def cancel(self, order: Order, *, actor_id: int | None, at: datetime) -> bool:
        """Its units go back to unshipped (`Order.unship` says when they may); False, and nothing changes,
        when it was cancelled already."""
        assert order.id == self.order_id
        if self.status is FulfillmentState.CANCELLED:
            return False
        event = DomainEvent(EventType.FULFILLMENT_CANCELLED, self, at, actor_id)  # before the order's moves
        order.unship(self.units, fulfillment_id=self.id, actor_id=actor_id, at=at)
        self.status = FulfillmentState.CANCELLED
        self.cancelled_at = at
        self.cancelled_by = actor_id
        self.version += 1
        self.updated_at = at
        self.domain_events.append(event)
        return True
