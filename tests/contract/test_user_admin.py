"""The repository contract of issue 26's user methods: fakes, SQLite and PostgreSQL answer alike."""

from datetime import timedelta

from application.ports import UserStats
from tests.contract.conftest import MakeUow
from tests.contract.helpers import T0, add_order, add_product, add_user


def test_last_login_at_round_trips_and_record_login_writes_only_it(make_uow: MakeUow) -> None:
    user = add_user(make_uow)
    with make_uow() as uow:
        assert uow.users.get(user.id).last_login_at is None
    stale = add_user(make_uow, "bob@shop.test")
    with make_uow() as uow:  # meanwhile, bob was renamed
        fresh = uow.users.get(stale.id)
        fresh.name = "Robert"
        uow.users.save(fresh)
        uow.commit()
    stale.record_login(T0 + timedelta(hours=3))
    with make_uow() as uow:
        uow.users.record_login(stale)
        uow.commit()
    with make_uow() as uow:
        loaded = uow.users.get(stale.id)
    assert (loaded.last_login_at, loaded.name) == (T0 + timedelta(hours=3), "Robert")
    assert loaded.last_login_at.tzinfo is not None


def test_record_login_rolls_back_with_its_transaction(make_uow: MakeUow) -> None:
    user = add_user(make_uow)
    user.record_login(T0 + timedelta(hours=1))
    with make_uow() as uow:
        uow.users.record_login(user)  # no commit
    with make_uow() as uow:
        assert uow.users.get(user.id).last_login_at is None


def test_get_many_and_taken_emails(make_uow: MakeUow) -> None:
    ann, bob = add_user(make_uow, "ann@shop.test"), add_user(make_uow, "bob@shop.test")
    with make_uow() as uow:
        assert [u.email for u in uow.users.get_many([bob.id, 999_999, ann.id, bob.id])] == [
            "ann@shop.test",
            "bob@shop.test",
        ]
        assert uow.users.get_many([]) == []
        assert uow.users.taken_emails(["bob@shop.test", "cid@shop.test", "ANN@shop.test"]) == {
            "ann@shop.test",
            "bob@shop.test",
        }
        assert uow.users.taken_emails([]) == set()


def test_customers_not_seen_since(make_uow: MakeUow) -> None:
    cutoff = T0 + timedelta(days=5)
    never_old = add_user(make_uow, "a@shop.test")  # registered T0, never logged in: not seen
    seen_old = add_user(make_uow, "b@shop.test", last_login_at=T0 + timedelta(days=1))  # not seen
    add_user(make_uow, "c@shop.test", last_login_at=cutoff)  # at the cut-off: seen
    add_user(make_uow, "d@shop.test", last_login_at=T0 + timedelta(days=9))  # seen
    add_user(make_uow, "e@shop.test", created_at=T0 + timedelta(days=6))  # never logged in, registered after
    add_user(make_uow, "f@shop.test", created_at=cutoff)  # registered at the cut-off
    add_user(make_uow, "g@shop.test", is_admin=True)  # admins never
    add_user(make_uow, "h@shop.test", is_active=False)  # inactive already
    seen_late_old_account = add_user(make_uow, "i@shop.test", last_login_at=T0 + timedelta(days=7))
    with make_uow() as uow:
        found = uow.users.customers_not_seen_since(cutoff, 10)
        limited = uow.users.customers_not_seen_since(cutoff, 1)
    assert [u.id for u in found] == [never_old.id, seen_old.id]
    assert len(limited) == 1 and limited[0].id in {never_old.id, seen_old.id}
    assert seen_late_old_account.id not in [u.id for u in found]


def test_user_stats(make_uow: MakeUow) -> None:
    with make_uow() as uow:
        assert uow.users.stats(None, None) == UserStats(0, 0, 0, 0, 0, 0)
    ann = add_user(make_uow, "ann@shop.test")
    bob = add_user(make_uow, "bob@shop.test", created_at=T0 + timedelta(days=1))
    add_user(make_uow, "admin@shop.test", created_at=T0 + timedelta(days=2), is_admin=True)
    product = add_product(make_uow, "S-1")
    add_order(make_uow, ann, (product, 1))
    add_order(make_uow, ann, (product, 1))
    add_order(make_uow, bob, (product, 1))
    bob.deactivate(T0 + timedelta(days=3))
    with make_uow() as uow:
        uow.users.save(bob)
        uow.commit()
    with make_uow() as uow:
        everything = uow.users.stats(None, None)
        day_one = uow.users.stats(T0 + timedelta(days=1), T0 + timedelta(days=1))
        since = uow.users.stats(T0 + timedelta(seconds=1), None)
        until = uow.users.stats(None, T0 + timedelta(days=1))
    assert everything == UserStats(total=3, active=2, inactive=1, admins=1, registered=3, with_orders=2)
    assert (day_one.registered, since.registered, until.registered) == (1, 2, 2)
    assert day_one.total == 3  # the period narrows `registered` only
