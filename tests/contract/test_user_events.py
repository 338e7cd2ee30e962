"""User status events over every storage: stored with the change, numbered per user, the account as the
API shows it (anonymised once erased), offered to the webhooks that want them, and never for a change
rolled back. The locking reads the status changes use return what the plain ones do."""

from datetime import timedelta

from application.events import read_events
from application.lists import EventFilter, Window
from application.users import Deactivation, deactivate_customers, deactivate_user, erase_user
from domain.events import EventType, ResourceType
from domain.users import ERASED_NAME
from domain.webhooks import Webhook
from entrypoints.api.schemas import UserRead
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_user
from tests.doubles.clock import FixedClock


def user_feed(make_uow: MakeUow, admin, **filters):  # type: ignore[no-untyped-def]
    f = EventFilter(resource_type=ResourceType.USER, **filters)
    return read_events(f, None, 100, uow=make_uow(), actor=admin).items


def stored(make_uow: MakeUow, user_id: int):  # type: ignore[no-untyped-def]
    with make_uow() as uow:
        return uow.users.get(user_id)


def test_status_events_are_stored_numbered_per_user_with_the_public_account(make_uow: MakeUow) -> None:
    clock = FixedClock(T0)
    admin = add_user(make_uow, "admin@shop.test", is_admin=True)
    ann, bob = add_user(make_uow, "ann@shop.test"), add_user(make_uow, "bob@shop.test")
    assert (
        deactivate_customers(
            Deactivation(ids=(ann.id, bob.id, admin.id)), uow=make_uow(), actor=admin, clock=clock
        )
        == 2
    )  # type: ignore[arg-type]
    deactivated = {u: stored(make_uow, u.id) for u in (ann, bob)}  # type: ignore[arg-type]
    clock.advance(timedelta(minutes=1))
    with make_uow() as uow:  # as PATCH /users/{id} with is_active=true does
        user = uow.users.get(ann.id, for_update=True)  # type: ignore[arg-type]
        assert user is not None
        user.update(at=clock.now(), is_active=True, actor_id=admin.id)
        uow.users.save(user)
        uow.commit()
    clock.advance(timedelta(minutes=1))
    erased = erase_user(ann.id, uow=make_uow(), actor=admin, clock=clock)  # type: ignore[arg-type]
    events = user_feed(make_uow, admin)
    assert [(e.type, e.resource_id, e.sequence, e.actor_id) for e in events] == [
        (EventType.USER_DEACTIVATED, ann.id, 1, admin.id),
        (EventType.USER_DEACTIVATED, bob.id, 1, admin.id),
        (EventType.USER_REACTIVATED, ann.id, 2, admin.id),
        (EventType.USER_ERASED, ann.id, 3, admin.id),
    ]
    assert [e.created_at for e in events] == [T0, T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert events[0].payload == UserRead.of(deactivated[ann]).model_dump(mode="json")
    assert events[1].payload == UserRead.of(deactivated[bob]).model_dump(mode="json")
    assert events[3].payload == UserRead.of(erased).model_dump(mode="json")
    assert (events[3].payload["name"], events[3].payload["is_active"]) == (ERASED_NAME, False)
    assert user_feed(make_uow, admin, resource_id=bob.id) == [events[1]]
    assert user_feed(make_uow, admin, type=EventType.USER_ERASED) == [events[3]]


def test_no_event_for_a_no_op_or_a_change_rolled_back(make_uow: MakeUow) -> None:
    clock = FixedClock(T0)
    admin = add_user(make_uow, "admin@shop.test", is_admin=True)
    ann = add_user(make_uow, "ann@shop.test", is_active=False)
    deactivate_user(ann.id, uow=make_uow(), actor=admin, clock=clock)  # type: ignore[arg-type]
    bob = add_user(make_uow, "bob@shop.test")
    with make_uow() as uow:  # deactivated, saved, never committed
        user = uow.users.get(bob.id, for_update=True)  # type: ignore[arg-type]
        assert user is not None and user.deactivate(T0, admin.id)
        uow.users.save(user)
    assert user_feed(make_uow, admin) == []
    assert stored(make_uow, bob.id).is_active is True  # type: ignore[arg-type,union-attr]


def test_a_webhook_is_offered_the_user_events_it_wants(make_uow: MakeUow) -> None:
    clock = FixedClock(T0)
    admin = add_user(make_uow, "admin@shop.test", is_admin=True)
    ann = add_user(make_uow, "ann@shop.test")
    hook = Webhook("https://example.com/h", frozenset({EventType.USER_DEACTIVATED}), "whsec_x", T0, T0)
    others = Webhook("https://example.com/o", frozenset({EventType.USER_ERASED}), "whsec_y", T0, T0)
    with make_uow() as uow:
        uow.webhooks.add(hook)
        uow.webhooks.add(others)
        uow.commit()
    deactivate_user(ann.id, uow=make_uow(), actor=admin, clock=clock)  # type: ignore[arg-type]
    with make_uow() as uow:
        assert uow.webhooks.offer_events(T0, 100) == 1
        uow.commit()
    with make_uow() as uow:
        [delivery] = uow.webhooks.deliveries(hook.id, Window()).items  # type: ignore[arg-type]
        assert uow.webhooks.deliveries(others.id, Window()).items == []  # type: ignore[arg-type]
    [event] = user_feed(make_uow, admin)
    assert (delivery.event_id, delivery.event_type) == (event.id, EventType.USER_DEACTIVATED)


def test_locking_reads_return_what_the_plain_ones_do(make_uow: MakeUow) -> None:
    ann = add_user(make_uow, "ann@shop.test")
    bob = add_user(make_uow, "bob@shop.test", last_login_at=T0 + timedelta(days=2))
    add_user(make_uow, "cy@shop.test", is_active=False)
    add_user(make_uow, "admin@shop.test", is_admin=True)
    before = T0 + timedelta(days=1)
    with make_uow() as uow:
        assert uow.users.get(ann.id, for_update=True) == uow.users.get(ann.id)  # type: ignore[arg-type]
        assert uow.users.get(999, for_update=True) is None
        ids = [bob.id, 999, ann.id]
        assert [u.id for u in uow.users.get_many(ids, for_update=True)] == [ann.id, bob.id]  # type: ignore[arg-type]
        locked = uow.users.customers_not_seen_since(before, 10, for_update=True)
        assert (
            [u.id for u in locked]
            == [u.id for u in uow.users.customers_not_seen_since(before, 10)]
            == [ann.id]
        )
