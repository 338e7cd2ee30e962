"""What a change of the catalog writes, field by field, and what a category shows: its own active
products, counted alike in its page, its detail and the answer to a change."""

from decimal import Decimal

import pytest

from application.categories import (
    CategoryPatch,
    CreateCategory,
    create_category,
    get_category,
    list_categories,
    update_category,
)
from application.lists import Window
from application.products import CreateProduct, ProductPatch, create_product, get_product, update_product
from domain.errors import InvalidStockChange
from tests.unit.conftest import World, dump


def test_every_field_of_a_product_change_is_written(world: World) -> None:
    books, music = world.category("Books"), world.category("Music")
    p = world.product("OLD-1", category_id=books)
    patch = ProductPatch(
        name="New name",
        sku=" new-1 ",
        description="Now described",
        price=Decimal("3.5"),
        category_id=music,
        low_stock_threshold=2,
        is_active=False,
    )
    update_product(p.id, patch, uow=world.uow, actor=world.admin, clock=world.clock)
    stored = get_product(p.id, uow=world.uow)
    assert (stored.name, stored.slug, stored.sku, stored.description, stored.price) == (
        "New name",
        "new-name",
        "NEW-1",
        "Now described",
        Decimal("3.50"),
    )
    assert (stored.category_id, stored.low_stock_threshold, stored.is_active) == (music, 2, False)
    back = update_product(
        p.id, ProductPatch(is_active=True), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert back.is_active is True and get_product(p.id, uow=world.uow).is_active is True
    kept = update_product(
        p.id, ProductPatch(name="Again"), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert (kept.is_active, kept.category_id, kept.description) == (True, music, "Now described")


def test_a_product_and_a_category_keep_their_description(world: World) -> None:
    cmd = CreateProduct("Tea", "T-1", Decimal("2.00"), "Green and fresh")
    p = create_product(cmd, uow=world.uow, actor=world.admin, clock=world.clock)
    assert get_product(p.id, uow=world.uow).description == "Green and fresh"
    view = create_category(
        CreateCategory("Teas", "Leaves"), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert get_category(view.category.id, uow=world.uow).view.category.description == "Leaves"
    changed = update_category(
        view.category.id,
        CategoryPatch(description="Dried leaves"),
        uow=world.uow,
        actor=world.admin,
        clock=world.clock,
    )
    assert changed.category.description == "Dried leaves"
    assert get_category(view.category.id, uow=world.uow).view.category.description == "Dried leaves"


def test_a_category_shows_and_counts_its_own_active_products(world: World) -> None:
    books, music = world.category("Books"), world.category("Music")
    world.product("B-1", category_id=books)
    world.product("B-2", category_id=books)
    world.product("M-1", category_id=music)
    world.product("N-1")
    detail = get_category(books, uow=world.uow)
    assert (detail.view.product_count, sorted(p.sku for p in detail.products)) == (2, ["B-1", "B-2"])
    counts = {v.category.id: v.product_count for v in list_categories(Window(), uow=world.uow).items}
    assert counts == {books: 2, music: 1}
    renamed = update_category(
        books, CategoryPatch(name="Old books"), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert renamed.product_count == 2
    empty = update_category(
        world.category("Empty"),
        CategoryPatch(name="Still empty"),
        uow=world.uow,
        actor=world.admin,
        clock=world.clock,
    )
    assert empty.product_count == 0


def test_moving_a_category_under_another_and_back_to_the_top(world: World) -> None:
    top, child = world.category("Top"), world.category("Child")
    moved = update_category(
        child, CategoryPatch(parent_id=top), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert moved.category.parent_id == top
    back = update_category(
        child, CategoryPatch(parent_id=None), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert back.category.parent_id is None
    kept = update_category(
        child, CategoryPatch(name="Renamed"), uow=world.uow, actor=world.admin, clock=world.clock
    )
    assert kept.category.parent_id is None


def test_an_empty_change_writes_nothing_and_a_new_stock_figure_needs_a_reason(world: World) -> None:
    p = world.product(stock=5)
    before = dump(world.uow.store)
    same = update_product(p.id, ProductPatch(), uow=world.uow, actor=world.admin, clock=world.clock)
    assert same.version == p.version and dump(world.uow.store) == before
    with pytest.raises(InvalidStockChange, match="^a stock correction needs a reason$"):
        update_product(
            p.id, ProductPatch(stock_quantity=9), uow=world.uow, actor=world.admin, clock=world.clock
        )
    assert dump(world.uow.store) == before
