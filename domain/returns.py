"""Returns: units of an order's shipped lines coming back (issue 28). A `Return` is an aggregate of its own
whose consistency boundary is its order: requesting, accepting and rejecting run under the order's row lock,
and accepting moves the order's lines (`Order.receive_return`). A customer requests one (for an admin to
accept or reject); an admin records one accepted at once. Its proposed refund is the unit price of every
unit sent back, plus an extra amount (shipping, goodwill) given explicitly."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.aggregate import Aggregate
from domain.catalog import Product
from domain.entity import Entity
from domain.events import DomainEvent, EventType
from domain.money import MAX_AMOUNT, money
from domain.orders import Order, OrderStatus
from domain.payments import ZERO
from domain.return_errors import (
    IllegalReturnChange,
    InvalidReturn,
    ReturnAlreadyRefunded,
    ReturnLimit,
    ReturnWindowClosed,
)
from domain.stock import MovementKind, StockMovement
from domain.users import User

MAX_RETURN_REASON = 500
MAX_RETURN_LINES = 50  # an order has at most as many lines (domain.orders.MAX_LINES)
DEFAULT_RETURN_WINDOW_DAYS = 30


class ReturnState(StrEnum):
    REQUESTED = "requested"  # by its customer, for an admin to accept or reject
    ACCEPTED = "accepted"  # its units are back on the order's lines (and, with restock, on the shelf)
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ReturnItem:
    """What a request names for one order line."""

    order_line_id: int
    quantity: int
    reason: str | None = None
    restock: bool = False


@dataclass(eq=False, slots=True)
class ReturnLine(Entity):
    """One order line's units in a return, with the line's product and unit price copied."""

    order_line_id: int
    product_id: int
    quantity: int
    unit_price: Decimal
    restock: bool = False
    reason: str | None = None
    id: int | None = None


def check_items(items: Sequence[ReturnItem], refund_extra: Decimal | None) -> None:
    """1..MAX_RETURN_LINES lines, each order line once, at least 1 unit each, reasons of at most
    MAX_RETURN_REASON characters, an extra amount above 0 if any; the API checks the same at its door."""
    if not 1 <= len(items) <= MAX_RETURN_LINES:
        raise InvalidReturn(f"a return has between 1 and {MAX_RETURN_LINES} lines")
    line_ids = [item.order_line_id for item in items]
    if len(set(line_ids)) != len(line_ids):
        raise InvalidReturn("each order line may appear only once in a return")
    for item in items:
        if item.quantity < 1:
            raise InvalidReturn(f"order line {item.order_line_id}: a return takes at least 1 unit")
        if item.reason is not None and len(item.reason) > MAX_RETURN_REASON:
            raise InvalidReturn(f"a reason has at most {MAX_RETURN_REASON} characters")
    check_extra(refund_extra)


def check_extra(extra: Decimal | None) -> None:
    if extra is not None and not ZERO < extra <= MAX_AMOUNT:
        raise InvalidReturn(f"an extra amount must be greater than 0 and at most {MAX_AMOUNT}")


def check_window(order: Order, delivered_at: datetime | None, window: timedelta, now: datetime) -> None:
    """A customer may request a return while the order is shipped, or delivered (at `delivered_at`, from its
    status history) no longer than `window` ago."""
    if order.status is OrderStatus.SHIPPED:
        return
    if order.status is OrderStatus.DELIVERED and delivered_at is not None and now - delivered_at <= window:
        return
    raise ReturnWindowClosed(order.id, order.status.value, window.days)


def open_units(others: Sequence["Return"]) -> dict[int, int]:
    """Units of each order line that the order's open (requested) returns ask back."""
    units: dict[int, int] = {}
    for other in others:
        if other.status is ReturnState.REQUESTED:
            for line in other.lines:
                units[line.order_line_id] = units.get(line.order_line_id, 0) + line.quantity
    return units


@dataclass(eq=False, slots=True)
class Return(Aggregate):
    order_id: int
    status: ReturnState
    created_at: datetime
    updated_at: datetime
    requested_by: int | None
    lines: list[ReturnLine] = field(default_factory=list)
    refund_extra: Decimal = ZERO  # shipping or goodwill given back on top of the units
    refunded: Decimal = ZERO  # what its refund gave back (once)
    decided_by: int | None = None
    decided_at: datetime | None = None
    rejection_reason: str | None = None
    version: int = 1
    id: int | None = None
    domain_events: list[DomainEvent] = field(default_factory=list)
    # Units an acceptance put back on the shelf, for the repositories to store once it has an id.
    stock_movements: list[StockMovement] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        order: Order,
        items: Sequence[ReturnItem],
        *,
        others: Sequence["Return"],
        by: User,
        at: datetime,
        refund_extra: Decimal | None = None,
    ) -> "Return":
        """A customer's request (requested; return.requested), or an admin's return, accepted at once (no
        request event). Each line at most what was shipped and not returned, less what the order's other
        open requests ask back (ReturnLimit)."""
        assert order.id is not None
        check_items(items, refund_extra)
        asked = open_units(others)
        for item in items:
            available = order.returnable(item.order_line_id) - asked.get(item.order_line_id, 0)
            if item.quantity > available:
                raise ReturnLimit(item.order_line_id, item.quantity, available)
        by_id = {line.id: line for line in order.lines}
        lines = [
            ReturnLine(
                order_line_id=item.order_line_id,
                product_id=by_id[item.order_line_id].product_id,
                quantity=item.quantity,
                unit_price=by_id[item.order_line_id].unit_price,
                restock=item.restock,
                reason=item.reason,
            )
            for item in items
        ]
        extra = money(refund_extra) if refund_extra is not None else ZERO
        opened = cls(order.id, ReturnState.REQUESTED, at, at, by.id, lines, refund_extra=extra)
        if not by.is_admin:
            opened.domain_events.append(DomainEvent(EventType.RETURN_REQUESTED, opened, at, by.id))
        return opened

    @property
    def proposed_refund(self) -> Decimal:
        """Unit price × quantity of every line, plus the extra amount."""
        units = sum((line.unit_price * line.quantity for line in self.lines), ZERO)
        return money(units + self.refund_extra)

    def units(self) -> dict[int, int]:
        """Its quantities by order line id."""
        return {line.order_line_id: line.quantity for line in self.lines}

    def product_ids(self) -> list[int]:
        """Of the lines it restocks, in id order: the order in which their products are locked."""
        return sorted({line.product_id for line in self.lines if line.restock})

    def accept(self, order: Order, products: Mapping[int, Product], *, by: User, at: datetime) -> None:
        """Only a requested return (or one being recorded by an admin): its units back on the order's lines
        and, for lines with restock, on their products' shelves (`return` movements, with out of / back in
        stock as for any stock change); return.accepted."""
        self._decide("accepted")
        order.receive_return(self.units(), at=at)
        self.status = ReturnState.ACCEPTED
        self._decided(by, at, EventType.RETURN_ACCEPTED)
        self.stock_movements = [
            products[line.product_id].restock(line.quantity, MovementKind.RETURN, at=at, actor_id=by.id)
            for line in self.lines
            if line.restock
        ]

    def reject(self, reason: str, *, by: User, at: datetime) -> None:
        """Only a requested return, with a reason (1..MAX_RETURN_REASON characters); return.rejected."""
        if not reason.strip() or len(reason) > MAX_RETURN_REASON:
            raise InvalidReturn(f"a rejection needs a reason of 1 to {MAX_RETURN_REASON} characters")
        self._decide("rejected")
        self.status = ReturnState.REJECTED
        self.rejection_reason = reason
        self._decided(by, at, EventType.RETURN_REJECTED)

    def refund(self, extra: Decimal | None, *, reference: str | None, at: datetime) -> Decimal:
        """Once, an accepted return: its proposal plus `extra`; the amount to give back. `reference` is that
        of the refund already recorded, if any (ReturnAlreadyRefunded)."""
        if self.status is not ReturnState.ACCEPTED:
            raise IllegalReturnChange(self.id, self.status.value, "refunded")
        if self.refunded > 0:
            raise ReturnAlreadyRefunded(self.id, reference or "")
        check_extra(extra)
        amount = money(self.proposed_refund + (extra or ZERO))
        self.refunded = amount
        self.version += 1
        self.updated_at = at
        return amount

    def movements(self) -> list[StockMovement]:
        """Its stock movements naming its order and itself, once it is stored."""
        assert self.id is not None
        return [replace(m, order_id=self.order_id, return_id=self.id) for m in self.stock_movements]

    def _decide(self, action: str) -> None:
        if self.status is not ReturnState.REQUESTED:
            raise IllegalReturnChange(self.id, self.status.value, action)

    def _decided(self, by: User, at: datetime, event: EventType) -> None:
        self.decided_by = by.id
        self.decided_at = at
        self.updated_at = at
        if self.id is not None:  # one recorded by an admin starts at version 1, accepted
            self.version += 1
        self.domain_events.append(DomainEvent(event, self, at, by.id))
