"""The category tree and the kept category statistics, alike over the fakes, SQLite and PostgreSQL: after a
mixed sequence of catalog and order changes, the statistics the triggers kept equal a recount of the
products themselves."""

from decimal import Decimal

from application.categories import CategoryPatch, delete_category, update_category
from application.lists import CategoryFilter, ProductFilter, Window
from application.orders import OrderItem, PlaceOrder, cancel_order, change_order_status, place_order
from application.products import (
    CreateProduct,
    ProductPatch,
    adjust_stock,
    create_product,
    delete_product,
    update_product,
)
from domain.catalog import CategoryStats
from domain.money import money
from domain.orders import OrderStatus
from tests.contract.conftest import MakeUow
from tests.contract.helpers import add_category, add_user
from tests.doubles.clock import FixedClock


def test_children_ancestors_levels_and_lookups(make_uow: MakeUow) -> None:
    home = add_category(make_uow, "Home")
    garden = add_category(make_uow, "Garden", home.id)
    tools = add_category(make_uow, "Tools", garden.id)
    bath = add_category(make_uow, "Bath", home.id)
    books = add_category(make_uow, "Books")
    with make_uow() as uow:
        assert [c.name for c in uow.categories.children(home.id)] == ["Bath", "Garden"]
        assert uow.categories.children(tools.id) == []
        assert [c.id for c in uow.categories.ancestors(tools.id)] == [home.id, garden.id]
        assert [c.name for c in uow.categories.ancestors(garden.id)] == ["Home"]
        assert uow.categories.ancestors(home.id) == [] and uow.categories.ancestors(99999) == []
        found = uow.categories.get_many([tools.id, books.id, 99999])
        assert {i: c.name for i, c in found.items()} == {tools.id: "Tools", books.id: "Books"}
        assert uow.categories.get_many([]) == {}
        roots = uow.categories.list(Window(10), CategoryFilter(None))
        assert [c.name for c in roots.items] == ["Books", "Home"] and roots.total == 2
        level = uow.categories.list(Window(1), CategoryFilter(home.id))
        assert [c.id for c in level.items] == [bath.id] and level.total == 2
        assert uow.categories.list(Window(10), CategoryFilter(99999)).total == 0
        assert uow.categories.list(Window(10)).total == 5


def recount(make_uow: MakeUow, include_descendants: bool) -> dict[int, CategoryStats]:
    """The statistics summed from the products as listed, not from anything kept."""
    with make_uow() as uow:
        tree = {c.id: c.parent_id for c in uow.categories.list(Window(100)).items}
        listed = uow.products.list(ProductFilter(include_inactive=True), Window(100)).items
    result = {}
    for root in tree:
        members = {root}
        while include_descendants and (more := {c for c, p in tree.items() if p in members} - members):
            members |= more
        on_sale = [p for p in listed if p.is_active and p.category_id in members]
        prices = [p.price for p in on_sale]
        result[root] = CategoryStats(
            active_products=len(on_sale),
            price_total=money(sum(prices, Decimal(0))),
            min_price=min(prices, default=None),
            max_price=max(prices, default=None),
            units_in_stock=sum(p.stock_quantity for p in on_sale),
            stock_value=money(sum((p.price * p.stock_quantity for p in on_sale), Decimal(0))),
            low_stock=sum(
                1
                for p in on_sale
                if p.low_stock_threshold is not None and p.stock_quantity <= p.low_stock_threshold
            ),
        )
    return result


def kept(make_uow: MakeUow, include_descendants: bool) -> dict[int, CategoryStats]:
    with make_uow() as uow:
        ids = [c.id for c in uow.categories.list(Window(100)).items]
        return uow.categories.stats(ids, include_descendants)


def test_kept_statistics_equal_a_recount_after_a_mixed_sequence(make_uow: MakeUow) -> None:
    clock = FixedClock()
    boss = add_user(make_uow, "boss@shop.test", is_admin=True)
    ann = add_user(make_uow, "ann@shop.test")
    home = add_category(make_uow, "Home")
    garden = add_category(make_uow, "Garden", home.id)
    tools = add_category(make_uow, "Tools", garden.id)
    spare = add_category(make_uow, "Spare")

    def product(sku: str, price: str, stock: int, category: int | None, threshold: int | None = None):
        cmd = CreateProduct(f"Item {sku}", sku, Decimal(price), None, stock, category, threshold)
        return create_product(cmd, uow=make_uow(), actor=boss, clock=clock)

    def patch(product_id: int, **changes) -> None:
        update_product(product_id, ProductPatch(**changes), uow=make_uow(), actor=boss, clock=clock)

    a = product("A", "10.00", 5, garden.id, threshold=2)
    b = product("B", "3.33", 7, tools.id)
    c = product("C", "99999999.99", 2_000_000, tools.id, threshold=1)  # a stock value past 10^14
    d = product("D", "0.01", 0, home.id, threshold=0)
    e = product("E", "1.50", 4, None)
    f = product("F", "7.77", 3, spare.id)
    assert kept(make_uow, False) == recount(make_uow, False)
    assert kept(make_uow, True) == recount(make_uow, True)

    patch(a.id, price=Decimal("12.35"))
    patch(b.id, stock_quantity=9, stock_reason="counted")
    patch(b.id, low_stock_threshold=9)
    patch(d.id, category_id=tools.id)
    patch(e.id, category_id=spare.id)
    adjust_stock(a.id, -2, "broken", uow=make_uow(), actor=boss, clock=clock)
    order = place_order(
        PlaceOrder((OrderItem(a.id, 1), OrderItem(b.id, 4), OrderItem(c.id, 3))),
        uow=make_uow(),
        actor=ann,
        clock=clock,
    )
    second = place_order(PlaceOrder((OrderItem(f.id, 3),)), uow=make_uow(), actor=ann, clock=clock)
    change_order_status(order.id, OrderStatus.CONFIRMED, uow=make_uow(), actor=boss, clock=clock)
    cancel_order(second.id, uow=make_uow(), actor=ann, clock=clock)
    delete_product(c.id, uow=make_uow(), actor=boss, clock=clock)
    patch(c.id, is_active=True, price=Decimal("1.00"))
    patch(f.id, is_active=False)
    patch(a.id, category_id=None)
    update_category(tools.id, CategoryPatch(parent_id=spare.id), uow=make_uow(), actor=boss, clock=clock)
    delete_category(garden.id, uow=make_uow(), actor=boss)

    for include_descendants in (False, True):
        expected = recount(make_uow, include_descendants)
        assert kept(make_uow, include_descendants) == expected
    subtree = kept(make_uow, True)[spare.id]
    assert (subtree.active_products, subtree.units_in_stock) == (4, 2_000_000 - 3 + 5 + 0 + 4)
    assert kept(make_uow, False)[home.id] == CategoryStats()
    with make_uow() as uow:
        assert uow.categories.stats([], True) == {} and uow.categories.stats([99999], False) == {}


def test_sku_filter_is_exact_and_case_insensitive(make_uow: MakeUow) -> None:
    boss = add_user(make_uow, "boss@shop.test", is_admin=True)
    for sku in ("ab-1", "AB-12", "xab-1"):
        create_product(CreateProduct(sku, sku, Decimal("1")), uow=make_uow(), actor=boss, clock=FixedClock())
    with make_uow() as uow:
        found = uow.products.list(ProductFilter(sku=" aB-1 "), Window(10))
        assert [p.sku for p in found.items] == ["AB-1"] and found.total == 1
        assert uow.products.list(ProductFilter(sku="ab-1", min_price=Decimal(2)), Window(10)).total == 0
