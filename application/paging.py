"""Pages of a list: by offset (the contract's), or after a position (keyset paging, whose cost does not grow
with depth). Every list has one ordering, named here: the storage sorts by it and the position of an item in
it is read here, so a page read after a position starts exactly where the previous one ended."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from application.lists import Page, Position, ProductSort, Window
from domain.catalog import Category, Product
from domain.orders import Order
from domain.stock import StockMovement
from domain.users import User
from domain.webhooks import Delivery, Webhook

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ordering(Generic[T]):
    """How a list is sorted: by `key` (the id last, so every position is unique), ascending or descending."""

    name: str
    key: Callable[[T], Position]
    descending: bool = False

    def after(self, item: T, position: Position) -> bool:
        """Whether `item` comes after `position` in this order."""
        return self.key(item) < position if self.descending else self.key(item) > position


def _id(entity: Any) -> int:
    return entity.id or 0


USERS: Ordering[User] = Ordering("users", lambda u: (_id(u),))
CATEGORIES: Ordering[Category] = Ordering("categories", lambda c: (c.name, _id(c)))
ORDERS: Ordering[Order] = Ordering("orders", lambda o: (o.created_at, _id(o)), descending=True)
STOCK_MOVEMENTS: Ordering[StockMovement] = Ordering(
    "stock-movements", lambda m: (m.created_at, _id(m)), descending=True
)
WEBHOOKS: Ordering[Webhook] = Ordering("webhooks", lambda w: (_id(w),))
DELIVERIES: Ordering[Delivery] = Ordering("deliveries", lambda d: (d.created_at, _id(d)), descending=True)
PRODUCTS: dict[ProductSort, Ordering[Product]] = {
    ProductSort.ID: Ordering("products:id", lambda p: (_id(p),)),
    ProductSort.NAME: Ordering("products:name", lambda p: (p.name, _id(p))),
    ProductSort.NAME_DESC: Ordering("products:-name", lambda p: (p.name, _id(p)), descending=True),
    ProductSort.PRICE: Ordering("products:price", lambda p: (p.price, _id(p))),
    ProductSort.PRICE_DESC: Ordering("products:-price", lambda p: (p.price, _id(p)), descending=True),
    ProductSort.CREATED_AT: Ordering("products:created_at", lambda p: (p.created_at, _id(p))),
    ProductSort.CREATED_AT_DESC: Ordering(
        "products:-created_at", lambda p: (p.created_at, _id(p)), descending=True
    ),
}


def page_of(rows: list[T], total: int, window: Window, ordering: Ordering[T]) -> Page[T]:
    """The page from rows read with `limit + 1`: the extra row is not shown, it only says a next page exists,
    which then starts after the last item shown."""
    items = rows[: window.limit]
    more = len(rows) > window.limit
    return Page(items, total, window.limit, window.offset, ordering.key(items[-1]) if more else None)
