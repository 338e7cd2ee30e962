"""The catalog: categories (a tree) and products (price, SKU, stock, active flag, version)."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.entity import Entity
from domain.errors import (
    CategoryCycle,
    InsufficientStock,
    InvalidStockChange,
    ProductUnavailable,
)
from domain.money import money
from domain.stock import MovementKind, StockMovement

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

    def rename(self, name: str) -> None:
        self.name = name
        self.slug = slugify(name)

    def move_under(self, parent_id: int | None, parent_ancestry: list[int]) -> None:
        """`parent_ancestry` is the new parent and its ancestors; we may not be among them."""
        if parent_id is not None and self.id is not None and self.id in parent_ancestry:
            raise CategoryCycle(self.id, parent_id)
        self.parent_id = parent_id


@dataclass(eq=False, slots=True)
class Product(Entity):
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
        product = cls(
            name=name,
            slug=slugify(name),
            sku=sku,
            price=price,
            description=description,
            category_id=category_id,
            created_at=at,
            updated_at=at,
        )
        product.set_low_stock_threshold(low_stock_threshold)
        product.new_movements.append(
            StockMovement(0, stock_quantity, stock_quantity, MovementKind.INITIAL, at, actor_id)
        )
        product.stock_quantity = stock_quantity
        return product

    def rename(self, name: str) -> None:
        self.name = name
        self.slug = slugify(name)

    def supply(self, quantity: int, *, at: datetime, actor_id: int | None) -> StockMovement:
        """Take `quantity` units for an order: only while on sale, and only units that are there."""
        if not self.is_active:
            raise ProductUnavailable(self._id())
        if quantity > self.stock_quantity:
            raise InsufficientStock(self._id(), quantity, self.stock_quantity)
        self.touch(at)
        return self._move(-quantity, MovementKind.ORDER, at, actor_id)

    def restock(
        self, units: int, kind: MovementKind, *, at: datetime, actor_id: int | None, reason: str | None = None
    ) -> StockMovement:
        """Units back from a cancelled or expired order, capped as `returned_stock` says."""
        delta = returned_stock(self.stock_quantity, units) - self.stock_quantity
        self.touch(at)
        return self._move(delta, kind, at, actor_id, reason)

    def adjust_stock(self, delta: int, *, at: datetime, actor_id: int | None, reason: str | None) -> None:
        """An admin's correction by a delta: any non-zero one that keeps the stock within 0..MAX_STOCK."""
        check_adjustment(delta)
        if self.stock_quantity + delta < 0:
            raise InsufficientStock(self._id(), -delta, self.stock_quantity)
        if self.stock_quantity + delta > MAX_STOCK:
            raise InvalidStockChange(f"stock cannot exceed {MAX_STOCK} units")
        self.new_movements.append(self._move(delta, MovementKind.ADJUSTMENT, at, actor_id, reason))
        self.touch(at)

    def correct_stock(self, quantity: int, *, at: datetime, actor_id: int | None, reason: str | None) -> None:
        """An admin's new figure (a count of what is on the shelf): a movement of the difference. Part of
        a larger change of the product, which touches it once."""
        check_stock_figure(quantity)
        if quantity != self.stock_quantity:
            delta = quantity - self.stock_quantity
            self.new_movements.append(self._move(delta, MovementKind.CORRECTION, at, actor_id, reason))

    def set_low_stock_threshold(self, threshold: int | None) -> None:
        """At or below it, the product is listed as low on stock (None: never)."""
        if threshold is not None:
            check_stock_figure(threshold)
        self.low_stock_threshold = threshold

    def _move(
        self, delta: int, kind: MovementKind, at: datetime, actor_id: int | None, reason: str | None = None
    ) -> StockMovement:
        """Every change of stock is a movement of the ledger (and, by its callers, a touch)."""
        movement = StockMovement(self._id(), delta, self.stock_quantity + delta, kind, at, actor_id, reason)
        self.stock_quantity += delta
        return movement

    def deactivate(self) -> None:
        self.is_active = False

    def activate(self) -> None:
        self.is_active = True

    def touch(self, at: datetime) -> None:
        """Every change bumps the version (the ETag) and the update time."""
        self.version += 1
        self.updated_at = at

    def _id(self) -> int:
        return self.id if self.id is not None else 0
