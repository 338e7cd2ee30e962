"""What a list is asked for (a window and filters) and what it answers (a page): the shapes the use cases,
the repository ports and the routes share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from application.errors import InvalidCursor, OffsetTooDeep
from domain.events import EventType, ResourceType
from domain.orders import OrderStatus
from domain.patch import UNSET, Unset
from domain.stock import MovementKind

T = TypeVar("T")

# Where an item stands in its list's order (application.paging): its sort key, the id last.
Position = tuple[Any, ...]

# Deeper pages by offset make the database walk past every row before them: beyond this, use the cursor.
MAX_OFFSET = 10_000


@dataclass(frozen=True, slots=True)
class Window:
    """Which page to read: `limit` items, after skipping `offset` or else after the item at `after`."""

    limit: int = 20
    offset: int = 0
    after: Position | None = None

    def __post_init__(self) -> None:
        if self.offset > MAX_OFFSET:
            raise OffsetTooDeep(MAX_OFFSET)
        if self.offset and self.after is not None:
            raise InvalidCursor("send either offset or cursor, not both")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """`next` is the position of the last item when more follow (the next page starts after it)."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next: Position | None = None


@dataclass(frozen=True, slots=True)
class UserFilter:
    is_active: bool | None = None
    q: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryFilter:
    """`parent_id`: one level of the tree, the children of that category (None: the roots); UNSET: all."""

    parent_id: int | None | Unset = UNSET


ALL_CATEGORIES = CategoryFilter()


class ProductSort(StrEnum):
    ID = "id"
    NAME = "name"
    NAME_DESC = "-name"
    PRICE = "price"
    PRICE_DESC = "-price"
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    category_id: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    q: str | None = None
    include_inactive: bool = False
    low_stock: bool = False  # at or below its low-stock threshold
    sku: str | None = None  # exactly this SKU, in any case (normalised as domain.catalog.normalize_sku does)
    sort: ProductSort = ProductSort.ID


@dataclass(frozen=True, slots=True)
class OrderFilter:
    user_id: int | None = None
    status: OrderStatus | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class MovementFilter:
    kind: MovementKind | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventFilter:
    type: EventType | None = None
    resource_type: ResourceType | None = None
    resource_id: int | None = None
