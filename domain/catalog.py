"""The catalog: categories (a tree) and products (price, SKU, stock, active flag, version)."""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.aggregate import Aggregate
from domain.entity import Entity
from domain.errors import (
    CategoryCycle,
    InsufficientStock,
    InvalidStockChange,
    ProductUnavailable,
)
from domain.events import DomainEvent, EventType
from domain.money import CENT, money
from domain.patch import UNSET, Unset, sent
from domain.stock import NEEDS_REASON, MovementKind, StockMovement, check_reason

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_STOCK = 2_147_483_647  # the stock column is a 32-bit integer
MAX_ADJUSTMENT = 1_000_000_000


def slugify(name: str) -> str:
    """'Home & Garden' -> 'home-garden'; accents are folded to ASCII."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_name.lower()).strip("-") or "item"


def normalize_sku(sku: str) -> str:
    return sku.strip().upper()


def name_key(name: str) -> str:
    """What makes two category names the same: Unicode case folding of the NFKC form ('Ärger' = 'ÄRGER',
    'Straße' = 'STRASSE'), computed here so SQLite and PostgreSQL compare names alike."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def check_adjustment(delta: int) -> None:
    if delta == 0:
        raise InvalidStockChange("a stock adjustment must not be zero")
    if abs(delta) > MAX_ADJUSTMENT:
        raise InvalidStockChange(f"a stock adjustment is at most {MAX_ADJUSTMENT:,} units either way")


def check_stock_figure(quantity: int) -> None:
    if not 0 <= quantity <= MAX_STOCK:
        raise InvalidStockChange(f"stock must be between 0 and {MAX_STOCK}")


def check_threshold(threshold: int | None) -> None:
    """At or below it, a product is listed as low on stock (None: never)."""
    if threshold is not None:
        check_stock_figure(threshold)


def returned_stock(stock: int, units: int) -> int:
    """Stock after `units` come back from a cancelled order: never above MAX_STOCK (what does not fit is
    dropped, so a cancel always succeeds)."""
    return min(stock + units, MAX_STOCK)


@dataclass(eq=False, slots=True)
class Category(Entity):
    name: str
    slug: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    parent_id: int | None = None
    id: int | None = None

    @classmethod
    def create(cls, *, name: str, description: str | None, parent_id: int | None, at: datetime) -> "Category":
        return cls(
            name=name,
            slug=slugify(name),
            description=description,
            parent_id=parent_id,
            created_at=at,
            updated_at=at,
        )

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    def update(
        self,
        *,
        at: datetime,
        name: str | Unset = UNSET,
        description: str | None | Unset = UNSET,
        parent_id: int | None | Unset = UNSET,
        parent_ancestry: Sequence[int] = (),
    ) -> None:
        """An admin's change; `parent_ancestry` is the new parent and its ancestors, which this category
        may not be among (a cycle)."""
        if sent(parent_id) and parent_id is not None and self.id is not None and self.id in parent_ancestry:
            raise CategoryCycle(self.id, parent_id)
        if sent(name):
            self.name = name
            self.slug = slugify(name)
        if sent(description):
            self.description = description
        if sent(parent_id):
            self.parent_id = parent_id
        self.updated_at = at


@dataclass(frozen=True, slots=True)
class CategoryStats:
    """What a category's active products (with its subcategories' when asked) add up to. The sums are kept
    as products change; the minimum and maximum price are read. An empty category: zeros and no prices."""

    active_products: int = 0
    price_total: Decimal = Decimal("0.00")
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    units_in_stock: int = 0
    stock_value: Decimal = Decimal("0.00")  # Σ price × stock
    low_stock: int = 0  # at or below their low-stock threshold

    @property
    def average_price(self) -> Decimal | None:
        """Σ price / count to the cent, halves rounded up (away from zero), as `money()` does."""
        if self.active_products == 0:
            return None
        return (self.price_total / self.active_products).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(eq=False, slots=True)
class Product(Aggregate):
    name: str
    slug: str
    sku: str
    price: Decimal
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    stock_quantity: int = 0
    is_active: bool = True
    category_id: int | None = None
    low_stock_threshold: int | None = None
    version: int = 1
    id: int | None = None
    # Movements of its own stock since it was loaded (created with, corrected, adjusted), for the repository
    # to store with it. Those of orders travel with the order instead.
    new_movements: list[StockMovement] = field(default_factory=list)
    domain_events: list[DomainEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sku = normalize_sku(self.sku)
        self.price = money(self.price)
        if self.stock_quantity < 0:
            raise InvalidStockChange("stock cannot be negative")

    @classmethod
    def create(
        cls,
        *,
        name: str,
        sku: str,
        price: Decimal,
        at: datetime,
        description: str | None = None,
        stock_quantity: int = 0,
        category_id: int | None = None,
        low_stock_threshold: int | None = None,
        actor_id: int | None = None,
    ) -> "Product":
        check_stock_figure(stock_quantity)
        check_threshold(low_stock_threshold)
        product = cls(
            name=name,
            slug=slugify(name),
            sku=sku,
            price=price,
            description=description,
            category_id=category_id,
            low_stock_threshold=low_stock_threshold,
            created_at=at,
            updated_at=at,
        )
        product.new_movements.append(
            StockMovement(0, stock_quantity, stock_quantity, MovementKind.INITIAL, at, actor_id)
        )
        product.stock_quantity = stock_quantity
        product._record(EventType.PRODUCT_CREATED, at, actor_id)
        return product

    def update(
        self,
        *,
        at: datetime,
        actor_id: int | None,
        name: str | Unset = UNSET,
        sku: str | Unset = UNSET,
        description: str | None | Unset = UNSET,
        price: Decimal | Unset = UNSET,
        stock_quantity: int | Unset = UNSET,
        stock_reason: str | None | Unset = UNSET,
        category_id: int | None | Unset = UNSET,
        low_stock_threshold: int | None | Unset = UNSET,
        is_active: bool | Unset = UNSET,
    ) -> bool:
        """An admin's change of any of its fields, as one new version: product.updated, and a new stock
        figure (a count of what is on the shelf) is a movement of the difference, which needs a reason.
        Checked before anything changes; return whether anything did (nothing sent: nothing changes)."""
        given = (
            name,
            sku,
            description,
            price,
            stock_quantity,
            stock_reason,
            category_id,
            low_stock_threshold,
        )
        if not any(sent(value) for value in (*given, is_active)):
            return False
        if sent(stock_quantity):
            check_stock_figure(stock_quantity)
        if sent(low_stock_threshold):
            check_threshold(low_stock_threshold)
        correction = stock_quantity - self.stock_quantity if sent(stock_quantity) else 0
        reason = stock_reason if sent(stock_reason) else None
        if correction:
            check_reason(MovementKind.CORRECTION, reason)
        self._record(EventType.PRODUCT_UPDATED, at, actor_id)
        if sent(name):
            self.name = name
            self.slug = slugify(name)
        if sent(sku):
            self.sku = normalize_sku(sku)
        if sent(description):
            self.description = description
        if sent(price):
            self.price = money(price)
        if sent(category_id):
            self.category_id = category_id
        if sent(low_stock_threshold):
            self.low_stock_threshold = low_stock_threshold
        if sent(is_active):
            self.is_active = is_active
        if correction:
            self.new_movements.append(self._move(correction, MovementKind.CORRECTION, at, actor_id, reason))
        self._touch(at)
        return True

    def withdraw(self, *, at: datetime, actor_id: int | None) -> bool:
        """Soft deletion: off sale and out of the catalog (orders keep referring to it); return whether it
        was on sale (withdrawing twice changes nothing)."""
        if not self.is_active:
            return False
        self.is_active = False
        self._record(EventType.PRODUCT_DELETED, at, actor_id)
        self._touch(at)
        return True

    def supply(self, quantity: int, *, at: datetime, actor_id: int | None) -> StockMovement:
        """Take `quantity` units for an order: only while on sale, and only units that are there."""
        if not self.is_active:
            raise ProductUnavailable(self._id())
        if quantity > self.stock_quantity:
            raise InsufficientStock(self._id(), quantity, self.stock_quantity)
        self._touch(at)
        return self._move(-quantity, MovementKind.ORDER, at, actor_id)

    def restock(
        self, units: int, kind: MovementKind, *, at: datetime, actor_id: int | None, reason: str | None = None
    ) -> StockMovement:
        """Units back from a cancelled or expired order or an accepted return, capped as `returned_stock`
        says."""
        delta = returned_stock(self.stock_quantity, units) - self.stock_quantity
        self._touch(at)
        return self._move(delta, kind, at, actor_id, reason)

    def adjust_stock(self, delta: int, *, at: datetime, actor_id: int | None, reason: str | None) -> None:
        """An admin's correction by a delta: any non-zero one that keeps the stock within 0..MAX_STOCK."""
        check_adjustment(delta)
        if self.stock_quantity + delta < 0:
            raise InsufficientStock(self._id(), -delta, self.stock_quantity)
        if self.stock_quantity + delta > MAX_STOCK:
            raise InvalidStockChange(f"stock cannot exceed {MAX_STOCK} units")
        self.new_movements.append(self._move(delta, MovementKind.ADJUSTMENT, at, actor_id, reason))
        self._touch(at)

    def _move(
        self, delta: int, kind: MovementKind, at: datetime, actor_id: int | None, reason: str | None = None
    ) -> StockMovement:
        """Every change of stock is a movement of the ledger (and, by its callers, a new version). One by
        hand raises stock.adjusted; one that empties the shelf or refills it, out of / back in stock."""
        movement = StockMovement(self._id(), delta, self.stock_quantity + delta, kind, at, actor_id, reason)
        if kind in NEEDS_REASON:
            self._record(EventType.STOCK_ADJUSTED, at, actor_id)
        if delta < 0 and movement.quantity == 0:
            self._record(EventType.PRODUCT_OUT_OF_STOCK, at, actor_id)
        elif delta > 0 and movement.quantity == delta:
            self._record(EventType.PRODUCT_BACK_IN_STOCK, at, actor_id)
        self.stock_quantity += delta
        return movement

    def _touch(self, at: datetime) -> None:
        """Every change bumps the version (the ETag) and the update time."""
        self.version += 1
        self.updated_at = at

    def _record(self, event: EventType, at: datetime, actor_id: int | None) -> None:
        self.domain_events.append(DomainEvent(event, self, at, actor_id))

    def _id(self) -> int:
        return self.id if self.id is not None else 0
