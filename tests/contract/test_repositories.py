"""One contract for every implementation of the repository ports: what goes in comes out, and the
storage enforces uniqueness, versions, atomic stock and SET NULL the same way."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from application.lists import OrderFilter, ProductFilter, ProductSort, UserFilter, Window
from application.orders import OrderItem, PlaceOrder, cancel_order, change_order_status, place_order
from application.ports import DuplicateKey, IdempotencyRecord, StaleVersion
from application.products import adjust_stock
from domain.catalog import MAX_ADJUSTMENT, MAX_STOCK, Category, Product
from domain.errors import InsufficientStock
from domain.orders import OrderStatus
from domain.patch import UNSET, Unset
from domain.stock import MovementKind, StockMovement
from domain.users import User, normalize_email
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_category, add_order, add_product, add_user, stock_of
from tests.doubles.clock import FixedClock


def test_user_round_trip_and_lookup(make_uow: MakeUow) -> None:
    user = add_user(make_uow, "Ann@Shop.test", is_admin=True)
    with make_uow() as uow:
        loaded = uow.users.get(user.id)
        by_email = uow.users.get_by_email("ANN@shop.test")
        missing = uow.users.get(99999)
    assert loaded is not None and by_email is not None and missing is None
    assert (loaded.id, loaded.email, loaded.name, loaded.is_admin, loaded.is_active) == (
        user.id,
        "ann@shop.test",
        "Ann",
        True,
        True,
    )
    assert loaded.created_at == T0 and loaded.created_at.tzinfo is not None
    assert by_email.id == user.id


def test_duplicate_email_is_refused(make_uow: MakeUow) -> None:
    add_user(make_uow, "ann@shop.test")
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.users.add(User.create(email="ANN@shop.test", name="Other", password_hash="h", at=T0))
    with make_uow() as uow:
        assert uow.users.list(UserFilter(), Window(10, 0)).total == 1


def test_user_list_filters_and_pages(make_uow: MakeUow) -> None:
    add_user(make_uow, "ann@shop.test")
    add_user(make_uow, "bob@example.org", is_active=False)
    add_user(make_uow, "c_d%@shop.test")
    with make_uow() as uow:
        assert [u.email for u in uow.users.list(UserFilter(q="EXAMPLE"), Window(10, 0)).items] == [
            "bob@example.org"
        ]
        assert [u.email for u in uow.users.list(UserFilter(q="_d%"), Window(10, 0)).items] == [
            "c_d%@shop.test"
        ]
        assert uow.users.list(UserFilter(is_active=True), Window(10, 0)).total == 2
        page = uow.users.list(UserFilter(), Window(1, 1))
    assert (page.total, [u.email for u in page.items]) == (3, ["bob@example.org"])


def test_user_save(make_uow: MakeUow) -> None:
    user = add_user(make_uow)
    add_user(make_uow, "bob@shop.test")
    user.name, user.is_active = "Anne", False
    with make_uow() as uow:
        uow.users.save(user)
        uow.commit()
    with make_uow() as uow:
        assert (uow.users.get(user.id).name, uow.users.get(user.id).is_active) == ("Anne", False)
    user.email = "bob@shop.test"
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.users.save(user)


@pytest.mark.parametrize(
    ("first", "second"), [("Änn@shop.test", "äNN@SHOP.TEST"), ("ＡＮＮ@shop.test", "ann@shop.test")]
)
def test_emails_are_one_account_in_any_case_everywhere(make_uow: MakeUow, first: str, second: str) -> None:
    add_user(make_uow, first)
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.users.add(User.create(email=second, name="Ann", password_hash="hash", at=T0))
    with make_uow() as uow:
        assert uow.users.get_by_email(normalize_email(second)) is not None


def test_a_users_credentials_version_is_stored(make_uow: MakeUow) -> None:
    user = add_user(make_uow)
    user.revoke_tokens(T0 + timedelta(minutes=1))
    with make_uow() as uow:
        uow.users.save(user)
        uow.commit()
    with make_uow() as uow:
        assert uow.users.get(user.id).credentials_version == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ärger", "äRGER"), ("Straße", "STRASSE"), ("Ｂｏｏｋｓ", "books"), ("Σίσυφος", "ΣΊΣΥΦΟΣ")],
    ids=["umlaut", "sharp-s", "full-width", "final-sigma"],
)
def test_category_names_fold_unicode_case_alike_everywhere(
    make_uow: MakeUow, first: str, second: str
) -> None:
    """SQLite's lower() folds ASCII only: without the stored key these were two names there, one on
    PostgreSQL."""
    add_category(make_uow, first)
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.categories.add(Category.create(name=second, description=None, parent_id=None, at=T0))
    with make_uow() as uow:
        assert uow.categories.get_by_name(second).name == first


def test_category_names_are_unique_in_any_case_and_listed_by_name(make_uow: MakeUow) -> None:
    add_category(make_uow, "Books")
    add_category(make_uow, "Art")
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.categories.add(Category.create(name="BOOKS", description=None, parent_id=None, at=T0))
    with make_uow() as uow:
        assert uow.categories.get_by_name("bOoKs").name == "Books"
        assert [c.name for c in uow.categories.list(Window(10, 0)).items] == ["Art", "Books"]


def test_deleting_a_category_detaches_products_and_children(make_uow: MakeUow) -> None:
    parent = add_category(make_uow, "Parent")
    child = add_category(make_uow, "Child", parent.id)
    product = add_product(make_uow, "P-1", category_id=parent.id)
    add_product(make_uow, "P-2", category_id=parent.id, is_active=False)
    with make_uow() as uow:
        assert uow.categories.count_active_products([parent.id, child.id]) == {parent.id: 1}
        uow.categories.delete(parent.id)
        uow.commit()
    with make_uow() as uow:
        assert uow.categories.get(parent.id) is None
        assert uow.categories.get(child.id).parent_id is None
        assert uow.products.get(product.id).category_id is None


def test_product_round_trip_keeps_exact_money(make_uow: MakeUow) -> None:
    product = add_product(make_uow, "ab-1", price="149.97", description="desc")
    with make_uow() as uow:
        loaded = uow.products.get(product.id)
        assert uow.products.get_by_sku("AB-1").id == product.id
        assert set(uow.products.get_many([product.id, 99999])) == {product.id}
    assert (loaded.sku, loaded.price, str(loaded.price), loaded.version, loaded.description) == (
        "AB-1",
        Decimal("149.97"),
        "149.97",
        1,
        "desc",
    )


def test_duplicate_sku_is_refused(make_uow: MakeUow) -> None:
    add_product(make_uow, "AB-1")
    with pytest.raises(DuplicateKey), make_uow() as uow:
        uow.products.add(Product.create(name="x", sku="ab-1", price=Decimal(1), at=T0))


def test_product_list_filters_and_sorts(make_uow: MakeUow) -> None:
    books = add_category(make_uow, "Books")
    add_product(make_uow, "B-1", "5.00", 0, category_id=books.id, name="Beta", at=T0 + timedelta(seconds=2))
    add_product(
        make_uow, "B-2", "1.00", 3, category_id=books.id, name="alpha 100%", at=T0 + timedelta(seconds=1)
    )
    add_product(make_uow, "O-1", "9.00", 3, name="Gamma")
    add_product(make_uow, "X-1", "2.00", 3, name="Hidden", is_active=False)

    def skus(limit: int = 10, **kw) -> list[str]:
        with make_uow() as uow:
            return [p.sku for p in uow.products.list(ProductFilter(**kw), Window(limit, 0)).items]

    assert skus() == ["B-1", "B-2", "O-1"]
    assert skus(include_inactive=True) == ["B-1", "B-2", "O-1", "X-1"]
    assert skus(category_id=books.id, sort=ProductSort.PRICE) == ["B-2", "B-1"]
    assert skus(sort=ProductSort.PRICE_DESC) == ["O-1", "B-1", "B-2"]
    assert skus(sort=ProductSort.CREATED_AT) == ["O-1", "B-2", "B-1"]
    assert skus(sort=ProductSort.CREATED_AT_DESC) == ["B-1", "B-2", "O-1"]
    assert skus(min_price=Decimal("2"), max_price=Decimal("6")) == ["B-1"]
    assert skus(in_stock=True) == ["B-2", "O-1"] and skus(in_stock=False) == ["B-1"]
    assert skus(q="100%") == ["B-2"] and skus(q="o-1") == ["O-1"] and skus(q="%") == ["B-2"]
    with make_uow() as uow:
        page = uow.products.list(ProductFilter(), Window(1, 1))
    assert (page.total, [p.sku for p in page.items]) == (3, ["B-2"])


def test_product_save_checks_the_version(make_uow: MakeUow) -> None:
    product = add_product(make_uow, "P-1")
    product.update(at=T0, actor_id=None, name="New name")
    with make_uow() as uow:
        uow.products.save(product)
        uow.commit()
    product.update(at=T0, actor_id=None, name="Newer name")
    product.version = 2  # pretend we loaded version 1 again
    with pytest.raises(StaleVersion) as raised, make_uow() as uow:
        uow.products.save(product)
    assert raised.value.current_version == 2
    with make_uow() as uow:
        assert uow.products.get(product.id).name == "New name"


def version_of(make_uow: MakeUow, product: Product) -> int:
    with make_uow() as uow:
        return uow.products.get(product.id).version


def moved(product_id: int, delta: int, quantity: int) -> StockMovement:
    return StockMovement(product_id, delta, quantity, MovementKind.ADJUSTMENT, T0, reason="recount")


def test_move_stock_applies_every_change_with_its_version_bump(make_uow: MakeUow) -> None:
    a, b = add_product(make_uow, "A", stock=5), add_product(make_uow, "B", stock=1)
    with make_uow() as uow:
        uow.products.move_stock([moved(a.id, -2, 3), moved(b.id, -1, 0)])
        uow.commit()
    assert [(stock_of(make_uow, p), version_of(make_uow, p)) for p in (a, b)] == [(3, 2), (0, 2)]
    with make_uow() as uow:
        uow.products.move_stock([moved(a.id, 2, 5)])
        uow.commit()
    assert (stock_of(make_uow, a), version_of(make_uow, a)) == (5, 3)


def test_move_stock_below_zero_is_refused_whole(make_uow: MakeUow) -> None:
    """The storage's safety net: nothing moves, and the error names the product that lacked units."""
    a, b = add_product(make_uow, "A", stock=5), add_product(make_uow, "B", stock=1)
    with pytest.raises(InsufficientStock) as raised, make_uow() as uow:
        uow.products.move_stock([moved(a.id, -1, 4), moved(b.id, -2, 0)])
        uow.commit()
    assert (raised.value.product_id, raised.value.requested, raised.value.available) == (b.id, 2, 1)
    assert [(stock_of(make_uow, p), version_of(make_uow, p)) for p in (a, b)] == [(5, 1), (1, 1)]


def test_orders_and_cancels_move_stock_and_versions_alike_everywhere(make_uow: MakeUow) -> None:
    """The use cases over each storage: what a REST consumer sees of a product after orders and cancels."""
    clock = FixedClock(T0)
    admin, buyer = add_user(make_uow, "admin@shop.test", is_admin=True), add_user(make_uow)
    a, b = add_product(make_uow, "A", stock=5), add_product(make_uow, "B", stock=2)
    order = place_order(
        PlaceOrder((OrderItem(a.id, 3), OrderItem(b.id, 2))), uow=make_uow(), actor=buyer, clock=clock
    )
    assert [(stock_of(make_uow, p), version_of(make_uow, p)) for p in (a, b)] == [(2, 2), (0, 2)]
    with pytest.raises(InsufficientStock):
        place_order(PlaceOrder((OrderItem(b.id, 1),)), uow=make_uow(), actor=buyer, clock=clock)
    cancel_order(order.id, uow=make_uow(), actor=buyer, clock=clock)
    assert [(stock_of(make_uow, p), version_of(make_uow, p)) for p in (a, b)] == [(5, 3), (2, 3)]
    again = place_order(PlaceOrder((OrderItem(a.id, 4),)), uow=make_uow(), actor=buyer, clock=clock)
    adjust_stock(a.id, MAX_ADJUSTMENT, "delivery", uow=make_uow(), actor=admin, clock=clock)
    adjust_stock(a.id, MAX_ADJUSTMENT, "delivery", uow=make_uow(), actor=admin, clock=clock)
    adjust_stock(
        a.id, MAX_STOCK - 2 * MAX_ADJUSTMENT - 1 - 1, "delivery", uow=make_uow(), actor=admin, clock=clock
    )
    change_order_status(again.id, OrderStatus.CANCELLED, uow=make_uow(), actor=admin, clock=clock)
    assert (stock_of(make_uow, a), version_of(make_uow, a)) == (MAX_STOCK, 8)  # capped, not refused


def test_order_round_trip_with_lines_and_events(make_uow: MakeUow) -> None:
    buyer = add_user(make_uow)
    a, b = add_product(make_uow, "A", "49.99"), add_product(make_uow, "B", "0.10")
    order = add_order(make_uow, buyer, (a, 3), (b, 1))
    assert (
        order.id is not None
        and all(line.id is not None for line in order.lines)
        and order.new_status_changes == []
    )
    with make_uow() as uow:
        loaded = uow.orders.get(order.id)
        history = uow.orders.status_history(order.id)
        assert uow.orders.get(99999) is None
    assert (loaded.order_number, loaded.user_id, loaded.status, loaded.total_amount, loaded.version) == (
        order.order_number,
        buyer.id,
        OrderStatus.PENDING,
        Decimal("150.07"),
        1,
    )
    assert [ln.id for ln in loaded.lines] == [ln.id for ln in order.lines]  # ids handed back, in line order
    assert [
        (ln.product_id, ln.product_name, ln.quantity, ln.unit_price, ln.line_total) for ln in loaded.lines
    ] == [
        (a.id, "Item A", 3, Decimal("49.99"), Decimal("149.97")),
        (b.id, "Item B", 1, Decimal("0.10"), Decimal("0.10")),
    ]
    assert [(c.from_status, c.to_status, c.actor_id, c.at) for c in history] == [
        (None, OrderStatus.PENDING, buyer.id, T0)
    ]


def test_order_save_records_status_changes_and_checks_the_version(make_uow: MakeUow) -> None:
    buyer = add_user(make_uow)
    order = add_order(make_uow, buyer, (add_product(make_uow, "A"), 1))
    with make_uow() as uow:
        loaded = uow.orders.get(order.id, for_update=True)
        loaded.change_status(OrderStatus.CONFIRMED, actor_id=buyer.id, at=T0 + timedelta(minutes=1))
        uow.orders.save(loaded)
        uow.commit()
    order.change_status(OrderStatus.CONFIRMED, actor_id=buyer.id, at=T0)  # from the stale copy
    with pytest.raises(StaleVersion), make_uow() as uow:
        uow.orders.save(order)
    with make_uow() as uow:
        assert uow.orders.get(order.id).status is OrderStatus.CONFIRMED
        assert [c.to_status for c in uow.orders.status_history(order.id)] == [
            OrderStatus.PENDING,
            OrderStatus.CONFIRMED,
        ]


def test_order_list_newest_first_with_filters(make_uow: MakeUow) -> None:
    ann, bob = add_user(make_uow), add_user(make_uow, "bob@shop.test")
    product = add_product(make_uow, "A", stock=100)
    first = add_order(make_uow, ann, (product, 1), at=T0)
    second = add_order(make_uow, bob, (product, 2), at=T0 + timedelta(hours=1))
    third = add_order(make_uow, ann, (product, 3), at=T0 + timedelta(hours=2))

    def ids(**kw) -> list[int]:
        with make_uow() as uow:
            return [o.id for o in uow.orders.list(OrderFilter(**kw), Window(10, 0)).items]

    assert ids() == [third.id, second.id, first.id]
    assert ids(user_id=ann.id) == [third.id, first.id]
    assert ids(status=OrderStatus.PENDING) == [third.id, second.id, first.id]
    assert ids(status=OrderStatus.SHIPPED) == []
    assert ids(created_from=T0 + timedelta(hours=1)) == [third.id, second.id]
    assert ids(created_to=T0 + timedelta(hours=1)) == [second.id, first.id]
    with make_uow() as uow:
        page = uow.orders.list(OrderFilter(), Window(2, 1))
    assert page.total == 3 and [(o.id, o.lines[0].quantity) for o in page.items] == [
        (second.id, 2),
        (first.id, 1),
    ]


def test_order_stats(make_uow: MakeUow) -> None:
    buyer = add_user(make_uow)
    product = add_product(make_uow, "A", "10.00", stock=100)
    add_order(make_uow, buyer, (product, 1))
    cancelled = add_order(make_uow, buyer, (product, 2), at=T0 + timedelta(seconds=1))
    with make_uow() as uow:
        loaded = uow.orders.get(cancelled.id)
        loaded.cancel(uow.products.get_many([product.id]), by=buyer, at=T0)
        uow.orders.save(loaded)
        stats = uow.orders.stats()
    assert (stats.total_orders, stats.total_revenue) == (2, Decimal("10.00"))
    assert stats.orders_by_status == {s: {"pending": 1, "cancelled": 1}.get(s.value, 0) for s in OrderStatus}


def test_idempotency_records(make_uow: MakeUow) -> None:
    buyer = add_user(make_uow)
    order = add_order(make_uow, buyer, (add_product(make_uow, "A"), 1))
    record = IdempotencyRecord(buyer.id, "key-1", "f" * 64, T0)
    with make_uow() as uow:
        assert uow.idempotency.claim(record) is None
        uow.commit()
    with make_uow() as uow:
        existing = uow.idempotency.claim(IdempotencyRecord(buyer.id, "key-1", "other", T0))
        assert (existing.fingerprint, existing.order_id, existing.created_at) == ("f" * 64, None, T0)
        uow.idempotency.complete(buyer.id, "key-1", order.id)
        uow.commit()
    with make_uow() as uow:
        assert uow.idempotency.claim(record).order_id == order.id
        assert uow.idempotency.purge(T0) == 0
        assert uow.idempotency.purge(T0 + timedelta(seconds=1)) == 1
        uow.commit()
    with make_uow() as uow:
        assert uow.idempotency.claim(record) is None
        uow.idempotency.release(buyer.id, "key-1")
        assert uow.idempotency.claim(record) is None


def test_nested_with_blocks_share_the_outer_transaction(make_uow: MakeUow) -> None:
    uow = make_uow()
    user = User("nested@shop.test", "N", "hash", T0, T0)
    with uow:
        with uow:
            uow.users.add(user)
        assert uow.users.get(user.id) is not None  # the inner exit ended nothing
    with make_uow() as fresh:
        assert fresh.users.get(user.id) is None  # the outer exit discarded it: never committed
    with uow, uow:
        uow.users.add(user)
        uow.commit()
    with make_uow() as fresh:
        assert fresh.users.get(user.id) is not None


def test_the_list_total_follows_every_change_of_activity_and_category(make_uow: MakeUow) -> None:
    """The SQL adapters read this total from a table the database keeps (triggers); it must never drift."""
    a, b = add_category(make_uow, "A"), add_category(make_uow, "B")
    a1, _ = add_product(make_uow, "A-1", category_id=a.id), add_product(make_uow, "A-2", category_id=a.id)
    b1 = add_product(make_uow, "B-1", category_id=b.id)
    hidden = add_product(make_uow, "A-X", category_id=a.id, is_active=False)
    add_product(make_uow, "N-1")  # no category: counted in the whole list only

    def totals() -> tuple[int, int, int]:
        with make_uow() as uow:
            return tuple(  # type: ignore[return-value]
                uow.products.list(ProductFilter(category_id=c), Window(1, 0)).total
                for c in (a.id, b.id, None)
            )

    def change(
        product: Product, is_active: bool | Unset = UNSET, category_id: int | None | Unset = UNSET
    ) -> None:
        with make_uow() as uow:
            stored = uow.products.get(product.id)
            stored.update(at=T0, actor_id=None, is_active=is_active, category_id=category_id)
            uow.products.save(stored)
            uow.commit()

    assert totals() == (2, 1, 4)
    change(a1, is_active=False)
    assert totals() == (1, 1, 3)
    change(b1, category_id=a.id)
    assert totals() == (2, 0, 3)
    change(hidden, is_active=True, category_id=b.id)
    assert totals() == (2, 1, 4)
    with make_uow() as uow:
        uow.products.move_stock([moved(b1.id, -1, 9)])  # stock moves leave the totals alone
        uow.commit()
    assert totals() == (2, 1, 4)
    with make_uow() as uow:
        uow.categories.delete(a.id)  # its products stay, without a category
        uow.commit()
    assert totals() == (0, 1, 4)


class TestThrottleWindows:
    KEY = "login-account:abc"
    WINDOW = timedelta(minutes=15)

    def hit(self, make_uow: MakeUow, at: datetime, key: str = KEY) -> tuple[int, datetime]:
        with make_uow() as uow:
            attempts = uow.throttle.hit(key, at, self.WINDOW)
            uow.commit()
        return attempts.count, attempts.window_ends

    def test_attempts_count_up_within_a_window_and_start_again_after_it(self, make_uow: MakeUow) -> None:
        assert self.hit(make_uow, T0) == (1, T0 + self.WINDOW)
        assert self.hit(make_uow, T0 + timedelta(minutes=14)) == (2, T0 + self.WINDOW)
        assert self.hit(make_uow, T0, key="other") == (1, T0 + self.WINDOW)
        later = T0 + self.WINDOW
        assert self.hit(make_uow, later) == (1, later + self.WINDOW)

    def test_forgive_takes_one_back_and_clear_starts_afresh(self, make_uow: MakeUow) -> None:
        for _ in range(3):
            self.hit(make_uow, T0)
        with make_uow() as uow:
            uow.throttle.forgive(self.KEY)
            uow.commit()
        assert self.hit(make_uow, T0)[0] == 3
        with make_uow() as uow:
            uow.throttle.clear(self.KEY)
            uow.commit()
        assert self.hit(make_uow, T0)[0] == 1

    def test_an_uncommitted_hit_is_not_kept(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.throttle.hit(self.KEY, T0, self.WINDOW)
        assert self.hit(make_uow, T0)[0] == 1

    def test_a_mark_is_remembered_until_it_ends_and_a_later_one_replaces_it(self, make_uow: MakeUow) -> None:
        def remembers(at: datetime) -> bool:
            with make_uow() as uow:
                return uow.throttle.remembers(self.KEY, at)

        assert not remembers(T0)
        with make_uow() as uow:
            uow.throttle.remember(self.KEY, T0 + self.WINDOW)
            uow.commit()
        assert remembers(T0) and remembers(T0 + self.WINDOW - timedelta(seconds=1))
        assert not remembers(T0 + self.WINDOW)
        with make_uow() as uow:
            uow.throttle.remember(self.KEY, T0 + 2 * self.WINDOW)
            uow.commit()
        assert remembers(T0 + self.WINDOW)
        with make_uow() as uow:
            assert uow.throttle.purge(T0 + 2 * self.WINDOW) == 1
            uow.commit()
        assert not remembers(T0)

    def test_an_uncommitted_mark_is_not_kept(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.throttle.remember(self.KEY, T0 + self.WINDOW)
        with make_uow() as uow:
            assert not uow.throttle.remembers(self.KEY, T0)

    def test_purge_deletes_ended_windows_only(self, make_uow: MakeUow) -> None:
        self.hit(make_uow, T0, key="old")
        self.hit(make_uow, T0 + timedelta(minutes=10), key="new")
        with make_uow() as uow:
            assert uow.throttle.purge(T0 + self.WINDOW) == 1
            uow.commit()
        assert self.hit(make_uow, T0 + self.WINDOW, key="new")[0] == 2
