"""Orders: lines priced from the catalog at placement, and a status workflow with its history (the order's
status changes, served at /orders/{id}/events; not the outbox's domain events, which it also records)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.addresses import Address, check_address
from domain.aggregate import Aggregate
from domain.catalog import Product
from domain.entity import Entity
from domain.errors import AddressLocked, IllegalStatusChange, InactiveUser, InvalidOrder
from domain.events import DomainEvent, EventType
from domain.fulfillment_errors import OrderFulfilled
from domain.money import money
from domain.payment_errors import OrderNotPayable, PaymentOutstanding, PaymentRequired
from domain.payments import ZERO, ConfirmRequires, MoneyTotals, PaymentStatus
from domain.return_errors import InvalidReturn, ReturnLimit
from domain.stock import MovementKind, StockMovement
from domain.users import User

MAX_LINES = 50
MAX_QUANTITY = 1000
EXPIRED = "expired"  # the reason of an expiry's status change and stock movements
# The reason of the history entry (from and to the order's status) that records a new shipping address.
ADDRESS_CHANGED = "shipping address changed"


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# The only legal moves; every pair not listed here is refused.
ALLOWED_CHANGES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED}),
    OrderStatus.PROCESSING: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


# Its owner may cancel an order until it is being processed; an admin wherever ALLOWED_CHANGES allows it.
OWNER_MAY_CANCEL = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED})
# Its shipping address may be replaced (by its owner or an admin) until it is being processed.
ADDRESS_CHANGEABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED})


# A fulfilment ships only these orders' units (domain.fulfillments); the first moves a confirmed order to
# processing, the one that leaves nothing unshipped moves it to shipped, through ALLOWED_CHANGES.
FULFILLABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.PROCESSING})
# A move no PATCH may make: cancelling a fulfilment of a shipped order puts it back to processing.
UNSHIPPED = {OrderStatus.SHIPPED: OrderStatus.PROCESSING}


class FulfillmentStatus(StrEnum):
    """An order's units against what its fulfilments shipped (`Order.fulfillment_status`)."""

    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"


class ReturnStatus(StrEnum):
    """What came back of what was shipped (`Order.return_status`)."""

    NONE = "none"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"  # every unit shipped came back


def can_change(from_status: OrderStatus, to_status: OrderStatus) -> bool:
    return to_status in ALLOWED_CHANGES[from_status]


def order_number(at: datetime, suffix: str) -> str:
    """Human-readable and unique: ORD-<UTC date>-<suffix>, e.g. ORD-20261122-7F3A9C2K1Q."""
    return f"ORD-{at:%Y%m%d}-{suffix}"


@dataclass(eq=False, slots=True)
class OrderLine(Entity):
    product_id: int
    product_name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    id: int | None = None
    # What left the shop (fulfilments) and came back (accepted returns): 0 <= returned <= shipped <= quantity.
    quantity_shipped: int = 0
    quantity_returned: int = 0

    @classmethod
    def for_product(cls, product: Product, quantity: int) -> "OrderLine":
        assert product.id is not None
        unit_price = money(product.price)
        return cls(
            product_id=product.id,
            product_name=product.name,
            quantity=quantity,
            unit_price=unit_price,
            line_total=money(unit_price * quantity),
        )

    @property
    def unshipped(self) -> int:
        return self.quantity - self.quantity_shipped


@dataclass(eq=False, slots=True)
class StatusChange(Entity):
    """One entry of an order's status history; its creation is None -> pending."""

    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor_id: int | None
    reason: str | None = None
    id: int | None = None


@dataclass(eq=False, slots=True)
class Order(Aggregate):
    order_number: str
    user_id: int
    status: OrderStatus
    total_amount: Decimal
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine] = field(default_factory=list)
    version: int = 1
    id: int | None = None
    # Copies, kept as they were given: a change to the address book never reaches an order.
    shipping_address: Address | None = None
    billing_address: Address | None = None
    # The sums of its payments (domain.payments), moved by `take_payment` with each payment action.
    authorized: Decimal = ZERO  # less what voids released
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    # Since the order was loaded, for the repositories to store: its status changes, and the stock it took
    # (placing) or gave back (cancelling, expiring).
    new_status_changes: list[StatusChange] = field(default_factory=list)
    stock_movements: list[StockMovement] = field(default_factory=list)
    domain_events: list[DomainEvent] = field(default_factory=list)
    # Lines whose shipped or returned quantity moved since it was loaded, for the repository to store.
    changed_lines: list[OrderLine] = field(default_factory=list)

    @classmethod
    def place(
        cls,
        *,
        number: str,
        buyer: User,
        items: Sequence[tuple[Product, int]],
        actor_id: int,
        at: datetime,
        shipping_address: Address | None = None,
        billing_address: Address | None = None,
    ) -> "Order":
        """Price every line from its product's current price and take its units from the product. The
        order keeps a copy of each address; billing defaults to the shipping address."""
        assert buyer.id is not None
        if not buyer.is_active:
            raise InactiveUser(buyer.id)
        check_lines([(product.id, quantity) for product, quantity in items])
        for address in (shipping_address, billing_address):
            if address is not None:
                check_address(address)
        lines = [OrderLine.for_product(product, quantity) for product, quantity in items]
        order = cls(
            order_number=number,
            user_id=buyer.id,
            status=OrderStatus.PENDING,
            total_amount=money(sum((line.line_total for line in lines), Decimal(0))),
            created_at=at,
            updated_at=at,
            lines=lines,
            shipping_address=shipping_address,
            billing_address=billing_address if billing_address is not None else shipping_address,
        )
        order.new_status_changes.append(StatusChange(None, OrderStatus.PENDING, at, actor_id))
        # Raised before the products' own (out of stock) that taking the units raises.
        order.domain_events.append(DomainEvent(EventType.ORDER_PLACED, order, at, actor_id))
        order.stock_movements = [
            product.supply(quantity, at=at, actor_id=actor_id) for product, quantity in items
        ]
        return order

    def product_ids(self) -> list[int]:
        """In id order: the order in which the products are locked."""
        return sorted(line.product_id for line in self.lines)

    def movements(self) -> list[StockMovement]:
        """Its stock movements naming it: once it is stored (placing) or loaded (cancelling)."""
        assert self.id is not None
        return [replace(m, order_id=self.id) for m in self.stock_movements]

    @property
    def money(self) -> MoneyTotals:
        return MoneyTotals(self.authorized, self.captured, self.refunded)

    @property
    def net_revenue(self) -> Decimal:
        """What it counts in the sales totals: its total net of the refunds of its value; 0 once cancelled."""
        return ZERO if self.status is OrderStatus.CANCELLED else self.money.net_revenue(self.total_amount)

    @property
    def refunded_revenue(self) -> Decimal:
        """The refunds of its value (gross less net in the sales totals); 0 once cancelled."""
        return (
            ZERO if self.status is OrderStatus.CANCELLED else self.money.refunded_revenue(self.total_amount)
        )

    @property
    def payment_status(self) -> PaymentStatus:
        return self.money.status(self.total_amount)

    @property
    def fulfillment_status(self) -> FulfillmentStatus:
        """From its lines: nothing shipped, every unit shipped, or some."""
        if all(line.quantity_shipped == 0 for line in self.lines):
            return FulfillmentStatus.UNFULFILLED
        if all(line.quantity_shipped == line.quantity for line in self.lines):
            return FulfillmentStatus.FULFILLED
        return FulfillmentStatus.PARTIALLY_FULFILLED

    def record_shipment(
        self, lines: Sequence[OrderLine], *, reason: str | None, actor_id: int | None, at: datetime
    ) -> None:
        """Its `lines` shipped more (a fulfilment moved them, domain.fulfillments): confirmed -> processing at
        the first, processing -> shipped once nothing is left unshipped, each move with its history entry
        (`reason`) and event; one new version."""
        self.changed_lines.extend(lines)
        if self.status is OrderStatus.CONFIRMED:
            self._record_move(OrderStatus.PROCESSING, actor_id=actor_id, at=at, reason=reason)
        if self.fulfillment_status is FulfillmentStatus.FULFILLED:
            self._record_move(OrderStatus.SHIPPED, actor_id=actor_id, at=at, reason=reason)
        self.version += 1
        self.updated_at = at

    def record_unshipment(
        self, lines: Sequence[OrderLine], *, reason: str, actor_id: int | None, at: datetime
    ) -> None:
        """Its `lines` shipped less (a cancelled fulfilment): a shipped order goes back to processing (a move
        only this makes, `UNSHIPPED`); one new version."""
        self.changed_lines.extend(lines)
        if self.status in UNSHIPPED:
            self._record_move(UNSHIPPED[self.status], actor_id=actor_id, at=at, reason=reason)
        self.version += 1
        self.updated_at = at

    @property
    def return_status(self) -> ReturnStatus:
        """From its lines: nothing returned, part of what was shipped, or all of it."""
        returned = sum(line.quantity_returned for line in self.lines)
        if returned == 0:
            return ReturnStatus.NONE
        shipped = sum(line.quantity_shipped for line in self.lines)
        return ReturnStatus.RETURNED if returned == shipped else ReturnStatus.PARTIALLY_RETURNED

    def returnable(self, line_id: int) -> int:
        """Units of the line shipped and not returned (InvalidReturn if the line is not this order's)."""
        line = self._line(line_id)
        return line.quantity_shipped - line.quantity_returned

    def receive_return(self, units: Mapping[int, int], *, at: datetime) -> None:
        """An accepted return's units (by order line id) back on their lines: never more than shipped and not
        returned (ReturnLimit, nothing moved); a new version, the status stays."""
        for line_id, quantity in units.items():
            available = self.returnable(line_id)
            if quantity > available:
                raise ReturnLimit(line_id, quantity, available)
        for line_id, quantity in units.items():
            line = self._line(line_id)
            line.quantity_returned += quantity
            self.changed_lines.append(line)
        self.version += 1
        self.updated_at = at

    def refund(self, moved: MoneyTotals, *, actor_id: int | None, at: datetime) -> None:
        """Money given back (a return's refund or a goodwill gesture, drawn from its payments): its sums move
        as with any payment action, and order.refunded."""
        self.take_payment(moved, at=at)
        self.domain_events.append(DomainEvent(EventType.ORDER_REFUNDED, self, at, actor_id))

    def _line(self, line_id: int) -> OrderLine:
        found = next((line for line in self.lines if line.id == line_id), None)
        if found is None:
            raise InvalidReturn(f"order line {line_id} is not a line of order {self.id}")
        return found

    def check_payable(self) -> None:
        """New money (a payment, a capture) only for an order that is not cancelled."""
        if self.status is OrderStatus.CANCELLED:
            raise OrderNotPayable(self.id, self.status.value)

    def take_payment(self, moved: MoneyTotals, *, at: datetime) -> None:
        """Its payments' sums move with each payment action (under the order's row lock): a new version."""
        now = self.money + moved
        self.authorized, self.captured, self.refunded = now.authorized, now.captured, now.refunded
        self.version += 1
        self.updated_at = at

    def change_status(
        self,
        to_status: OrderStatus,
        *,
        actor_id: int | None,
        at: datetime,
        requires: ConfirmRequires = ConfirmRequires.NOTHING,
    ) -> None:
        """Any legal move but to cancelled, which gives stock back (`cancel`). Confirming needs the money
        `requires` names (SHOP_CONFIRM_REQUIRES)."""
        assert to_status is not OrderStatus.CANCELLED, "cancel() gives the units back"
        if not can_change(self.status, to_status):
            raise IllegalStatusChange(self.status.value, OrderStatus(to_status).value)
        if to_status is OrderStatus.CONFIRMED:
            has = self.money.covers(self.total_amount, requires)
            if has is not None:
                raise PaymentRequired(self.id, requires, self.total_amount, has)
        self._move_to(to_status, EventType.ORDER_STATUS_CHANGED, actor_id=actor_id, at=at)

    def change_shipping_address(self, address: Address, *, actor_id: int | None, at: datetime) -> None:
        """Replace the shipping address while the order is pending or confirmed (AddressLocked after), as
        an entry of its history from and to its status (`ADDRESS_CHANGED`) and a new version. The billing
        address stays as it is. No domain event: the outbox knows no type for it yet."""
        if self.status not in ADDRESS_CHANGEABLE:
            raise AddressLocked(self.status.value)
        check_address(address)
        self.new_status_changes.append(StatusChange(self.status, self.status, at, actor_id, ADDRESS_CHANGED))
        self.shipping_address = address
        self.version += 1
        self.updated_at = at

    def may_be_cancelled_by(self, actor: User) -> bool:
        """An admin wherever the status rules allow it; its owner only until it is being processed."""
        if actor.is_admin:
            return can_change(self.status, OrderStatus.CANCELLED)
        return actor.id == self.user_id and self.status in OWNER_MAY_CANCEL

    def cancel(self, products: Mapping[int, Product], *, by: User, at: datetime) -> None:
        """Move to cancelled, if `by` may (`may_be_cancelled_by`: one refusal, IllegalStatusChange, whichever
        route asked), and give every line's units back to its product (`products`: by id, loaded for
        update)."""
        if not self.may_be_cancelled_by(by):
            why = None if by.is_admin else "its owner may cancel it only while it is pending or confirmed"
            raise IllegalStatusChange(self.status.value, OrderStatus.CANCELLED.value, why)
        shipped = sum(line.quantity_shipped for line in self.lines)
        if shipped:
            raise OrderFulfilled(self.id, shipped)
        self._give_back(products, MovementKind.CANCELLATION, actor_id=by.id, at=at)

    def expire(self, products: Mapping[int, Product], *, at: datetime) -> None:
        """A pending order nobody confirmed in time: cancelled by nobody, its units back on the shelf."""
        if self.status is not OrderStatus.PENDING:
            raise IllegalStatusChange(self.status.value, "expired")
        self._give_back(products, MovementKind.EXPIRY, actor_id=None, at=at, reason=EXPIRED)

    def _give_back(
        self,
        products: Mapping[int, Product],
        kind: MovementKind,
        *,
        actor_id: int | None,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        """Never while it holds money (PaymentOutstanding: refund and void first). Cancelled first, so its
        event comes before the products' back in stock."""
        if self.money.outstanding():
            raise PaymentOutstanding(self.id, self.money.held, self.money.open_authorization)
        self._move_to(
            OrderStatus.CANCELLED, EventType.ORDER_CANCELLED, actor_id=actor_id, at=at, reason=reason
        )
        self.stock_movements = [
            products[line.product_id].restock(line.quantity, kind, at=at, actor_id=actor_id, reason=reason)
            for line in self.lines
        ]

    def _move_to(
        self,
        to_status: OrderStatus,
        event: EventType,
        *,
        actor_id: int | None,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        """A checked move: its history entry, a new version and the event for the outbox."""
        self._record_move(to_status, event, actor_id=actor_id, at=at, reason=reason)
        self.version += 1
        self.updated_at = at

    def _record_move(
        self,
        to_status: OrderStatus,
        event: EventType = EventType.ORDER_STATUS_CHANGED,
        *,
        actor_id: int | None,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        """Its history entry and event; the caller bumps the version, once per change."""
        self.new_status_changes.append(StatusChange(self.status, to_status, at, actor_id, reason))
        self.status = to_status
        self.domain_events.append(DomainEvent(event, self, at, actor_id))


def check_lines(lines: Sequence[tuple[int | None, int]]) -> None:
    """1..MAX_LINES lines, each product once, 1..MAX_QUANTITY units each; the API checks the same at its
    door (a 422) by calling this."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidOrder(f"an order has between 1 and {MAX_LINES} lines")
    product_ids = [product_id for product_id, _ in lines]
    if len(set(product_ids)) != len(product_ids):
        raise InvalidOrder("each product may appear only once in an order")
    for product_id, quantity in lines:
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"quantity for product {product_id} must be between 1 and {MAX_QUANTITY}")
