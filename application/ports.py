"""Ports: what the use cases need from the outside world. They speak domain objects only."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Concatenate, ParamSpec, Protocol, Self, TypeVar

from application.event_ports import EventRepository, WebhookRepository
from application.lists import (
    ALL_CATEGORIES,
    CategoryFilter,
    MovementFilter,
    OrderFilter,
    Page,
    ProductFilter,
    UserFilter,
    Window,
)
from domain.addresses import AddressBook, SavedAddress
from domain.catalog import Category, CategoryStats, Product
from domain.fulfillments import Fulfillment
from domain.orders import Order, OrderStatus, StatusChange
from domain.payments import Payment
from domain.refunds import OrderRefund
from domain.returns import Return
from domain.stock import StockDrift, StockMovement
from domain.users import User

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OrderStats:
    """`total_revenue`: of the non-cancelled orders, net of the refunds of their value
    (`Order.net_revenue`); `refunded_revenue`: those refunds, so that their sum is the gross revenue."""

    total_orders: int
    total_revenue: Decimal
    orders_by_status: dict[OrderStatus, int] = field(default_factory=dict)
    refunded_revenue: Decimal = Decimal("0.00")

    @property
    def gross_revenue(self) -> Decimal:
        return self.total_revenue + self.refunded_revenue


@dataclass(frozen=True, slots=True)
class TimeRange:
    """[start, end) in UTC; None: unbounded on that side."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class CustomerTotals:
    """A customer's orders per status (every status), net revenue of the non-cancelled ones, first and last
    order time (of any status; None when there is no order)."""

    orders_by_status: dict[OrderStatus, int]
    revenue: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None


@dataclass(frozen=True, slots=True)
class Spender:
    """A customer with their non-cancelled orders and the net revenue of those in a period."""

    user_id: int
    email: str
    name: str
    orders: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class UserStats:
    total: int
    active: int
    inactive: int
    admins: int
    registered: int  # created in the period asked for (both ends inclusive; all of them without one)
    with_orders: int  # users with at least one order, whatever its status


@dataclass(slots=True)
class IdempotencyRecord:
    """A claimed key: `order_id` is None while the first request is still running."""

    user_id: int
    key: str
    fingerprint: str
    created_at: datetime
    order_id: int | None = None


class StaleVersion(Exception):
    """Raised by a repository when the row no longer holds the version the entity was loaded at."""

    def __init__(self, current_version: int) -> None:
        self.current_version = current_version
        # Equivalent mutants: the message is never shown; use cases answer with current_version.
        super().__init__(f"row is at version {current_version}")  # pragma: no mutate


class DuplicateKey(Exception):
    """Raised by a repository when a unique column (email, SKU, category name) is already taken."""


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...
    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(self, user_id: int, *, for_update: bool = False) -> User | None:  # pragma: no mutate
        """`for_update`: locked until the unit ends (a status change: its event is raised once)."""
        ...

    def get_by_email(self, email: str) -> User | None: ...
    def list(self, filters: UserFilter, window: Window) -> Page[User]: ...
    def save(self, user: User) -> None: ...

    # Bulk administration and statistics (issue 26)
    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get_many(
        self,
        user_ids: Sequence[int],
        *,
        for_update: bool = False,  # pragma: no mutate
    ) -> builtins.list[User]:
        """Those that exist, by id (locked in that order if `for_update`)."""
        ...

    def taken_emails(self, emails: Sequence[str]) -> set[str]:
        """Which of these (normalized) e-mail addresses an account has."""
        ...

    def record_login(self, user: User) -> None:
        """Store `user.last_login_at` and nothing else (the user may have changed since it was read)."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def customers_not_seen_since(
        self,
        before: datetime,
        limit: int,
        *,
        for_update: bool = False,  # pragma: no mutate
    ) -> builtins.list[User]:
        """Active non-admins whose last log-in (or, never logged in, registration) is before `before`:
        at most `limit` of them (any, if more match), by id. `for_update`: locked, and still matching once
        locked (one deactivated meanwhile by another unit is not among them)."""
        ...

    def stats(self, registered_from: datetime | None, registered_to: datetime | None) -> UserStats: ...


class CategoryRepository(Protocol):
    def add(self, category: Category) -> None: ...
    def get(self, category_id: int) -> Category | None: ...
    def get_by_name(self, name: str) -> Category | None:
        """Case-insensitive."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def list(
        self,
        window: Window,
        filters: CategoryFilter = ALL_CATEGORIES,  # pragma: no mutate
    ) -> Page[Category]:
        """Ordered by name (application.paging.CATEGORIES)."""
        ...

    def get_many(self, category_ids: Sequence[int]) -> dict[int, Category]:
        """Those that exist, by id, in one read."""
        ...

    def children(self, category_id: int) -> builtins.list[Category]:
        """Its direct children, by name (then id)."""
        ...

    def ancestors(self, category_id: int) -> builtins.list[Category]:
        """Its parent, the parent's parent and so on, the root first; not the category itself. One read."""
        ...

    def stats(self, category_ids: Sequence[int], include_descendants: bool) -> dict[int, CategoryStats]:
        """Of each category that exists, over its active products (and its descendants' with
        `include_descendants`): the sums kept as products change, the minimum and maximum price read from an
        index; one read whatever the catalog's size."""
        ...

    def count_active_products(self, category_ids: Sequence[int]) -> dict[int, int]: ...
    def save(self, category: Category) -> None: ...
    def delete(self, category_id: int) -> None:
        """Its products and child categories stay, detached (category_id / parent_id null)."""
        ...


class ProductRepository(Protocol):
    def add(self, product: Product) -> None: ...
    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(self, product_id: int, *, for_update: bool = False) -> Product | None: ...  # pragma: no mutate
    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get_many(
        self,
        product_ids: Sequence[int],
        *,
        for_update: bool = False,  # pragma: no mutate
    ) -> dict[int, Product]:
        """`for_update` locks the rows until the transaction ends, in product-id order."""
        ...

    def get_by_sku(self, sku: str) -> Product | None: ...
    def list(self, filters: ProductFilter, window: Window) -> Page[Product]: ...
    def save(self, product: Product) -> None:
        """Store a changed product; raise StaleVersion unless the row is at `product.version - 1`."""
        ...

    def move_stock(self, movements: Sequence[StockMovement]) -> None:
        """Store the stock movements the products decided (of an order: stored first, so they name it): each
        product's stock moves by its delta, with a version bump, and the movements join the ledger, in one
        step. The storage refuses (InsufficientStock, nothing stored) a movement that would leave a stock
        below zero: a safety net behind the domain's own check on rows locked for update.
        `add` and `save` store a product's own `new_movements` the same way."""
        ...

    def movements(self, product_id: int, filters: MovementFilter, window: Window) -> Page[StockMovement]:
        """Newest first (application.paging.STOCK_MOVEMENTS)."""
        ...

    def stock_drift(self) -> builtins.list[StockDrift]:
        """Every product whose stock is not the sum of its ledger, or whose ledger disagrees with its
        orders."""
        ...


class OrderRepository(Protocol):
    def expect_placement(self, product_ids: Sequence[int]) -> None:
        """A hint, before the unit's first statement: it is about to place one order of these products
        (lock them with `ProductRepository.get_many(..., for_update=True)`, then `add`, then `move_stock`).
        Changes nothing by itself; an adapter may send that work in fewer round trips."""
        ...

    def add(self, order: Order) -> None:
        """Store the order, its lines and its new status changes; ids are set on the entities."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(self, order_id: int, *, for_update: bool = False) -> Order | None: ...  # pragma: no mutate
    def list(self, filters: OrderFilter, window: Window) -> Page[Order]:
        """Newest first (application.paging.ORDERS), lines included, in a constant number of statements.
        The total of every order or of one status is read from totals kept as orders change."""
        ...

    def status_history(self, order_id: int) -> builtins.list[StatusChange]:
        """Oldest first."""
        ...

    def save(self, order: Order) -> None:
        """Store status, version, its payments' sums and new status changes; raise StaleVersion as
        ProductRepository.save does."""
        ...

    def stats(self) -> OrderStats: ...
    def sales(self, ranges: Sequence[TimeRange]) -> builtins.list[OrderStats]:
        """The orders created in each range (by status) and their revenue (cancelled excluded), in one
        statement, from totals kept as orders change (the partial 15 minutes at a range's edges read from
        the orders)."""
        ...

    def customer_totals(self, user_id: int) -> CustomerTotals:
        """From totals kept per customer: one row."""
        ...

    def top_spenders(self, limit: int, period: TimeRange) -> builtins.list[Spender]:
        """Customers ranked by the revenue of their non-cancelled orders created in `period`, then by id;
        those without such an order are left out. The storage may keep the last days' totals (a window
        ending today, from a UTC midnight on): a period that is exactly that window ranks from them."""
        ...

    def roll_recent_window(self, now: datetime) -> None:
        """Move the kept recent window, if the storage keeps one, so that it ends on `now`'s UTC day."""
        ...

    def pending_before(self, cutoff: datetime, limit: int) -> builtins.list[Order]:
        """Up to `limit` pending orders created before `cutoff` that hold no money (nothing captured and not
        refunded, nothing authorised and not captured), oldest first, locked for update; orders another
        transaction holds are skipped, so several runners share the work."""
        ...


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None:
        """Store it and its new transactions; ids are set. DuplicateKey (nothing stored) when its provider
        already has a payment of that reference."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(self, payment_id: int, *, for_update: bool = False) -> Payment | None:  # pragma: no mutate
        """With its transactions, oldest first; `for_update` locks its row until the transaction ends."""
        ...

    def get_by_reference(self, provider: str, reference: str) -> Payment | None: ...
    def save(self, payment: Payment) -> None:
        """Store its amounts, voided flag, version and new transactions; raise StaleVersion unless the row
        is at `payment.version - 1`, DuplicateKey if a new refund repeats a reference of its refunds."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def for_order(
        self,
        order_id: int,
        *,
        for_update: bool = False,  # pragma: no mutate
    ) -> builtins.list[Payment]:
        """Its payments, oldest first, each with its transactions oldest first: two reads. `for_update`
        locks their rows (in id order) until the transaction ends: a refund of the order (issue 28)."""
        ...


class ReturnRepository(Protocol):
    """Returns of orders (issue 28), each with its lines."""

    def add(self, ret: Return) -> None:
        """Store it and its lines; ids are set."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(self, return_id: int, *, for_update: bool = False) -> Return | None: ...  # pragma: no mutate
    def for_order(self, order_id: int) -> builtins.list[Return]:
        """The order's returns, oldest first, with their lines: two reads."""
        ...

    def save(self, ret: Return) -> None:
        """Store its status, decision, refunded amount and version; raise StaleVersion unless the row is at
        `ret.version - 1`."""
        ...


class OrderRefundRepository(Protocol):
    """Refunds of orders (issue 28): of a return, or a goodwill gesture."""

    def add(self, refund: OrderRefund) -> None:
        """Its id is set. DuplicateKey (nothing stored) when the order has a refund of its reference, or
        its return a refund already."""
        ...

    def for_order(self, order_id: int) -> builtins.list[OrderRefund]:
        """Oldest first."""
        ...


class FulfillmentRepository(Protocol):
    """Fulfilments of orders (issue 28); their units are on the order's lines too (`Order.changed_lines`)."""

    def add(self, fulfillment: Fulfillment) -> None:
        """Store it and its lines; its id is set."""
        ...

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def get(
        self, fulfillment_id: int, *, for_update: bool = False
    ) -> Fulfillment | None:  # pragma: no mutate
        """With its lines; `for_update` locks its row until the transaction ends."""
        ...

    def save(self, fulfillment: Fulfillment) -> None:
        """Store its status, cancellation, version; raise StaleVersion unless the row is at
        `fulfillment.version - 1`."""
        ...

    def for_order(self, order_id: int) -> builtins.list[Fulfillment]:
        """Its fulfilments, oldest first, each with its lines: two reads, however many."""
        ...


class AddressRepository(Protocol):
    """Users' address books (issue 27)."""

    # Equivalent mutants: a protocol's default never runs (each adapter has its own).
    def book(self, user_id: int, *, for_update: bool = False) -> AddressBook:  # pragma: no mutate
        """Every entry of the user's, by id. `for_update` first locks the user's row until the transaction
        ends, so that changes to one book run one after the other (two adds racing for its last place
        cannot both see room)."""
        ...

    def get(self, address_id: int) -> SavedAddress | None: ...
    def save(self, book: AddressBook) -> None:
        """Delete its `removed`, then store its `changes` in their order (new entries get their ids); the
        storage refuses a second default of a kind (DuplicateKey) as a safety net behind the book's rule."""
        ...


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Insert the record unless (user_id, key) exists; return the existing record, or None if ours."""
        ...

    def complete(self, user_id: int, key: str, order_id: int) -> None: ...
    def release(self, user_id: int, key: str) -> None: ...
    def purge(self, created_before: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class Attempts:
    """The attempts counted under one key in the window that is open, and when that window ends."""

    count: int
    window_ends: datetime


class ThrottleRepository(Protocol):
    def hit(self, key: str, now: datetime, window: timedelta) -> Attempts:
        """Count one attempt under `key`, atomically; a window that has ended starts again at `now`."""
        ...

    def forgive(self, key: str) -> None:
        """Take one attempt back (it turned out to be legitimate)."""
        ...

    def clear(self, key: str) -> None: ...
    def remember(self, key: str, until: datetime) -> None:
        """Keep a mark under `key` (no attempts) until `until`, replacing any earlier one."""
        ...

    def remembers(self, key: str, now: datetime) -> bool:
        """Whether a mark or window under `key` lasts beyond `now`."""
        ...

    def purge(self, now: datetime) -> int:
        """Delete the windows and marks that have ended; return how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction: nothing is kept unless `commit()` is called inside the `with` block.

    The domain events that the aggregates it added, loaded or saved recorded are collected (presented as
    the change left them) and stored in the outbox with the change: by `commit()` at the latest, and
    where the stock moves (`ProductRepository.move_stock`) with the stock."""

    # Read-only, so that an adapter's own repository classes satisfy them.
    @property
    def users(self) -> UserRepository: ...
    @property
    def categories(self) -> CategoryRepository: ...
    @property
    def products(self) -> ProductRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def fulfillments(self) -> FulfillmentRepository: ...
    @property
    def returns(self) -> ReturnRepository: ...
    @property
    def refunds(self) -> OrderRefundRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def addresses(self) -> AddressRepository: ...
    @property
    def throttle(self) -> ThrottleRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkRunner(Protocol):
    """Runs a use case written against `UnitOfWork` without blocking the event loop.

    Each call gets a fresh Unit of Work; transient database conflicts (serialization failures,
    deadlocks, a locked SQLite file) are retried a bounded number of times."""

    def run(
        self, work: Callable[Concatenate[UnitOfWork, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Awaitable[T]: ...


class PasswordHasher(Protocol):
    """Deliberately slow, so it is awaited: the work runs off the event loop, and callers hold no database
    connection while it runs."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, password_hash: str | None) -> bool:
        """False for a wrong password, a malformed hash or None (no such account), and at the same cost."""
        ...


@dataclass(frozen=True, slots=True)
class AccessToken:
    access_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Who a verified token speaks for, and the credentials version it was issued at."""

    user_id: int
    credentials_version: int


class TokenIssuer(Protocol):
    def issue(self, user: User) -> AccessToken: ...
    def read(self, token: str) -> TokenClaims:
        """Raise AuthenticationFailed if the token is invalid, expired or not meant for this service."""
        ...


class BusinessEvent(StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_STATUS_CHANGED = "order_status_changed"
    ORDER_EXPIRED = "order_expired"
    IDEMPOTENT_REPLAY = "idempotent_replay"


class Counters(Protocol):
    """Counts what the shop did, for operators (the adapter is Prometheus); called after the commit."""

    def count(self, event: BusinessEvent) -> None: ...


class NoCounters:
    """Counts nothing: the default where nobody watches (the CLI, unit tests)."""

    def count(self, event: BusinessEvent) -> None:
        return None


NO_COUNTERS = NoCounters()


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...
