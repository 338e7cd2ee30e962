"""Keyset paging and kept totals: the same over the fakes, SQLite and PostgreSQL."""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.lists import OrderFilter, Page, ProductFilter, ProductSort, UserFilter, Window
from domain.orders import OrderStatus
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_category, add_order, add_product, add_user


def walk(read: Callable[[Window], Page[Any]], limit: int = 2) -> tuple[list[Any], int]:
    """Every item, page after page by cursor; and how many pages that took."""
    items: list[Any] = []
    window, pages = Window(limit), 0
    while True:
        page = read(window)
        items += page.items
        pages += 1
        if page.next is None:
            return items, pages
        window = Window(limit, after=page.next)


def ids(items: list[Any]) -> list[int]:
    return [i.id for i in items]


def add_catalog(make_uow: MakeUow) -> None:
    """Seven products with ties in every sort key (name, price, creation time), so ids must break them."""
    for i, (name, price, minute) in enumerate(
        [
            ("b", "5.00", 2),
            ("a", "5.00", 1),
            ("c", "1.00", 2),
            ("a", "9.00", 3),
            ("b", "1.00", 1),
            ("d", "5.00", 2),
            ("a", "1.00", 3),
        ]
    ):
        add_product(make_uow, f"S-{i}", price, name=name, at=T0 + timedelta(minutes=minute))


@pytest.mark.parametrize("sort", list(ProductSort))
def test_cursor_pages_give_every_product_once_in_the_sort_order(make_uow: MakeUow, sort: ProductSort) -> None:
    add_catalog(make_uow)

    def read(window: Window) -> Page[Any]:
        with make_uow() as uow:
            return uow.products.list(ProductFilter(sort=sort), window)

    by_cursor, pages = walk(read)
    everything = read(Window(100))
    assert ids(by_cursor) == ids(everything.items) and len(set(ids(by_cursor))) == 7
    assert pages == 4 and everything.next is None
    assert read(Window(2)).total == 7  # a cursor page reports the list's total too


def test_a_full_last_page_has_no_next_cursor(make_uow: MakeUow) -> None:
    for sku in ("A", "B", "C", "D"):
        add_product(make_uow, sku)

    def read(window: Window) -> Page[Any]:
        with make_uow() as uow:
            return uow.products.list(ProductFilter(), window)

    items, pages = walk(read)
    assert (len(items), pages) == (4, 2)


def test_cursor_paging_is_stable_while_products_are_added(make_uow: MakeUow) -> None:
    """Rows added between pages neither repeat nor push aside the rows that were there."""
    for i, price in enumerate(["1.00", "2.00", "3.00", "4.00", "5.00"]):
        add_product(make_uow, f"OLD-{i}", price)

    def read(window: Window) -> Page[Any]:
        with make_uow() as uow:
            return uow.products.list(ProductFilter(sort=ProductSort.PRICE), window)

    first = read(Window(2))
    add_product(make_uow, "NEW-BEFORE", "0.50")  # sorts before the page already read
    add_product(make_uow, "NEW-AFTER", "4.50")
    rest, _ = walk(lambda w: read(Window(w.limit, after=w.after or first.next)))
    skus = [p.sku for p in first.items + rest]
    assert skus == ["OLD-0", "OLD-1", "OLD-2", "OLD-3", "NEW-AFTER", "OLD-4"]


def test_cursor_pages_of_orders_newest_first_with_ties_and_filters(make_uow: MakeUow) -> None:
    ann, bob = add_user(make_uow), add_user(make_uow, "bob@shop.test")
    product = add_product(make_uow, "A", stock=100)
    for minute, buyer in [(1, ann), (2, bob), (2, ann), (2, ann), (3, bob), (1, ann)]:
        add_order(make_uow, buyer, (product, 1), at=T0 + timedelta(minutes=minute))

    def read(filters: OrderFilter) -> Callable[[Window], Page[Any]]:
        def page(window: Window) -> Page[Any]:
            with make_uow() as uow:
                return uow.orders.list(filters, window)

        return page

    for filters in (OrderFilter(), OrderFilter(user_id=ann.id), OrderFilter(status=OrderStatus.PENDING)):
        by_cursor, _ = walk(read(filters))
        everything = read(filters)(Window(100)).items
        assert ids(by_cursor) == ids(everything)
        assert [(o.created_at, o.id) for o in by_cursor] == sorted(
            ((o.created_at, o.id) for o in by_cursor), reverse=True
        )
        assert all(o.lines and o.lines[0].product_id == product.id for o in by_cursor)
    assert len(walk(read(OrderFilter(user_id=ann.id)))[0]) == 4


def test_cursor_pages_of_users_and_categories(make_uow: MakeUow) -> None:
    for email in ("a@shop.test", "b@shop.test", "c@shop.test"):
        add_user(make_uow, email)
    for name in ("Garden", "Art", "Books"):
        add_category(make_uow, name)

    def users(window: Window) -> Page[Any]:
        with make_uow() as uow:
            return uow.users.list(UserFilter(), window)

    def categories(window: Window) -> Page[Any]:
        with make_uow() as uow:
            return uow.categories.list(window)

    assert [u.email for u in walk(users)[0]] == ["a@shop.test", "b@shop.test", "c@shop.test"]
    assert [c.name for c in walk(categories)[0]] == ["Art", "Books", "Garden"]


def recount(make_uow: MakeUow) -> tuple[Counter[OrderStatus], Decimal]:
    """Statistics the slow way: every order read and counted."""
    with make_uow() as uow:
        orders = uow.orders.list(OrderFilter(), Window(100)).items
    revenue = sum((o.total_amount for o in orders if o.status is not OrderStatus.CANCELLED), Decimal("0.00"))
    return Counter(o.status for o in orders), revenue


def test_kept_totals_follow_every_placement_status_change_and_cancellation(make_uow: MakeUow) -> None:
    buyer = add_user(make_uow)
    cheap, dear = (
        add_product(make_uow, "A", "0.10", stock=100),
        add_product(make_uow, "B", "99999.99", stock=100),
    )
    orders = [add_order(make_uow, buyer, (cheap, n), (dear, 1)) for n in range(1, 6)]
    orders += [add_order(make_uow, buyer, (cheap, 3))]
    moves = [
        (orders[0], [OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED]),
        (orders[1], [OrderStatus.CANCELLED]),
        (orders[2], [OrderStatus.CONFIRMED, OrderStatus.CANCELLED]),
        (orders[5], [OrderStatus.CONFIRMED]),
    ]
    for order, statuses in moves:
        for status in statuses:
            with make_uow() as uow:
                loaded = uow.orders.get(order.id, for_update=True)
                if status is OrderStatus.CANCELLED:
                    loaded.cancel(uow.products.get_many(loaded.product_ids()), by=buyer, at=T0)
                else:
                    loaded.change_status(status, actor_id=buyer.id, at=T0)
                uow.orders.save(loaded)
                uow.commit()
    by_status, revenue = recount(make_uow)
    assert by_status == {"shipped": 1, "cancelled": 2, "pending": 2, "confirmed": 1}
    with make_uow() as uow:
        stats = uow.orders.stats()
        totals = {s: uow.orders.list(OrderFilter(status=s), Window(1)).total for s in OrderStatus}
        everything = uow.orders.list(OrderFilter(), Window(1)).total
    assert stats.orders_by_status == {s: by_status[s] for s in OrderStatus} == totals
    assert (stats.total_orders, everything) == (6, 6)
    assert stats.total_revenue == revenue == Decimal("0.10") * 13 + Decimal("99999.99") * 3
