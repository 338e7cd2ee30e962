"""The catalog: categories (a tree) and products (price, SKU, stock, active flag, version)."""

import re
import unicodedata
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class StockChange:
    """Units that move into (positive) or out of (negative) one product's stock, as the product decided;
    the repository stores them, with the version bump that goes with each."""

    product_id: int
    delta: int


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
    version: int = 1
    id: int | None = None

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
    ) -> "Product":
        return cls(
            name=name,
            slug=slugify(name),
            sku=sku,
            price=price,
            description=description,
            stock_quantity=stock_quantity,
            category_id=category_id,
            created_at=at,
            updated_at=at,
        )

    def rename(self, name: str) -> None:
        self.name = name
        self.slug = slugify(name)

    def supply(self, quantity: int) -> "StockChange":
        """Take `quantity` units for an order: only while on sale, and only units that are there."""
        if not self.is_active:
            raise ProductUnavailable(self._id())
        if quantity > self.stock_quantity:
            raise InsufficientStock(self._id(), quantity, self.stock_quantity)
        return self._move(-quantity)

    def restock(self, units: int) -> "StockChange":
        """Units back from a cancelled order, capped as `returned_stock` says."""
        return self._move(returned_stock(self.stock_quantity, units) - self.stock_quantity)

    def adjust_stock(self, delta: int, at: datetime) -> "StockChange":
        """An admin's correction: any non-zero delta that keeps the stock within 0..MAX_STOCK."""
        check_adjustment(delta)
        if self.stock_quantity + delta < 0:
            raise InsufficientStock(self._id(), -delta, self.stock_quantity)
        if self.stock_quantity + delta > MAX_STOCK:
            raise InvalidStockChange(f"stock cannot exceed {MAX_STOCK} units")
        self.updated_at = at
        return self._move(delta)

    def _move(self, delta: int) -> "StockChange":
        """Every change of stock bumps the version: the representation (and its ETag) changed."""
        self.stock_quantity += delta
        self.version += 1
        return StockChange(self._id(), delta)

    def set_stock(self, quantity: int) -> None:
        if not 0 <= quantity <= MAX_STOCK:
            raise InvalidStockChange(f"stock must be between 0 and {MAX_STOCK}")
        self.stock_quantity = quantity

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
