"""What a refused request reads, use case by use case: the error's type, the kind and id it names, and its
sentence (the problem's `detail`), and that nothing changed. Also the refusals that only a race produces
(a row changed or a key taken between the check and the write), through a repository that loses the race."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from application.categories import (
    CategoryPatch,
    CreateCategory,
    create_category,
    get_category,
    update_category,
)
from application.errors import (
    Conflict,
    InvalidCursor,
    NotFound,
    OffsetTooDeep,
    PreconditionFailed,
    UnknownReference,
)
from application.events import read_events
from application.lists import MAX_OFFSET, EventFilter, Window
from application.orders import change_order_status, get_order
from application.ports import DuplicateKey, StaleVersion
from application.products import CreateProduct, ProductPatch, create_product, get_product, update_product
from application.users import get_user
from application.webhooks import WebhookPatch, get_webhook, retry_delivery, update_webhook
from domain.orders import OrderStatus
from tests.doubles.memory import InMemoryUnitOfWork
from tests.doubles.races import lose_the_race
from tests.doubles.sender import RecordingSender
from tests.unit.conftest import World, dump

SENDER = RecordingSender()


@pytest.mark.parametrize(
    ("kind", "lookup"),
    [
        ("product", lambda w: get_product(999, uow=w.uow)),
        ("category", lambda w: get_category(999, uow=w.uow)),
        ("order", lambda w: get_order(999, uow=w.uow, actor=w.admin)),
        ("user", lambda w: get_user(999, uow=w.uow, actor=w.admin)),
        ("webhook", lambda w: get_webhook(999, uow=w.uow, actor=w.admin)),
        (
            "delivery",
            lambda w: retry_delivery(w.record("webhook"), 999, uow=w.uow, actor=w.admin, clock=w.clock),
        ),
    ],
)
def test_a_missing_record_is_named_by_kind_and_id(
    world: World, kind: str, lookup: Callable[[World], Any]
) -> None:
    with pytest.raises(NotFound) as missing:
        lookup(world)
    assert (missing.value.kind, missing.value.entity_id, str(missing.value)) == (
        kind,
        999,
        f"{kind} 999 was not found",
    )


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        (
            "category",
            lambda w: create_product(
                CreateProduct("X", "X-1", Decimal(1), None, 0, 999), uow=w.uow, actor=w.admin, clock=w.clock
            ),
        ),
        (
            "category",
            lambda w: update_product(
                w.product().id, ProductPatch(category_id=999), uow=w.uow, actor=w.admin, clock=w.clock
            ),
        ),
        (
            "parent category",
            lambda w: create_category(
                CreateCategory("X", None, 999), uow=w.uow, actor=w.admin, clock=w.clock
            ),
        ),
        (
            "parent category",
            lambda w: update_category(
                w.category(), CategoryPatch(parent_id=999), uow=w.uow, actor=w.admin, clock=w.clock
            ),
        ),
    ],
)
def test_an_unknown_reference_names_what_the_body_pointed_at(
    world: World, kind: str, change: Callable
) -> None:
    with pytest.raises(UnknownReference) as unknown:
        change(world)
    assert (unknown.value.kind, unknown.value.entity_id, str(unknown.value)) == (
        kind,
        999,
        f"{kind} 999 does not exist",
    )


def test_a_taken_name_sku_or_email_is_named(world: World) -> None:
    world.category("Books")
    world.product("SKU-1")
    world.customer("ann@shop.test")
    cid = world.category("Music")
    before = dump(world.uow.store)
    refusals = {
        "a category named 'books' already exists": lambda: world.category("books"),
        "a category named 'BOOKS' already exists": lambda: update_category(
            cid, CategoryPatch(name="BOOKS"), uow=world.uow, actor=world.admin, clock=world.clock
        ),
        "a product with SKU SKU-1 already exists": lambda: world.product("sku-1"),
        "the email ann@shop.test is already registered": lambda: world.customer("Ann@Shop.test"),
    }
    for detail, refused in refusals.items():
        with pytest.raises(Conflict) as conflict:
            refused()
        assert str(conflict.value) == detail
    assert dump(world.uow.store) == before
    # Renaming to the same name (in another case) or keeping one's SKU is no conflict.
    update_category(cid, CategoryPatch(name="MUSIC"), uow=world.uow, actor=world.admin, clock=world.clock)
    assert world.uow.store.tables.categories[cid].name == "MUSIC"


@pytest.mark.parametrize(
    ("kind", "race"),
    [
        (
            "product",
            lambda w, uow: (
                w.product().id,
                lambda i: update_product(i, ProductPatch(name="N"), uow=uow, actor=w.admin, clock=w.clock),
                uow.products,
            ),
        ),
        (
            "order",
            lambda w, uow: (
                w.record("order"),
                lambda i: change_order_status(
                    i, OrderStatus.CONFIRMED, uow=uow, actor=w.admin, clock=w.clock
                ),
                uow.orders,
            ),
        ),
        (
            "webhook",
            lambda w, uow: (
                w.record("webhook"),
                lambda i: update_webhook(
                    i,
                    WebhookPatch(enabled=False),
                    uow=uow,
                    actor=w.admin,
                    clock=w.clock,
                    sender=SENDER,
                ),
                uow.webhooks,
            ),
        ),
    ],
)
def test_a_row_changed_meanwhile_is_a_412_naming_the_version_now_stored(
    world: World, kind: str, race: Callable
) -> None:
    uow = InMemoryUnitOfWork(world.uow.store)
    record_id, change, repository = race(world, uow)
    lose_the_race(repository, "save", StaleVersion(5))
    before = dump(world.uow.store)
    with pytest.raises(PreconditionFailed) as stale:
        change(record_id)
    assert stale.value.current_version == 5
    assert str(stale.value) == (
        f"{kind} {record_id} has changed (now at version 5); fetch it again and retry with the new ETag"
    )
    assert dump(world.uow.store) == before


def test_an_if_match_that_does_not_match_names_the_current_version(world: World) -> None:
    p = world.product("P-1")
    order_id = world.record("order")
    before = dump(world.uow.store)
    with pytest.raises(PreconditionFailed) as stale:
        update_product(p.id, ProductPatch(name="N"), 7, uow=world.uow, actor=world.admin, clock=world.clock)
    assert stale.value.current_version == 1
    assert str(stale.value).startswith(f"product {p.id} has changed (now at version 1);")
    with pytest.raises(PreconditionFailed) as stale_order:
        change_order_status(
            order_id, OrderStatus.CONFIRMED, 4, uow=world.uow, actor=world.admin, clock=world.clock
        )
    assert stale_order.value.current_version == 1
    assert str(stale_order.value).startswith(f"order {order_id} has changed (now at version 1);")
    assert dump(world.uow.store) == before


def test_a_key_taken_between_check_and_write_is_a_conflict_naming_it(world: World) -> None:
    uow = InMemoryUnitOfWork(world.uow.store)
    lose_the_race(uow.products, "add", DuplicateKey())
    with pytest.raises(Conflict, match="^a product with SKU NEW-1 already exists$"):
        create_product(
            CreateProduct("New", "new-1", Decimal(1)), uow=uow, actor=world.admin, clock=world.clock
        )
    lose_the_race(uow.categories, "add", DuplicateKey())
    with pytest.raises(Conflict, match="^a category named 'Tools' already exists$"):
        create_category(CreateCategory("Tools"), uow=uow, actor=world.admin, clock=world.clock)


def test_bad_cursors_say_what_to_do(world: World) -> None:
    with pytest.raises(InvalidCursor, match=r"^starting_after: event 999 does not exist \(or was purged\)$"):
        read_events(EventFilter(), 999, 10, uow=world.uow, actor=world.admin)
    with pytest.raises(InvalidCursor, match="^send either offset or cursor, not both$"):
        Window(offset=1, after=(1,))
    Window(offset=MAX_OFFSET)
    with pytest.raises(OffsetTooDeep) as deep:
        Window(offset=MAX_OFFSET + 1)
    assert str(deep.value).startswith(f"offset may be at most {MAX_OFFSET};")
