"""In-memory implementations of every repository port and a Unit of Work that keeps nothing uncommitted.

Test doubles, not shipped: they back the fast unit tests; the shared repository contract suite runs
against them and the SQL adapters alike, so they behave as the database does (unique keys, versions,
atomic stock, SET NULL)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

from application import paging
from application.lists import MovementFilter, OrderFilter, Page, ProductFilter, UserFilter, Window
from application.paging import Ordering, page_of
from application.ports import Attempts, DuplicateKey, IdempotencyRecord, OrderStats, StaleVersion
from domain.catalog import Category, Product, name_key
from domain.errors import InsufficientStock
from domain.orders import Order, OrderStatus, StatusEvent
from domain.stock import OF_ORDERS, StockDrift, StockMovement
from domain.users import User

T = TypeVar("T")
E = TypeVar("E")


@dataclass
class Tables:
    """Everything the fake database holds."""

    users: dict[int, User] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    events: dict[int, list[StatusEvent]] = field(default_factory=dict)
    movements: list[StockMovement] = field(default_factory=list)
    idempotency: dict[tuple[int, str], IdempotencyRecord] = field(default_factory=dict)
    throttle: dict[str, Attempts] = field(default_factory=dict)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def _page(items: list[E], window: Window, ordering: Ordering[E]) -> Page[E]:
    """Sorted as `ordering` says; the page after `window.after`, or at `window.offset`."""
    ordered = sorted(items, key=ordering.key, reverse=ordering.descending)
    if window.after is not None:
        ordered = [i for i in ordered if ordering.after(i, window.after)]
    rows = ordered[window.offset : window.offset + window.limit + 1]
    return page_of([copy.deepcopy(i) for i in rows], len(items), window, ordering)


def _low_on_stock(p: Product) -> bool:
    return p.low_stock_threshold is not None and p.stock_quantity <= p.low_stock_threshold


def _contains(needle: str | None, *haystack: str | None) -> bool:
    return needle is None or any(needle.lower() in (h or "").lower() for h in haystack)


class _Repository:
    def __init__(self, tables: Callable[[], Tables]) -> None:
        self._tables = tables

    @property
    def t(self) -> Tables:
        return self._tables()


class InMemoryUserRepository(_Repository):
    def add(self, user: User) -> None:
        self._ensure_unique(user)
        user.id = self.t.new_id()
        self.t.users[user.id] = copy.deepcopy(user)

    def get(self, user_id: int) -> User | None:
        return copy.deepcopy(self.t.users.get(user_id))

    def get_by_email(self, email: str) -> User | None:
        found = next((u for u in self.t.users.values() if u.email == email.lower()), None)
        return copy.deepcopy(found)

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
        self.t.users[user.id] = copy.deepcopy(user)

    def _ensure_unique(self, user: User) -> None:
        if any(u.email == user.email and u.id != user.id for u in self.t.users.values()):
            raise DuplicateKey("users.email")


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

    def list(self, window: Window) -> Page[Category]:
        return _page(list(self.t.categories.values()), window, paging.CATEGORIES)

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
    def add(self, product: Product) -> None:
        self._ensure_unique(product)
        product.id = self.t.new_id()
        self._record(product)
        self.t.products[product.id] = copy.deepcopy(product)

    def get(self, product_id: int, *, for_update: bool = False) -> Product | None:
        return copy.deepcopy(self.t.products.get(product_id))

    def get_many(self, product_ids: Sequence[int], *, for_update: bool = False) -> dict[int, Product]:
        return {i: copy.deepcopy(self.t.products[i]) for i in product_ids if i in self.t.products}

    def get_by_sku(self, sku: str) -> Product | None:
        found = next((p for p in self.t.products.values() if p.sku == sku.upper()), None)
        return copy.deepcopy(found)

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
            and _contains(f.q, p.name, p.description, p.sku)
        ]
        return _page(found, window, paging.PRODUCTS[f.sort])

    def save(self, product: Product) -> None:
        assert product.id is not None
        stored = self.t.products[product.id]
        if stored.version != product.version - 1:
            raise StaleVersion(stored.version)
        self._ensure_unique(product)
        self._record(product)
        self.t.products[product.id] = copy.deepcopy(product)

    def move_stock(self, movements: Sequence[StockMovement]) -> None:
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
            )
            if product.stock_quantity != ledger or ordered != live:
                assert product.id is not None
                drifted.append(
                    StockDrift(product.id, product.sku, product.stock_quantity, ledger, ordered, live)
                )
        return drifted

    def _record(self, product: Product) -> None:
        for m in product.new_movements:
            self.t.movements.append(replace(m, product_id=product.id, id=self.t.new_id()))
        product.new_movements.clear()

    def _ensure_unique(self, product: Product) -> None:
        if any(p.sku == product.sku and p.id != product.id for p in self.t.products.values()):
            raise DuplicateKey("products.sku")


class InMemoryOrderRepository(_Repository):
    def add(self, order: Order) -> None:
        order.id = self.t.new_id()
        for line in order.lines:
            line.id = self.t.new_id()
        self.t.events[order.id] = []
        self._store(order)

    def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        return copy.deepcopy(self.t.orders.get(order_id))

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

    def events(self, order_id: int) -> list[StatusEvent]:
        return copy.deepcopy(self.t.events.get(order_id, []))

    def save(self, order: Order) -> None:
        assert order.id is not None
        stored = self.t.orders[order.id]
        if stored.version != order.version - 1:
            raise StaleVersion(stored.version)
        self._store(order)

    def stats(self) -> OrderStats:
        by_status = {status: 0 for status in OrderStatus}
        revenue = Decimal("0.00")
        for order in self.t.orders.values():
            by_status[order.status] += 1
            if order.status is not OrderStatus.CANCELLED:
                revenue += order.total_amount
        return OrderStats(len(self.t.orders), revenue, by_status)

    def pending_before(self, cutoff: datetime, limit: int) -> list[Order]:
        pending = [
            o for o in self.t.orders.values() if o.status is OrderStatus.PENDING and o.created_at < cutoff
        ]
        pending.sort(key=lambda o: (o.created_at, o.id or 0))
        return copy.deepcopy(pending[:limit])

    def _store(self, order: Order) -> None:
        assert order.id is not None
        for event in order.new_events:
            event.id = self.t.new_id()
            self.t.events[order.id].append(copy.deepcopy(event))
        order.new_events.clear()
        self.t.orders[order.id] = copy.deepcopy(order)


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

    def purge(self, now: datetime) -> int:
        ended = [key for key, attempts in self.t.throttle.items() if attempts.window_ends <= now]
        for key in ended:
            del self.t.throttle[key]
        return len(ended)


class InMemoryStore:
    """The fake database: the committed tables, shared by every Unit of Work made over it."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = threading.Lock()


class InMemoryUnitOfWork:
    """Works on a private copy of the tables; `commit()` publishes it, anything else discards it.

    As with the SQL one, `with` blocks nest: an inner block joins the outer one's working copy."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self._working: Tables | None = None
        self._depth = 0
        self.commits = 0
        self.users = InMemoryUserRepository(self._tables)
        self.categories = InMemoryCategoryRepository(self._tables)
        self.products = InMemoryProductRepository(self._tables)
        self.orders = InMemoryOrderRepository(self._tables)
        self.idempotency = InMemoryIdempotencyRepository(self._tables)
        self.throttle = InMemoryThrottleRepository(self._tables)

    def _tables(self) -> Tables:
        if self._working is None:
            raise RuntimeError("repositories are used only inside `with uow:`")
        return self._working

    def __enter__(self) -> Self:
        if self._depth == 0:
            with self.store.lock:
                self._working = copy.deepcopy(self.store.tables)
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

    def commit(self) -> None:
        with self.store.lock:
            self.store.tables = copy.deepcopy(self._tables())
        self.commits += 1

    def rollback(self) -> None:
        self._working = None


class InMemoryUnitOfWorkRunner:
    """Runs a use case on a fresh in-memory Unit of Work over one shared store."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return work(InMemoryUnitOfWork(self.store), *args, **kwargs)
