"""The category tree, category statistics and expanded products: the use cases and the domain's rules,
over the fakes."""

from decimal import Decimal

import pytest

from application.categories import (
    category_stats,
    get_category,
    list_categories,
    list_category_stats,
)
from application.errors import AuthenticationFailed, Forbidden, NotFound
from application.lists import CategoryFilter, ProductFilter, Window
from application.products import (
    Embedded,
    Expand,
    get_product_expanded,
    list_products,
    list_products_expanded,
)
from domain.catalog import CategoryStats
from tests.unit.conftest import dump


@pytest.mark.parametrize(
    ("total", "count", "average"),
    [
        ("30.01", 2, "15.01"),  # 15.005: a half, up
        ("0.04", 3, "0.01"),  # 0.01333
        ("0.05", 3, "0.02"),  # 0.01666
        ("10.00", 1, "10.00"),
        ("0.00", 4, "0.00"),
        ("0.01", 2, "0.01"),  # 0.005
        ("0.03", 2, "0.02"),  # 0.015
    ],
)
def test_the_average_price_is_rounded_to_the_cent_halves_up(total: str, count: int, average: str) -> None:
    stats = CategoryStats(active_products=count, price_total=Decimal(total))
    assert str(stats.average_price) == average


def test_an_empty_category_has_no_average_and_zero_sums() -> None:
    empty = CategoryStats()
    assert empty.average_price is None
    assert (empty.active_products, empty.units_in_stock, empty.low_stock) == (0, 0, 0)
    assert (str(empty.price_total), str(empty.stock_value), empty.min_price, empty.max_price) == (
        "0.00",
        "0.00",
        None,
        None,
    )
    assert CategoryStats(active_products=1, price_total=Decimal("1.00")).average_price == Decimal("1.00")


def test_a_category_names_its_children_and_path(world, uow) -> None:
    home = world.category("Home")
    garden = world.category("Garden", home)
    tools = world.category("Tools", garden)
    bath = world.category("Bath", home)
    detail = get_category(garden, uow=uow)
    assert [c.id for c in detail.children] == [tools] and [c.id for c in detail.path] == [home]
    root = get_category(home, uow=uow)
    assert [c.id for c in root.children] == [bath, garden] and root.path == []
    assert [c.id for c in get_category(tools, uow=uow).path] == [home, garden]


def test_the_list_gives_one_level_or_all(world, uow) -> None:
    home = world.category("Home")
    world.category("Garden", home)
    world.category("Books")
    assert [v.category.name for v in list_categories(Window(10), CategoryFilter(None), uow=uow).items] == [
        "Books",
        "Home",
    ]
    assert [v.category.name for v in list_categories(Window(10), CategoryFilter(home), uow=uow).items] == [
        "Garden"
    ]
    assert list_categories(Window(10), CategoryFilter(999), uow=uow).items == []
    assert list_categories(Window(10), uow=uow).total == 3


def test_statistics_of_one_category_and_of_its_subtree(world, uow) -> None:
    home = world.category("Home")
    garden = world.category("Garden", home)
    world.product("G-1", "4.00", 2, garden)
    world.product("H-1", "1.00", 3, home)
    own = category_stats(home, False, uow=uow, actor=world.admin)
    assert own.category.id == home
    assert own.stats == CategoryStats(
        1, Decimal("1.00"), Decimal("1.00"), Decimal("1.00"), 3, Decimal("3.00"), 0
    )
    subtree = category_stats(home, True, uow=uow, actor=world.admin).stats
    assert subtree == CategoryStats(
        2, Decimal("5.00"), Decimal("1.00"), Decimal("4.00"), 5, Decimal("11.00"), 0
    )
    assert subtree.average_price == Decimal("2.50")


def test_every_category_s_statistics_in_the_list_s_order(world, uow) -> None:
    home = world.category("Home")
    books = world.category("Books")
    world.product("B-1", "2.00", 1, books)
    page = list_category_stats(Window(1), False, uow=uow, actor=world.admin)
    assert [v.category.id for v in page.items] == [books] and page.total == 2 and page.next is not None
    assert page.items[0].stats.active_products == 1
    rest = list_category_stats(Window(5, after=page.next), True, uow=uow, actor=world.admin)
    assert [(v.category.id, v.stats) for v in rest.items] == [(home, CategoryStats())]
    assert (rest.limit, rest.offset, rest.next) == (5, 0, None)


def test_statistics_are_for_admins_and_a_missing_category_is_not_found(world, uow) -> None:
    ann = world.customer()
    books = world.category("Books")
    before = dump(uow.store)
    with pytest.raises(Forbidden, match="^only admins may read category statistics$"):
        category_stats(books, False, uow=uow, actor=ann)
    with pytest.raises(Forbidden, match="^only admins may read category statistics$"):
        list_category_stats(Window(5), False, uow=uow, actor=ann)
    with pytest.raises(NotFound):
        category_stats(999, True, uow=uow, actor=world.admin)
    assert dump(uow.store) == before


def test_expand_category_embeds_the_page_s_categories(world, uow) -> None:
    books = world.category("Books")
    world.category("Unused")
    novel = world.product("N-1", category_id=books)
    loose = world.product("L-1")
    page, embedded = list_products_expanded(
        ProductFilter(), Window(10), frozenset({Expand.CATEGORY}), uow=uow, actor=None
    )
    assert [p.id for p in page.items] == [novel.id, loose.id]
    assert embedded.categories is not None and list(embedded.categories) == [books]
    assert embedded.categories[books].name == "Books"
    page, nothing = list_products_expanded(ProductFilter(), Window(10), frozenset(), uow=uow, actor=None)
    assert nothing == Embedded() and nothing.categories is None and len(page.items) == 2
    product, one = get_product_expanded(novel.id, frozenset({Expand.CATEGORY}), uow=uow)
    assert product.id == novel.id and one.categories is not None and list(one.categories) == [books]
    _, none = get_product_expanded(loose.id, frozenset({Expand.CATEGORY}), uow=uow)
    assert none.categories == {}
    with pytest.raises(NotFound):
        get_product_expanded(999, frozenset({Expand.CATEGORY}), uow=uow)


def test_expanded_lists_keep_the_list_s_access_rules(world, uow) -> None:
    ann = world.customer()
    expand = frozenset({Expand.CATEGORY})
    with pytest.raises(AuthenticationFailed):
        list_products_expanded(ProductFilter(include_inactive=True), Window(5), expand, uow=uow, actor=None)
    with pytest.raises(Forbidden):
        list_products_expanded(ProductFilter(low_stock=True), Window(5), expand, uow=uow, actor=ann)
    with pytest.raises(AuthenticationFailed):
        list_products(ProductFilter(low_stock=True), Window(5), uow=uow, actor=None)
    page, _ = list_products_expanded(
        ProductFilter(low_stock=True), Window(5), expand, uow=uow, actor=world.admin
    )
    assert page.items == []


def test_the_sku_filter_normalises_what_it_is_given(world, uow) -> None:
    world.product("ab-1")
    world.product("ab-12")
    found = list_products(ProductFilter(sku=" Ab-1 "), Window(5), uow=uow, actor=None)
    assert [p.sku for p in found.items] == ["AB-1"]
