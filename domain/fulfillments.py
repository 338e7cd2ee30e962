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
from domain.fulfillment_errors import (
    FulfillmentLimit,
    FulfillmentNotCancellable,
    InvalidFulfillment,
    OrderNotFulfillable,
    ShippingAddressRequired,
)
from domain.orders import FULFILLABLE, Order, OrderLine, OrderStatus, can_change

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


def unshipped(order: Order) -> list[tuple[int, int]]:
    """(line id, units left to ship) of every line of `order` with units left, in line order."""
    # Equivalent mutant: a stored order's lines all have ids (`or 0` is for the type checker).
    return [(line.id or 0, line.unshipped) for line in order.lines if line.unshipped]  # pragma: no mutate


def check_shipment(order: Order, units: Sequence[tuple[int, int]]) -> None:
    """`units` (order line id, quantity) may ship: only the order's own lines, at most what is left unshipped
    on each (checked first: the loser of a race for the last units, which shipped the order, learns that),
    and only while the order is confirmed or processing."""
    for line_id, quantity in units:
        line = _line(order, line_id)
        if quantity > line.unshipped:
            raise FulfillmentLimit(line_id, quantity, line.unshipped)
    if order.status not in FULFILLABLE:
        raise OrderNotFulfillable(order.id, order.status.value)


def _line(order: Order, line_id: int) -> OrderLine:
    for line in order.lines:
        if line.id == line_id:
            return line
    raise InvalidFulfillment(f"order line {line_id} is not a line of order {order.id}")


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
        """A fulfilment of `lines` (order line id, quantity) the order allows (`check_shipment`; a shipping
        address unless `address_required` is False); it moves nothing yet: once stored, `ship`."""
        check_fulfillment_lines(lines)
        tracking.check()
        if address_required and order.shipping_address is None:
            raise ShippingAddressRequired(order.id)
        check_shipment(order, lines)
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
        return cls.create(order, unshipped(order), actor_id=actor_id, at=at, address_required=False)

    @property
    def units(self) -> list[tuple[int, int]]:
        return [(line.order_line_id, line.quantity) for line in self.lines]

    @property
    def reason(self) -> str:
        """The reason of the order's status moves it makes."""
        return f"fulfillment {self.id}"

    def ship(self, order: Order, *, announce: bool = True) -> None:
        """Once stored (its id names it): its units leave the order's lines, which may move the order's
        status (`Order.record_shipment`); `announce` False leaves the history entries without a reason (a
        manual status change)."""
        assert self.id is not None and order.id == self.order_id
        check_shipment(order, self.units)
        moved = []
        for line_id, quantity in self.units:
            line = _line(order, line_id)
            line.quantity_shipped += quantity
            moved.append(line)
        reason = self.reason if announce else None
        order.record_shipment(moved, reason=reason, actor_id=self.created_by, at=self.created_at)

    def cancel(self, order: Order, *, actor_id: int | None, at: datetime) -> bool:
        """Its units go back to unshipped: not once the order is delivered, nor units returned since (a line
        keeps shipped >= returned). False, and nothing changes, when it was cancelled already."""
        assert order.id == self.order_id
        if self.status is FulfillmentState.CANCELLED:
            return False
        if order.status is OrderStatus.DELIVERED:
            raise FulfillmentNotCancellable(self.id, f"order {order.id} was delivered")
        lines = [(_line(order, line_id), quantity) for line_id, quantity in self.units]
        for line, quantity in lines:
            if line.quantity_shipped - quantity < line.quantity_returned:
                raise FulfillmentNotCancellable(
                    self.id, f"{line.quantity_returned} units of order line {line.id} were returned"
                )
        event = DomainEvent(EventType.FULFILLMENT_CANCELLED, self, at, actor_id)  # before the order's moves
        for line, quantity in lines:
            line.quantity_shipped -= quantity
        order.record_unshipment(
            [line for line, _ in lines], reason=f"{self.reason} cancelled", actor_id=actor_id, at=at
        )
        self.status = FulfillmentState.CANCELLED
        self.cancelled_at = at
        self.cancelled_by = actor_id
        self.version += 1
        self.updated_at = at
        self.domain_events.append(event)
        return True
