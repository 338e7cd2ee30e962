"""Category and product use cases: uniqueness, references, cycles, versions, stock adjustment."""

from datetime import timedelta
from decimal import Decimal

import pytest

from application.categories import (
    CategoryPatch,
    CreateCategory,
    create_category,
    delete_category,
    get_category,
    list_categories,
    update_category,
)
from application.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    UnknownReference,
)
from application.lists import ProductFilter, ProductSort, Window
from application.products import (
    CreateProduct,
    ProductPatch,
    adjust_stock,
    create_product,
    delete_product,
    get_product,
    list_products,
    update_product,
)
from domain.errors import CategoryCycle, InsufficientStock, InvalidStockChange
from tests.unit.conftest import dump


def test_create_category_derives_slug_and_refuses_duplicates(world, uow, clock):
    world.category("Home & Garden")
    assert [c.slug for c in uow.store.tables.categories.values()] == ["home-garden"]
    before = dump(uow.store)
    with pytest.raises(Conflict):
        world.category("HOME & garden")
    with pytest.raises(UnknownReference):
        create_category(CreateCategory("Tools", None, 999), uow=uow, actor=world.admin, clock=clock)
    assert dump(uow.store) == before


def test_only_admins_manage_categories(world, uow, clock):
    ann = world.customer()
    cid = world.category()
    before = dump(uow.store)
    with pytest.raises(Forbidden):
        create_category(CreateCategory("X"), uow=uow, actor=ann, clock=clock)
    with pytest.raises(Forbidden):
        update_category(cid, CategoryPatch(name="Y"), uow=uow, actor=ann, clock=clock)
    with pytest.raises(Forbidden):
        delete_category(cid, uow=uow, actor=ann)
    assert dump(uow.store) == before


def test_list_categories_by_name_with_active_product_counts(world, uow, clock):
    books, art = world.category("Books"), world.category("Art")
    world.product("A", category_id=books)
    hidden = world.product("B", category_id=books)
    delete_product(hidden.id, uow=uow, actor=world.admin, clock=clock)
    page = list_categories(Window(20, 0), uow=uow)
    assert [(v.category.name, v.product_count) for v in page.items] == [("Art", 0), ("Books", 1)]
    assert page.total == 2 and art


def test_get_category_lists_active_products_by_name(world, uow, clock):
    cid = world.category()
    world.product("Z-2", category_id=cid)
    world.product("A-1", category_id=cid)
    detail = get_category(cid, uow=uow)
    assert [p.sku for p in detail.products] == ["A-1", "Z-2"]
    assert detail.view.product_count == 2
    with pytest.raises(NotFound):
        get_category(999, uow=uow)


def test_update_category_renames_and_moves(world, uow, clock):
    root, child = world.category("Root"), world.category("Child")
    view = update_category(
        child, CategoryPatch(name="Kids Books", parent_id=root), uow=uow, actor=world.admin, clock=clock
    )
    assert (view.category.slug, view.category.parent_id) == ("kids-books", root)
    assert uow.store.tables.categories[child].parent_id == root


def test_update_category_refuses_cycles_and_bad_parents_and_names(world, uow, clock):
    a = world.category("A")
    b = world.category("B", parent_id=a)
    c = world.category("C", parent_id=b)
    before = dump(uow.store)
    with pytest.raises(CategoryCycle):
        update_category(a, CategoryPatch(parent_id=c), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(CategoryCycle):
        update_category(a, CategoryPatch(parent_id=a), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(UnknownReference):
        update_category(a, CategoryPatch(parent_id=999), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(Conflict):
        update_category(a, CategoryPatch(name="b"), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(NotFound):
        update_category(999, CategoryPatch(name="Q"), uow=uow, actor=world.admin, clock=clock)
    assert dump(uow.store) == before


def test_delete_category_detaches_products_and_children(world, uow):
    parent = world.category("Parent")
    child = world.category("Child", parent_id=parent)
    product = world.product(category_id=parent)
    delete_category(parent, uow=uow, actor=world.admin)
    t = uow.store.tables
    assert parent not in t.categories
    assert t.categories[child].parent_id is None
    assert t.products[product.id].category_id is None
    with pytest.raises(NotFound):
        delete_category(parent, uow=uow, actor=world.admin)


def test_create_product_normalizes_and_checks(world, uow, clock):
    p = world.product("ab-12", price="5")
    stored = uow.store.tables.products[p.id]
    assert (stored.sku, stored.price, stored.version, stored.slug) == (
        "AB-12",
        Decimal("5.00"),
        1,
        "product-ab-12",
    )
    before = dump(uow.store)
    with pytest.raises(Conflict):
        world.product("AB-12")
    with pytest.raises(UnknownReference):
        world.product("CD-1", category_id=999)
    with pytest.raises(Forbidden):
        create_product(CreateProduct("n", "X-1", Decimal(1)), uow=uow, actor=world.customer(), clock=clock)
    assert dump(uow.store)["products"] == before["products"]


def test_list_products_filters_and_sorts(world, uow, clock):
    cid = world.category()
    cheap = world.product("C-1", price="1.00", stock=0, category_id=cid)
    mid = world.product("C-2", price="5.00", category_id=cid)
    world.product("O-1", price="9.00")
    gone = world.product("G-1", price="3.00", category_id=cid)
    delete_product(gone.id, uow=uow, actor=world.admin, clock=clock)

    def skus(**kw):
        return [
            p.sku for p in list_products(ProductFilter(**kw), Window(20, 0), uow=uow, actor=world.admin).items
        ]

    assert skus() == ["C-1", "C-2", "O-1"]
    assert skus(category_id=cid, sort=ProductSort.PRICE_DESC) == ["C-2", "C-1"]
    assert skus(min_price=Decimal("2"), max_price=Decimal("8")) == ["C-2"]
    assert skus(in_stock=True) == ["C-2", "O-1"]
    assert skus(in_stock=False) == ["C-1"]
    assert skus(q="o-1") == ["O-1"]
    assert skus(include_inactive=True) == ["C-1", "C-2", "O-1", "G-1"]
    assert cheap and mid
    with pytest.raises(AuthenticationFailed):
        list_products(ProductFilter(include_inactive=True), Window(20, 0), uow=uow, actor=None)
    with pytest.raises(Forbidden):
        list_products(ProductFilter(include_inactive=True), Window(20, 0), uow=uow, actor=world.customer())


def test_get_product_includes_inactive(world, uow, clock):
    p = world.product()
    delete_product(p.id, uow=uow, actor=world.admin, clock=clock)
    assert get_product(p.id, uow=uow).is_active is False
    with pytest.raises(NotFound):
        get_product(999, uow=uow)


def test_update_product_bumps_version_and_honours_if_match(world, uow, clock):
    p = world.product("P-1")
    clock.advance(timedelta(seconds=5))
    updated = update_product(
        p.id, ProductPatch(price=Decimal("7.5"), name="New"), 1, uow=uow, actor=world.admin, clock=clock
    )
    assert (updated.version, updated.price, updated.slug, updated.updated_at) == (
        2,
        Decimal("7.50"),
        "new",
        clock.now(),
    )
    before = dump(uow.store)
    with pytest.raises(PreconditionFailed):
        update_product(p.id, ProductPatch(name="Stale"), 1, uow=uow, actor=world.admin, clock=clock)
    assert dump(uow.store) == before


def test_update_product_failures_change_nothing(world, uow, clock):
    world.product("P-1")
    p2 = world.product("P-2")
    before = dump(uow.store)
    with pytest.raises(Conflict):
        update_product(p2.id, ProductPatch(sku="p-1"), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(UnknownReference):
        update_product(p2.id, ProductPatch(category_id=999), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(InvalidStockChange):
        update_product(p2.id, ProductPatch(stock_quantity=-1), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(NotFound):
        update_product(999, ProductPatch(name="x"), uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(Forbidden):
        update_product(p2.id, ProductPatch(name="x"), uow=uow, actor=world.customer(), clock=clock)
    assert dump(uow.store)["products"] == before["products"]


def test_soft_delete_product(world, uow, clock):
    p = world.product()
    delete_product(p.id, uow=uow, actor=world.admin, clock=clock)
    delete_product(p.id, uow=uow, actor=world.admin, clock=clock)
    stored = uow.store.tables.products[p.id]
    assert (stored.is_active, stored.version) == (False, 2)
    with pytest.raises(NotFound):
        delete_product(999, uow=uow, actor=world.admin, clock=clock)


def test_adjust_stock(world, uow, clock):
    p = world.product(stock=5)
    assert adjust_stock(p.id, 3, "restock", uow=uow, actor=world.admin, clock=clock).stock_quantity == 8
    assert (
        adjust_stock(p.id, -8, "sold at the fair", uow=uow, actor=world.admin, clock=clock).stock_quantity
        == 0
    )
    assert uow.store.tables.products[p.id].version == 3
    before = dump(uow.store)
    with pytest.raises(InsufficientStock):
        adjust_stock(p.id, -1, "r", uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(InvalidStockChange):
        adjust_stock(p.id, 0, "r", uow=uow, actor=world.admin, clock=clock)
    with pytest.raises(NotFound):
        adjust_stock(999, 1, "r", uow=uow, actor=world.admin, clock=clock)
    assert dump(uow.store) == before
