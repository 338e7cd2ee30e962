"""In-memory implementations of every repository port and a Unit of Work that keeps nothing uncommitted.

Test doubles, not shipped: they back the fast unit tests; the shared repository contract suite runs
against them and the SQL adapters alike, so they behave as the database does (unique keys, versions,
atomic stock, SET NULL)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

from application import paging
from application.event_ports import Presenter
from application.lists import (
    ALL_CATEGORIES,
    CategoryFilter,
    EventFilter,
    MovementFilter,
    OrderFilter,
    Page,
    ProductFilter,
    UserFilter,
    Window,
)
from application.paging import Ordering, page_of
from application.ports import (
    Attempts,
    CustomerTotals,
    DuplicateKey,
    IdempotencyRecord,
    OrderStats,
    Spender,
    StaleVersion,
    TimeRange,
    UserStats,
)
from application.seen import SeenAggregates
from domain.addresses import AddressBook, SavedAddress
from domain.aggregate import Aggregate
from domain.catalog import Category, CategoryStats, Product, name_key, normalize_sku
from domain.errors import InsufficientStock
from domain.events import DomainEvent, Event
from domain.fulfillments import Fulfillment
from domain.money import money
from domain.orders import Order, OrderStatus, StatusChange
from domain.patch import sent
from domain.payments import Payment, TransactionKind
from domain.refunds import OrderRefund
from domain.returns import Return, ReturnState
from domain.stock import OF_ORDERS, StockDrift, StockMovement
from domain.users import User
from domain.webhooks import Attempt, Delivery, DeliveryState, Webhook
from entrypoints.api.event_schemas import present

T = TypeVar("T")
E = TypeVar("E")
A = TypeVar("A", bound=Aggregate)


@dataclass
class Tables:
    """Everything the fake database holds."""

    users: dict[int, User] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    status_history: dict[int, list[StatusChange]] = field(default_factory=dict)
    movements: list[StockMovement] = field(default_factory=list)
    idempotency: dict[tuple[int, str], IdempotencyRecord] = field(default_factory=dict)
    addresses: dict[int, SavedAddress] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    fulfillments: dict[int, Fulfillment] = field(default_factory=dict)
    returns: dict[int, Return] = field(default_factory=dict)
    refunds: dict[int, OrderRefund] = field(default_factory=dict)
    throttle: dict[str, Attempts] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    offered_up_to: dict[int, int] = field(default_factory=dict)  # webhook id -> last event id offered
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


class _WorkingTables(Tables):
    """A Unit of Work's private tables: each is copied from the committed ones when the work first uses it
    (most use two or three of them, and copying them all was most of the fast suite's time)."""

    def __init__(self, committed: Tables) -> None:
        self.__dict__["_committed"] = committed
        self.next_id = (
            committed.next_id
        )  # a plain default, so a class attribute: __getattr__ would not see it

    def __getattr__(self, name: str) -> Any:  # only for a table not copied yet
        if name.startswith("__"):
            raise AttributeError(name)
        value = copy.deepcopy(getattr(self._committed, name))
        setattr(self, name, value)
        return value

    def merged_into(self, committed: Tables) -> Tables:
        """The committed tables, with those this work copied (and may have changed) in place of theirs."""
        mine = {f.name: self.__dict__[f.name] for f in fields(Tables) if f.name in self.__dict__}
        return replace(committed, **mine)


def _page(items: list[E], window: Window, ordering: Ordering[E]) -> Page[E]:
    """Sorted as `ordering` says; the page after `window.after`, or at `window.offset`."""
    ordered = sorted(items, key=ordering.key, reverse=ordering.descending)
    if window.after is not None:
        ordered = [i for i in ordered if ordering.after(i, window.after)]
    rows = ordered[window.offset : window.offset + window.limit + 1]
    return page_of([copy.deepcopy(i) for i in rows], len(items), window, ordering)


def _kept(aggregate: A) -> A:
    """A copy as the database keeps it: without pending events (the unit of work collects those from the
    aggregate it saw, and a later unit must not collect them again)."""
    kept = copy.deepcopy(aggregate)
    kept.domain_events.clear()
    return kept


def _low_on_stock(p: Product) -> bool:
    return p.low_stock_threshold is not None and p.stock_quantity <= p.low_stock_threshold


def _contains(needle: str | None, *haystack: str | None) -> bool:
    return needle is None or any(needle.lower() in (h or "").lower() for h in haystack)


class _Repository:
    def __init__(self, tables: Callable[[], Tables], locks: list[tuple[str, int]]) -> None:
        self._tables = tables
        self._locks = locks

    @property
    def t(self) -> Tables:
        return self._tables()

    def _lock(self, kind: str, ids: Iterable[int], for_update: bool) -> None:
        """What a SQL adapter would read FOR UPDATE, logged in order (InMemoryStore.locks)."""
        if for_update:
            self._locks.extend((kind, i) for i in ids)


class InMemoryUserRepository(_Repository):
    def __init__(
        self, tables: Callable[[], Tables], locks: list[tuple[str, int]], seen: SeenAggregates
    ) -> None:
        super().__init__(tables, locks)
        self._seen = seen  # the users the unit added, loaded or saved, whose events it collects

    def add(self, user: User) -> None:
        self._ensure_unique(user)
        user.id = self.t.new_id()
        self.t.users[user.id] = _kept(user)
        self._seen.add(user)

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        self._lock("user", [user_id], for_update)
        return self._loaded(self.t.users.get(user_id))

    def get_by_email(self, email: str) -> User | None:
        return self._loaded(next((u for u in self.t.users.values() if u.email == email.lower()), None))

    def _loaded(self, stored: User | None) -> User | None:
        if stored is None:
            return None
        user = copy.deepcopy(stored)
        self._seen.add(user)
        return user

    def list(self, filters: UserFilter, window: Window) -> Page[User]:
        found = [
            u
            for u in self.t.users.values()
            if (filters.is_active is None or u.is_active == filters.is_active)
            and _contains(filters.q, u.email, u.name)
        ]
        return _page(found, window, paging.USERS)

    def save(self, user: User) -> None:
        self._ensure_unique(user)
        assert user.id in self.t.users
        self.t.users[user.id] = _kept(user)
        self._seen.add(user)

    def _ensure_unique(self, user: User) -> None:
        if any(u.email == user.email and u.id != user.id for u in self.t.users.values()):
            raise DuplicateKey("users.email")

    # Bulk administration and statistics

    def get_many(self, user_ids: Sequence[int], *, for_update: bool = False) -> list[User]:
        found = [i for i in sorted(set(user_ids)) if i in self.t.users]
        self._lock("user", found, for_update)
        return [user for i in found if (user := self._loaded(self.t.users[i])) is not None]

    def taken_emails(self, emails: Sequence[str]) -> set[str]:
        wanted = {e.lower() for e in emails}
        return {u.email for u in self.t.users.values() if u.email in wanted}

    def record_login(self, user: User) -> None:
        assert user.id is not None
        self.t.users[user.id].last_login_at = user.last_login_at

    def customers_not_seen_since(
        self, before: datetime, limit: int, *, for_update: bool = False
    ) -> list[User]:
        found = [
            u
            for u in self.t.users.values()
            if u.is_active and not u.is_admin and (u.last_login_at or u.created_at) < before
        ]
        taken = sorted(found, key=lambda u: u.id or 0)[:limit]
        self._lock("user", [u.id for u in taken if u.id is not None], for_update)
        return [user for u in taken if (user := self._loaded(u)) is not None]

    def stats(self, registered_from: datetime | None, registered_to: datetime | None) -> UserStats:
        everyone = list(self.t.users.values())
        buyers = {o.user_id for o in self.t.orders.values()}
        return UserStats(
            total=len(everyone),
            active=sum(u.is_active for u in everyone),
            inactive=sum(not u.is_active for u in everyone),
            admins=sum(u.is_admin for u in everyone),
            registered=sum(
                (registered_from is None or u.created_at >= registered_from)
                and (registered_to is None or u.created_at <= registered_to)
                for u in everyone
            ),
            with_orders=sum(u.id in buyers for u in everyone),
        )


class InMemoryCategoryRepository(_Repository):
    def add(self, category: Category) -> None:
        self._ensure_unique(category)
        category.id = self.t.new_id()
        self.t.categories[category.id] = copy.deepcopy(category)

    def get(self, category_id: int) -> Category | None:
        return copy.deepcopy(self.t.categories.get(category_id))

    def get_by_name(self, name: str) -> Category | None:
        found = next((c for c in self.t.categories.values() if c.name_key == name_key(name)), None)
        return copy.deepcopy(found)

    def list(self, window: Window, filters: CategoryFilter = ALL_CATEGORIES) -> Page[Category]:
        found = [
            c
            for c in self.t.categories.values()
            if not sent(filters.parent_id) or c.parent_id == filters.parent_id
        ]
        return _page(found, window, paging.CATEGORIES)

    def get_many(self, category_ids: Sequence[int]) -> dict[int, Category]:
        return {i: copy.deepcopy(self.t.categories[i]) for i in category_ids if i in self.t.categories}

    def children(self, category_id: int) -> list[Category]:
        found = [c for c in self.t.categories.values() if c.parent_id == category_id]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: (c.name, c.id or 0))]

    def ancestors(self, category_id: int) -> list[Category]:
        chain: list[Category] = []
        current = self.t.categories[category_id].parent_id if category_id in self.t.categories else None
        while current is not None and current in self.t.categories and len(chain) < 100:
            chain.append(copy.deepcopy(self.t.categories[current]))
            current = self.t.categories[current].parent_id
        return chain[::-1]

    def stats(self, category_ids: Sequence[int], include_descendants: bool) -> dict[int, CategoryStats]:
        """What the SQL adapters keep by triggers, summed here from the products themselves."""
        return {
            i: self._stats(self._subtree(i) if include_descendants else {i})
            for i in category_ids
            if i in self.t.categories
        }

    def _subtree(self, root: int) -> set[int]:
        found, frontier = {root}, [root]
        while frontier:
            parent = frontier.pop()
            for c in self.t.categories.values():
                if c.parent_id == parent and c.id is not None and c.id not in found:
                    found.add(c.id)
                    frontier.append(c.id)
        return found

    def _stats(self, category_ids: set[int]) -> CategoryStats:
        on_sale = [p for p in self.t.products.values() if p.is_active and p.category_id in category_ids]
        prices = [p.price for p in on_sale]
        return CategoryStats(
            active_products=len(on_sale),
            price_total=money(sum(prices, Decimal(0))),
            min_price=min(prices, default=None),
            max_price=max(prices, default=None),
            units_in_stock=sum(p.stock_quantity for p in on_sale),
            stock_value=money(sum((p.price * p.stock_quantity for p in on_sale), Decimal(0))),
            low_stock=sum(1 for p in on_sale if _low_on_stock(p)),
        )

    def count_active_products(self, category_ids: Sequence[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for p in self.t.products.values():
            if p.is_active and p.category_id in category_ids:
                counts[p.category_id] = counts.get(p.category_id, 0) + 1
        return counts

    def save(self, category: Category) -> None:
        self._ensure_unique(category)
        assert category.id in self.t.categories
        self.t.categories[category.id] = copy.deepcopy(category)

    def delete(self, category_id: int) -> None:
        del self.t.categories[category_id]
        for child in self.t.categories.values():  # ON DELETE SET NULL
            if child.parent_id == category_id:
                child.parent_id = None
        for product in self.t.products.values():
            if product.category_id == category_id:
                product.category_id = None

    def _ensure_unique(self, category: Category) -> None:
        key = category.name_key
        if any(c.name_key == key and c.id != category.id for c in self.t.categories.values()):
            raise DuplicateKey("categories.name")


class InMemoryProductRepository(_Repository):
    def __init__(
        self,
        tables: Callable[[], Tables],
        locks: list[tuple[str, int]],
        seen: SeenAggregates,
        collect: Callable[[], None],
    ) -> None:
        super().__init__(tables, locks)
        self._seen = seen  # the products the unit added, loaded or saved, whose events it collects
        self._collect = collect  # into the outbox, presented now (as the SQL adapter does at a stock move)

    def add(self, product: Product) -> None:
        self._ensure_unique(product)
        self._seen.add(product)
        product.id = self.t.new_id()
        self._record(product)
        self.t.products[product.id] = _kept(product)

    def get(self, product_id: int, *, for_update: bool = False) -> Product | None:
        self._lock("product", [product_id], for_update)
        return self._loaded(self.t.products.get(product_id))

    def get_many(self, product_ids: Sequence[int], *, for_update: bool = False) -> dict[int, Product]:
        self._lock("product", sorted(product_ids), for_update)
        loaded = {i: copy.deepcopy(self.t.products[i]) for i in product_ids if i in self.t.products}
        self._seen.add(*loaded.values())
        return loaded

    def get_by_sku(self, sku: str) -> Product | None:
        return self._loaded(next((p for p in self.t.products.values() if p.sku == sku.upper()), None))

    def list(self, filters: ProductFilter, window: Window) -> Page[Product]:
        f = filters
        found = [
            p
            for p in self.t.products.values()
            if (f.include_inactive or p.is_active)
            and (f.category_id is None or p.category_id == f.category_id)
            and (f.min_price is None or p.price >= f.min_price)
            and (f.max_price is None or p.price <= f.max_price)
            and (f.in_stock is None or (p.stock_quantity > 0) == f.in_stock)
            and (not f.low_stock or _low_on_stock(p))
            and (f.sku is None or p.sku == normalize_sku(f.sku))
            and _contains(f.q, p.name, p.description, p.sku)
        ]
        return _page(found, window, paging.PRODUCTS[f.sort])

    def save(self, product: Product) -> None:
        assert product.id is not None
        stored = self.t.products[product.id]
        if stored.version != product.version - 1:
            raise StaleVersion(stored.version)
        self._ensure_unique(product)
        self._seen.add(product)
        self._record(product)
        self.t.products[product.id] = _kept(product)

    def move_stock(self, movements: Sequence[StockMovement]) -> None:
        self._collect()
        for m in movements:  # check every movement before applying any, as the one SQL statement does
            stored = self.t.products[m.product_id]
            if stored.stock_quantity + m.delta < 0:
                raise InsufficientStock(m.product_id, -m.delta, stored.stock_quantity)
        for m in movements:
            stored = self.t.products[m.product_id]
            stored.stock_quantity += m.delta
            stored.version += 1
            stored.updated_at = m.created_at
            self.t.movements.append(replace(m, id=self.t.new_id()))

    def movements(self, product_id: int, filters: MovementFilter, window: Window) -> Page[StockMovement]:
        f = filters
        found = [
            m
            for m in self.t.movements
            if m.product_id == product_id
            and (f.kind is None or m.kind == f.kind)
            and (f.created_from is None or m.created_at >= f.created_from)
            and (f.created_to is None or m.created_at <= f.created_to)
        ]
        return _page(found, window, paging.STOCK_MOVEMENTS)

    def stock_drift(self) -> list[StockDrift]:
        drifted = []
        for product in sorted(self.t.products.values(), key=lambda p: p.id or 0):
            own = [m for m in self.t.movements if m.product_id == product.id]
            ledger = sum(m.delta for m in own)
            ordered = -sum(m.delta for m in own if m.kind in OF_ORDERS)
            live = sum(
                line.quantity
                for order in self.t.orders.values()
                if order.status is not OrderStatus.CANCELLED
                for line in order.lines
                if line.product_id == product.id
            ) - sum(
                line.quantity
                for ret in self.t.returns.values()
                if ret.status is ReturnState.ACCEPTED
                for line in ret.lines
                if line.restock and line.product_id == product.id
            )
            if product.stock_quantity != ledger or ordered != live:
                assert product.id is not None
                drifted.append(
                    StockDrift(product.id, product.sku, product.stock_quantity, ledger, ordered, live)
                )
        return drifted

    def _loaded(self, stored: Product | None) -> Product | None:
        if stored is None:
            return None
        product = copy.deepcopy(stored)
        self._seen.add(product)
        return product

    def _record(self, product: Product) -> None:
        for m in product.new_movements:
            self.t.movements.append(replace(m, product_id=product.id, id=self.t.new_id()))
        product.new_movements.clear()

    def _ensure_unique(self, product: Product) -> None:
        if any(p.sku == product.sku and p.id != product.id for p in self.t.products.values()):
            raise DuplicateKey("products.sku")


def _stats(found: list[Order], by_status: dict[OrderStatus, int]) -> OrderStats:
    """Counted from the orders, by the domain's rule (`Order.net_revenue`, `refunded_revenue`)."""
    net = sum((o.net_revenue for o in found), Decimal(0)).quantize(Decimal("0.01"))
    refunded = sum((o.refunded_revenue for o in found), Decimal(0)).quantize(Decimal("0.01"))
    return OrderStats(len(found), net, by_status, refunded)


class InMemoryOrderRepository(_Repository):
    def __init__(
        self, tables: Callable[[], Tables], locks: list[tuple[str, int]], seen: SeenAggregates
    ) -> None:
        super().__init__(tables, locks)
        self._seen = seen  # the orders the unit added, loaded or saved, whose events it collects
        self.announced: list[list[int]] = []  # the placements announced to this unit, for tests

    def expect_placement(self, product_ids: Sequence[int]) -> None:
        """A hint: nothing to do in memory but remember it."""
        self.announced.append(list(product_ids))

    def add(self, order: Order) -> None:
        order.id = self.t.new_id()
        for line in order.lines:
            line.id = self.t.new_id()
        self.t.status_history[order.id] = []
        self._store(order)

    def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        self._lock("order", [order_id], for_update)
        stored = self.t.orders.get(order_id)
        if stored is None:
            return None
        order = copy.deepcopy(stored)
        self._seen.add(order)
        return order

    def list(self, filters: OrderFilter, window: Window) -> Page[Order]:
        f = filters
        found = [
            o
            for o in self.t.orders.values()
            if (f.user_id is None or o.user_id == f.user_id)
            and (f.status is None or o.status == f.status)
            and (f.created_from is None or o.created_at >= f.created_from)
            and (f.created_to is None or o.created_at <= f.created_to)
        ]
        return _page(found, window, paging.ORDERS)

    def status_history(self, order_id: int) -> list[StatusChange]:
        return copy.deepcopy(self.t.status_history.get(order_id, []))

    def save(self, order: Order) -> None:
        assert order.id is not None
        stored = self.t.orders[order.id]
        if stored.version != order.version - 1:
            raise StaleVersion(stored.version)
        self._store(order)

    def stats(self) -> OrderStats:
        by_status = {status: 0 for status in OrderStatus}
        for order in self.t.orders.values():
            by_status[order.status] += 1
        return _stats(list(self.t.orders.values()), by_status)

    # The sales reports, counted from the orders themselves: SQL reads totals its triggers keep, and the
    # contract suite proves the two agree.
    def _in(self, period: TimeRange) -> list[Order]:
        return [
            o
            for o in self.t.orders.values()
            if (period.start is None or o.created_at >= period.start)
            and (period.end is None or o.created_at < period.end)
        ]

    def sales(self, ranges: Sequence[TimeRange]) -> list[OrderStats]:
        answer = []
        for period in ranges:
            found = self._in(period)
            by_status = {s: sum(1 for o in found if o.status is s) for s in OrderStatus}
            answer.append(_stats(found, by_status))
        return answer

    def customer_totals(self, user_id: int) -> CustomerTotals:
        mine = [o for o in self.t.orders.values() if o.user_id == user_id]
        return CustomerTotals(
            {s: sum(1 for o in mine if o.status is s) for s in OrderStatus},
            sum((o.net_revenue for o in mine), Decimal(0)).quantize(Decimal("0.01")),
            min((o.created_at for o in mine), default=None),
            max((o.created_at for o in mine), default=None),
        )

    def top_spenders(self, limit: int, period: TimeRange) -> list[Spender]:
        spent: dict[int, tuple[int, Decimal]] = {}
        for o in self._in(period):
            if o.status is not OrderStatus.CANCELLED:
                count, revenue = spent.get(o.user_id, (0, Decimal(0)))
                spent[o.user_id] = (count + 1, revenue + o.net_revenue)
        ranked = sorted(spent.items(), key=lambda kv: (-kv[1][1], kv[0]))[:limit]
        return [
            Spender(i, self.t.users[i].email, self.t.users[i].name, n, r.quantize(Decimal("0.01")))
            for i, (n, r) in ranked
        ]

    def roll_recent_window(self, now: datetime) -> None:
        """Nothing kept: the fake ranks every period from its orders."""

    def pending_before(self, cutoff: datetime, limit: int) -> list[Order]:
        pending = [
            o
            for o in self.t.orders.values()
            if o.status is OrderStatus.PENDING and o.created_at < cutoff and not o.money.outstanding()
        ]
        pending.sort(key=lambda o: (o.created_at, o.id or 0))
        expiring = copy.deepcopy(pending[:limit])
        self._seen.add(*expiring)
        return expiring

    def _store(self, order: Order) -> None:
        assert order.id is not None
        self._seen.add(order)
        for change in order.new_status_changes:
            change.id = self.t.new_id()
            self.t.status_history[order.id].append(copy.deepcopy(change))
        order.new_status_changes.clear()
        order.changed_lines.clear()  # the whole order is kept, its lines as they are now
        self.t.orders[order.id] = _kept(order)


class InMemoryAddressRepository(_Repository):
    def book(self, user_id: int, *, for_update: bool = False) -> AddressBook:
        self._lock("user", [user_id], for_update)
        mine = sorted((a for a in self.t.addresses.values() if a.user_id == user_id), key=lambda a: a.id or 0)
        return AddressBook(user_id, copy.deepcopy(mine))

    def get(self, address_id: int) -> SavedAddress | None:
        return copy.deepcopy(self.t.addresses.get(address_id))

    def save(self, book: AddressBook) -> None:
        """As the database does: deletes, then each change in turn, refusing a second default of a kind
        (the partial unique indexes)."""
        for address_id in book.removed:
            self.t.addresses.pop(address_id, None)
        for entry in book.changes:
            for other in self.t.addresses.values():
                if (
                    other.user_id == entry.user_id
                    and other.id != entry.id
                    and (
                        (other.is_default_shipping and entry.is_default_shipping)
                        or (other.is_default_billing and entry.is_default_billing)
                    )
                ):
                    raise DuplicateKey("addresses.default")
            if entry.id is None:
                entry.id = self.t.new_id()
            self.t.addresses[entry.id] = copy.deepcopy(entry)
        book.changes.clear()
        book.removed.clear()


class InMemoryPaymentRepository(_Repository):
    def __init__(
        self, tables: Callable[[], Tables], locks: list[tuple[str, int]], seen: SeenAggregates
    ) -> None:
        super().__init__(tables, locks)
        self._seen = seen

    def add(self, payment: Payment) -> None:
        if self.get_by_reference(payment.provider, payment.reference) is not None:
            raise DuplicateKey("payments.provider, payments.reference")
        payment.id = self.t.new_id()
        self._store(payment)

    def get(self, payment_id: int, *, for_update: bool = False) -> Payment | None:
        self._lock("payment", [payment_id], for_update)
        return self._loaded(self.t.payments.get(payment_id))

    def get_by_reference(self, provider: str, reference: str) -> Payment | None:
        found = (p for p in self.t.payments.values() if (p.provider, p.reference) == (provider, reference))
        return self._loaded(next(found, None))

    def save(self, payment: Payment) -> None:
        assert payment.id is not None
        stored = self.t.payments[payment.id]
        if stored.version != payment.version - 1:
            raise StaleVersion(stored.version)
        refunds = {t.reference for t in stored.transactions if t.kind is TransactionKind.REFUND}
        new = [t.reference for t in payment.new_transactions if t.kind is TransactionKind.REFUND]
        if refunds & set(new) or len(set(new)) != len(new):
            raise DuplicateKey("payment_transactions.reference")
        self._store(payment)

    def for_order(self, order_id: int, *, for_update: bool = False) -> list[Payment]:
        mine = sorted(
            (p for p in self.t.payments.values() if p.order_id == order_id), key=lambda p: p.id or 0
        )
        self._lock("payment", [p.id or 0 for p in mine], for_update)
        found = [copy.deepcopy(p) for p in mine]
        if for_update:
            self._seen.add(*found)
        return found

    def _loaded(self, stored: Payment | None) -> Payment | None:
        if stored is None:
            return None
        payment = copy.deepcopy(stored)
        self._seen.add(payment)
        return payment

    def _store(self, payment: Payment) -> None:
        self._seen.add(payment)
        for transaction in payment.new_transactions:
            transaction.id = self.t.new_id()
        payment.new_transactions.clear()
        self.t.payments[payment.id or 0] = _kept(payment)


class InMemoryFulfillmentRepository(_Repository):
    def __init__(
        self, tables: Callable[[], Tables], locks: list[tuple[str, int]], seen: SeenAggregates
    ) -> None:
        super().__init__(tables, locks)
        self._seen = seen

    def add(self, fulfillment: Fulfillment) -> None:
        fulfillment.id = self.t.new_id()
        self._store(fulfillment)

    def get(self, fulfillment_id: int, *, for_update: bool = False) -> Fulfillment | None:
        self._lock("fulfillment", [fulfillment_id], for_update)
        stored = self.t.fulfillments.get(fulfillment_id)
        if stored is None:
            return None
        fulfillment = copy.deepcopy(stored)
        self._seen.add(fulfillment)
        return fulfillment

    def save(self, fulfillment: Fulfillment) -> None:
        assert fulfillment.id is not None
        stored = self.t.fulfillments[fulfillment.id]
        if stored.version != fulfillment.version - 1:
            raise StaleVersion(stored.version)
        self._store(fulfillment)

    def for_order(self, order_id: int) -> list[Fulfillment]:
        mine = sorted(
            (f for f in self.t.fulfillments.values() if f.order_id == order_id), key=lambda f: f.id or 0
        )
        return [copy.deepcopy(f) for f in mine]

    def _store(self, fulfillment: Fulfillment) -> None:
        self._seen.add(fulfillment)
        self.t.fulfillments[fulfillment.id or 0] = _kept(fulfillment)


class InMemoryReturnRepository(_Repository):
    def __init__(
        self, tables: Callable[[], Tables], locks: list[tuple[str, int]], seen: SeenAggregates
    ) -> None:
        super().__init__(tables, locks)
        self._seen = seen

    def add(self, ret: Return) -> None:
        ret.id = self.t.new_id()
        for line in ret.lines:
            line.id = self.t.new_id()
        self._store(ret)

    def get(self, return_id: int, *, for_update: bool = False) -> Return | None:
        self._lock("return", [return_id], for_update)
        stored = self.t.returns.get(return_id)
        if stored is None:
            return None
        found = copy.deepcopy(stored)
        self._seen.add(found)
        return found

    def for_order(self, order_id: int) -> list[Return]:
        mine = sorted((r for r in self.t.returns.values() if r.order_id == order_id), key=lambda r: r.id or 0)
        return [copy.deepcopy(r) for r in mine]

    def save(self, ret: Return) -> None:
        assert ret.id is not None
        stored = self.t.returns[ret.id]
        if stored.version != ret.version - 1:
            raise StaleVersion(stored.version)
        self._store(ret)

    def _store(self, ret: Return) -> None:
        self._seen.add(ret)
        kept = _kept(ret)
        kept.stock_movements = []  # stored in the ledger, not with the return
        self.t.returns[ret.id or 0] = kept


class InMemoryOrderRefundRepository(_Repository):
    def add(self, refund: OrderRefund) -> None:
        for other in self.t.refunds.values():
            same_reference = (other.order_id, other.reference) == (refund.order_id, refund.reference)
            if same_reference or (refund.return_id is not None and other.return_id == refund.return_id):
                raise DuplicateKey("order_refunds.reference")
        refund.id = self.t.new_id()
        self.t.refunds[refund.id] = copy.deepcopy(refund)

    def for_order(self, order_id: int) -> list[OrderRefund]:
        mine = sorted((r for r in self.t.refunds.values() if r.order_id == order_id), key=lambda r: r.id or 0)
        return [copy.deepcopy(r) for r in mine]


class InMemoryIdempotencyRepository(_Repository):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        existing = self.t.idempotency.get((record.user_id, record.key))
        if existing is not None:
            return copy.deepcopy(existing)
        self.t.idempotency[(record.user_id, record.key)] = copy.deepcopy(record)
        return None

    def complete(self, user_id: int, key: str, order_id: int) -> None:
        self.t.idempotency[(user_id, key)].order_id = order_id

    def release(self, user_id: int, key: str) -> None:
        self.t.idempotency.pop((user_id, key), None)

    def purge(self, created_before: datetime) -> int:
        old = [k for k, r in self.t.idempotency.items() if r.created_at < created_before]
        for k in old:
            del self.t.idempotency[k]
        return len(old)


class InMemoryThrottleRepository(_Repository):
    def hit(self, key: str, now: datetime, window: timedelta) -> Attempts:
        current = self.t.throttle.get(key)
        if current is None or current.window_ends <= now:
            current = Attempts(0, now + window)
        self.t.throttle[key] = Attempts(current.count + 1, current.window_ends)
        return self.t.throttle[key]

    def forgive(self, key: str) -> None:
        current = self.t.throttle.get(key)
        if current is not None and current.count > 0:
            self.t.throttle[key] = Attempts(current.count - 1, current.window_ends)

    def clear(self, key: str) -> None:
        self.t.throttle.pop(key, None)

    def remember(self, key: str, until: datetime) -> None:
        self.t.throttle[key] = Attempts(0, until)

    def remembers(self, key: str, now: datetime) -> bool:
        current = self.t.throttle.get(key)
        return current is not None and current.window_ends > now

    def purge(self, now: datetime) -> int:
        ended = [key for key, attempts in self.t.throttle.items() if attempts.window_ends <= now]
        for key in ended:
            del self.t.throttle[key]
        return len(ended)


class InMemoryEventRepository(_Repository):
    def __init__(
        self, tables: Callable[[], Tables], locks: list[tuple[str, int]], present: Presenter
    ) -> None:
        super().__init__(tables, locks)
        self._present = present

    def add(self, events: Sequence[DomainEvent]) -> None:
        for e in events:
            stored = [s.sequence for s in self.t.outbox if (s.resource_type, s.resource_id) == _resource(e)]
            self.t.outbox.append(
                Event(
                    id=self.t.new_id(),
                    type=e.type,
                    resource_type=e.resource_type,
                    resource_id=e.resource_id,
                    sequence=max(stored, default=0) + 1,
                    created_at=e.at,
                    actor_id=e.actor_id,
                    payload=self._present(e.subject),
                )
            )

    def get(self, event_id: int) -> Event | None:
        return next((e for e in self.t.outbox if e.id == event_id), None)

    def get_many(self, event_ids: Sequence[int]) -> dict[int, Event]:
        return {e.id: e for e in self.t.outbox if e.id in event_ids}

    def feed(self, filters: EventFilter, starting_after: int | None, limit: int) -> list[Event]:
        found = [
            e
            for e in self.t.outbox
            if e.id > (starting_after or 0)
            and filters.type in (None, e.type)
            and filters.resource_type in (None, e.resource_type)
            and filters.resource_id in (None, e.resource_id)
        ]
        return found[:limit]

    def purge(self, created_before: datetime) -> int:
        newest = {}
        for e in self.t.outbox:
            newest[(e.resource_type, e.resource_id)] = e.id
        kept = [e for e in self.t.outbox if e.created_at >= created_before or newest[_resource(e)] == e.id]
        purged = len(self.t.outbox) - len(kept)
        self.t.outbox = kept
        return purged


def _resource(e: Event | DomainEvent) -> tuple[Any, int]:
    return (e.resource_type, e.resource_id)


class InMemoryWebhookRepository(_Repository):
    def add(self, webhook: Webhook) -> None:
        webhook.id = self.t.new_id()
        self.t.webhooks[webhook.id] = copy.deepcopy(webhook)
        self.t.offered_up_to[webhook.id] = max((e.id for e in self.t.outbox), default=0)

    def get(self, webhook_id: int, *, for_update: bool = False) -> Webhook | None:
        self._lock("webhook", [webhook_id], for_update)
        return copy.deepcopy(self.t.webhooks.get(webhook_id))

    def list(self, window: Window) -> Page[Webhook]:
        return _page(list(self.t.webhooks.values()), window, paging.WEBHOOKS)

    def save(self, webhook: Webhook) -> None:
        assert webhook.id is not None
        stored = self.t.webhooks[webhook.id]
        if stored.version != webhook.version - 1:
            raise StaleVersion(stored.version)
        self.t.webhooks[webhook.id] = copy.deepcopy(webhook)

    def delete(self, webhook_id: int) -> None:
        del self.t.webhooks[webhook_id]
        gone = {d.id for d in self.t.deliveries.values() if d.webhook_id == webhook_id}
        self.t.deliveries = {i: d for i, d in self.t.deliveries.items() if i not in gone}
        self.t.attempts = [a for a in self.t.attempts if a.delivery_id not in gone]

    def offer_events(self, now: datetime, limit: int) -> int:
        offered = 0
        for webhook in self.t.webhooks.values():
            assert webhook.id is not None
            if not webhook.enabled:
                continue
            new = [e for e in self.t.outbox if e.id > self.t.offered_up_to[webhook.id]][:limit]
            for e in new:
                if webhook.wants(e.type):
                    delivery = Delivery(webhook.id, e.id, e.type, DeliveryState.PENDING, now, now)
                    delivery.id = self.t.new_id()
                    self.t.deliveries[delivery.id] = delivery
                    offered += 1
            if new:
                self.t.offered_up_to[webhook.id] = new[-1].id
        return offered

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        due = sorted(
            (
                d
                for d in self.t.deliveries.values()
                if d.state is DeliveryState.PENDING
                and d.next_attempt_at <= now
                and self.t.webhooks[d.webhook_id].enabled
            ),
            key=lambda d: (d.next_attempt_at, d.id or 0),
        )[:limit]
        for d in due:
            d.claim(now, lease)
        return copy.deepcopy(due)

    def get_delivery(self, webhook_id: int, delivery_id: int, *, for_update: bool = False) -> Delivery | None:
        self._lock("delivery", [delivery_id], for_update)
        found = self.t.deliveries.get(delivery_id)
        return copy.deepcopy(found) if found is not None and found.webhook_id == webhook_id else None

    def deliveries(self, webhook_id: int, window: Window) -> Page[Delivery]:
        page = _page(
            [d for d in self.t.deliveries.values() if d.webhook_id == webhook_id], window, paging.DELIVERIES
        )
        history = self.attempts([d.id for d in page.items if d.id is not None])
        for d in page.items:
            d.history = history.get(d.id or 0, [])
        return page

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
        grouped: dict[int, list[Attempt]] = {}
        for a in self.t.attempts:
            if a.delivery_id in delivery_ids:
                grouped.setdefault(a.delivery_id, []).append(a)
        return grouped

    def save_deliveries(self, deliveries: Sequence[Delivery], attempts: Sequence[Attempt] = ()) -> None:
        for delivery in deliveries:
            assert delivery.id in self.t.deliveries
            self.t.deliveries[delivery.id] = replace(copy.deepcopy(delivery), history=[])
        self.t.attempts += [replace(a, id=self.t.new_id()) for a in attempts]

    def purge(self, created_before: datetime) -> int:
        old = {i for i, d in self.t.deliveries.items() if d.created_at < created_before}
        self.t.deliveries = {i: d for i, d in self.t.deliveries.items() if i not in old}
        self.t.attempts = [a for a in self.t.attempts if a.delivery_id not in old]
        return len(old)


class InMemoryStore:
    """The fake database: the committed tables, shared by every Unit of Work made over it."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = threading.Lock()
        self.locks: list[tuple[str, int]] = []  # (kind, id) of every row read for update, in order


class InMemoryUnitOfWork:
    """Works on a private copy of the tables; `commit()` publishes it, anything else discards it.

    As with the SQL one, `with` blocks nest: an inner block joins the outer one's working copy."""

    def __init__(self, store: InMemoryStore | None = None, present: Presenter = present) -> None:
        self.store = store if store is not None else InMemoryStore()
        self._working: _WorkingTables | None = None
        self._depth = 0
        self.commits = 0
        self.seen = SeenAggregates()
        self.users = InMemoryUserRepository(self._tables, self.store.locks, self.seen)
        self.categories = InMemoryCategoryRepository(self._tables, self.store.locks)
        self.products = InMemoryProductRepository(self._tables, self.store.locks, self.seen, self._collect)
        self.orders = InMemoryOrderRepository(self._tables, self.store.locks, self.seen)
        self.payments = InMemoryPaymentRepository(self._tables, self.store.locks, self.seen)
        self.fulfillments = InMemoryFulfillmentRepository(self._tables, self.store.locks, self.seen)
        self.returns = InMemoryReturnRepository(self._tables, self.store.locks, self.seen)
        self.refunds = InMemoryOrderRefundRepository(self._tables, self.store.locks)
        self.idempotency = InMemoryIdempotencyRepository(self._tables, self.store.locks)
        self.addresses = InMemoryAddressRepository(self._tables, self.store.locks)
        self.throttle = InMemoryThrottleRepository(self._tables, self.store.locks)
        self.events = InMemoryEventRepository(self._tables, self.store.locks, present)
        self.webhooks = InMemoryWebhookRepository(self._tables, self.store.locks)

    def _tables(self) -> Tables:
        """Private copies of the store's tables, each taken when first used (afresh after a commit)."""
        if self._depth == 0:
            raise RuntimeError("repositories are used only inside `with uow:`")
        if self._working is None:
            self._working = _WorkingTables(self.store.tables)
        return self._working

    def __enter__(self) -> Self:
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.rollback()

    def _collect(self) -> None:
        """The events the aggregates it saw raised, into the outbox (presented as they are now)."""
        self.events.add(self.seen.take_events())

    def commit(self) -> None:
        self._collect()
        # The copies are handed over: repositories store and return copies, so nothing else refers into them.
        working = self._tables()
        with self.store.lock:
            self.store.tables = working.merged_into(self.store.tables)
        self._working = None
        self.commits += 1

    def rollback(self) -> None:
        self._working = None
        self.seen.clear()


class InMemoryUnitOfWorkRunner:
    """Runs a use case on a fresh in-memory Unit of Work over one shared store."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return work(InMemoryUnitOfWork(self.store), *args, **kwargs)
