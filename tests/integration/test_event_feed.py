"""The event feed and the delivery claims on real PostgreSQL, with transactions racing: an event that
commits late never lands behind a reader's position, a reader following the feed during concurrent writes
sees every event once, and two workers never claim the same delivery."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from adapters.sql.unit_of_work import sync_unit_of_work
from application.events import read_events
from application.lists import EventFilter
from application.orders import OrderItem, PlaceOrder, place_order
from application.products import ProductPatch, update_product
from domain.events import DomainEvent, EventType
from domain.users import User
from domain.webhooks import Webhook
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.helpers import admin, customer, product

pytestmark = pytest.mark.postgres
clock = FixedClock()


@pytest.fixture
def pg(clean_postgres: str, postgres_engine: Engine) -> Engine:
    return postgres_engine


def feed(engine: Engine, boss: User, after: int | None = None, limit: int = 100) -> list[int]:
    events = read_events(EventFilter(), after, limit, uow=sync_unit_of_work(engine, present), actor=boss)
    return [e.id for e in events.items]


def all_event_ids(engine: Engine) -> list[int]:
    with engine.connect() as c:
        return list(c.execute(text("SELECT id FROM events ORDER BY id")).scalars())


def test_an_event_that_commits_late_is_served_after_the_position_a_reader_reached(pg: Engine) -> None:
    boss = admin(pg)
    early = product(pg, boss, "EARLY-1", 5)
    seen = feed(pg, boss)
    holder = sync_unit_of_work(pg, present)
    with holder:  # draws its event id and transaction first, and commits last
        held = holder.products.get(early.id, for_update=True)
        holder.events.add([DomainEvent(EventType.PRODUCT_UPDATED, held, clock.now(), boss.id)])
        holder.events.flush()  # written now, as the stock statement of an order writes its events
        late = product(pg, boss, "LATE-1", 5)  # commits while the first is still open
        assert max(all_event_ids(pg)) > max(seen)  # the later event is in the table...
        assert feed(pg, boss, seen[-1]) == []  # ...but not served while an older transaction may commit
        holder.commit()
    after = feed(pg, boss, seen[-1])
    held_id, late_id = sorted(set(all_event_ids(pg)) - set(seen))
    assert after == [held_id, late_id]  # the one that drew the lower id, from the older transaction, first
    assert late.id is not None


def test_a_reader_following_the_feed_under_concurrent_writes_sees_every_event_once(pg: Engine) -> None:
    boss = admin(pg)
    buyers = [customer(pg, f"c{i}@shop.test") for i in range(4)]
    items = [product(pg, boss, f"F-{i}", 10_000) for i in range(4)]
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for n in range(25):
                if n % 5 == 4:
                    patch = ProductPatch(name=f"Renamed {i}-{n}")
                    update_product(
                        items[i].id, patch, uow=sync_unit_of_work(pg, present), actor=boss, clock=clock
                    )
                else:
                    cmd = PlaceOrder((OrderItem(items[i].id, 1), OrderItem(items[(i + 1) % 4].id, 1)))
                    place_order(cmd, uow=sync_unit_of_work(pg, present), actor=buyers[i], clock=clock)
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    read: list[int] = []
    writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for w in writers:
        w.start()
    while any(w.is_alive() for w in writers):
        read += feed(pg, boss, read[-1] if read else None, limit=7)
    for w in writers:
        w.join()
    while batch := feed(pg, boss, read[-1] if read else None):
        read += batch
    assert errors == []
    assert len(read) == len(set(read)), "an event was served twice"
    assert sorted(read) == all_event_ids(pg), "an event was skipped"
    assert len(read) == 4 + 4 * 20 + 4 * 5  # created, placed, renamed


def test_two_workers_never_claim_the_same_delivery(pg: Engine) -> None:
    boss = admin(pg)
    hook = Webhook(
        "https://example.com/h", frozenset({EventType.PRODUCT_CREATED}), "whsec_x", clock.now(), clock.now()
    )
    with sync_unit_of_work(pg, present) as uow:
        uow.webhooks.add(hook)
        uow.commit()
    for i in range(6):
        product(pg, boss, f"W-{i}", 1)
    with sync_unit_of_work(pg, present) as uow:
        assert uow.webhooks.offer_events(clock.now(), 100) == 6
        uow.commit()
    first, second = sync_unit_of_work(pg, present), sync_unit_of_work(pg, present)
    lease = timedelta(seconds=60)
    with first:
        mine = first.webhooks.claim_due(clock.now(), lease, 4)  # locked, not yet committed
        with second:
            theirs = second.webhooks.claim_due(clock.now(), lease, 10)  # skips the locked ones at once
            second.commit()
        first.commit()
    assert len(mine) == 4 and len(theirs) == 2
    assert not {d.id for d in mine} & {d.id for d in theirs}
    with sync_unit_of_work(pg, present) as uow:
        assert uow.webhooks.claim_due(clock.now(), lease, 10) == []  # every one is leased
