"""The sales reports over HTTP: /orders/stats by period, /users/{id}/stats, /users/top-spenders."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.periods import MAX_PERIODS
from tests.doubles.clock import FixedClock
from tests.unit.api.conftest import Api
from tests.unit.conftest import dump

STATUSES = ["pending", "confirmed", "processing", "shipped", "delivered", "cancelled"]
T = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # the clock's start


def zeros() -> dict[str, int]:
    return dict.fromkeys(STATUSES, 0)


@pytest.fixture
def sales(api: Api, admin, clock: FixedClock):
    """Ann: 2 x 10.00 on day one, 1 x 10.00 on day three (cancelled). Bob: 3 x 10.00 on day two."""
    ann, ann_id = api.customer("ann@shop.test")
    bob, bob_id = api.customer("bob@shop.test")
    product = api.product(admin, "P-1", stock_quantity=100)["id"]
    api.order(ann, (product, 2))
    clock.advance(timedelta(days=1))
    api.order(api.login("admin@shop.test", "quartz-lantern-7"), (product, 3), user_id=bob_id)
    clock.advance(timedelta(days=1))
    later = api.login("admin@shop.test", "quartz-lantern-7")
    cancelled = api.order(later, (product, 1), user_id=ann_id)
    assert api.client.delete(f"/orders/{cancelled['id']}", headers=later).status_code == 200
    clock.at = T  # the tokens issued at the start stay valid
    return {"ann": ann, "ann_id": ann_id, "bob": bob, "bob_id": bob_id}


def test_stats_without_parameters_are_unchanged(api: Api, admin, sales) -> None:
    answer = api.client.get("/orders/stats", headers=admin)
    assert answer.json() == {
        "total_orders": 3,
        "total_revenue": "50.00",
        "orders_by_status": zeros() | {"pending": 2, "cancelled": 1},
        "gross_revenue": "50.00",  # extensions (issue 28): after the fields a client had
        "refunded_revenue": "0.00",
    }
    assert answer.content.startswith(b'{"total_orders":3,"total_revenue":"50.00","orders_by_status":{')


def test_stats_of_a_period_grouped_by_day(api: Api, admin, sales) -> None:
    query = {"created_from": "2026-11-22T10:00:00Z", "created_to": "2026-11-24T09:59:59Z", "group_by": "day"}
    answer = api.client.get("/orders/stats", params=query | {"tz": "Asia/Kolkata"}, headers=admin).json()
    assert (answer["total_orders"], answer["total_revenue"]) == (2, "50.00")
    one = zeros() | {"pending": 1}
    assert answer["periods"] == [
        {"start": "2026-11-22T00:00:00+05:30", "orders": 1, "revenue": "20.00", "by_status": one}
        | {"gross_revenue": "20.00", "refunded_revenue": "0.00"},
        {"start": "2026-11-23T00:00:00+05:30", "orders": 1, "revenue": "30.00", "by_status": one}
        | {"gross_revenue": "30.00", "refunded_revenue": "0.00"},
        {"start": "2026-11-24T00:00:00+05:30", "orders": 0, "revenue": "0.00", "by_status": zeros()}
        | {"gross_revenue": "0.00", "refunded_revenue": "0.00"},
    ]
    # Without group_by: the period's totals only.
    period = api.client.get("/orders/stats", params={"created_from": "2026-11-23T00:00:00Z"}, headers=admin)
    assert period.json() == {
        "total_orders": 2,
        "total_revenue": "30.00",
        "orders_by_status": zeros() | {"pending": 1, "cancelled": 1},
        "gross_revenue": "30.00",
        "refunded_revenue": "0.00",
    }


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        (
            {"created_from": "2026-11-23T00:00:00Z", "created_to": "2026-11-22T00:00:00Z"},
            "is after created_to",
        ),
        (
            {"created_from": "2020-01-01T00:00:00Z", "group_by": "day"},
            f"more than {MAX_PERIODS} periods of a day",
        ),
        ({"group_by": "week"}, "group_by needs created_from"),
    ],
)
def test_stats_refuse_what_they_cannot_answer(api: Api, admin, sales, params, says) -> None:
    before = dump(api.store)
    answer = api.client.get("/orders/stats", params=params, headers=admin)
    assert (answer.status_code, answer.json()["type"]) == (422, "/problems/invalid-period")
    assert says in answer.json()["detail"]
    assert dump(api.store) == before


def test_stats_refuse_unknown_groupings_and_customers(api: Api, admin, sales) -> None:
    assert api.client.get("/orders/stats", params={"group_by": "year"}, headers=admin).status_code == 422
    assert (
        api.client.get(
            "/orders/stats", params={"created_from": "2026-11-22"}, headers=sales["ann"]
        ).status_code
        == 403
    )


def test_a_customers_statistics(api: Api, admin, sales) -> None:
    ann_id, bob_id = sales["ann_id"], sales["bob_id"]
    mine = api.client.get(f"/users/{ann_id}/stats", headers=sales["ann"])
    assert mine.status_code == 200
    assert mine.json() == {
        "orders": 2,
        "orders_by_status": zeros() | {"pending": 1, "cancelled": 1},
        "total_spent": "20.00",
        "average_order_value": "20.00",
        "first_order_at": "2026-11-22T10:00:00Z",
        "last_order_at": "2026-11-24T10:00:00Z",
    }
    assert api.client.get(f"/users/{ann_id}/stats", headers=admin).json() == mine.json()
    hidden = api.client.get(f"/users/{bob_id}/stats", headers=sales["ann"])
    assert (hidden.status_code, hidden.json()["detail"]) == (404, f"user {bob_id} was not found.")
    assert api.client.get("/users/999/stats", headers=admin).status_code == 404
    admin_id = api.client.get("/users/me", headers=admin).json()["id"]
    none = api.client.get(f"/users/{admin_id}/stats", headers=admin).json()
    assert (none["orders"], none["total_spent"], none["average_order_value"]) == (0, "0.00", "0.00")
    assert (none["first_order_at"], none["last_order_at"]) == (None, None)


def test_top_spenders(api: Api, admin, sales) -> None:
    ann_id, bob_id = sales["ann_id"], sales["bob_id"]
    ranked = api.client.get("/users/top-spenders", headers=admin)
    assert ranked.status_code == 200
    assert ranked.json() == [
        {"user": {"id": bob_id, "email": "bob@shop.test", "name": "Ann"}, "orders": 1, "revenue": "30.00"},
        {"user": {"id": ann_id, "email": "ann@shop.test", "name": "Ann"}, "orders": 1, "revenue": "20.00"},
    ]
    first = api.client.get("/users/top-spenders", params={"limit": 1}, headers=admin).json()
    assert [s["user"]["id"] for s in first] == [bob_id]
    day_one = {"created_from": "2026-11-22T00:00:00Z", "created_to": "2026-11-22T23:59:59Z"}
    assert [
        s["user"]["id"] for s in api.client.get("/users/top-spenders", params=day_one, headers=admin).json()
    ] == [ann_id]
    later = {"created_from": "2026-11-24T00:00:00Z"}  # only Ann's cancelled order: nobody
    assert api.client.get("/users/top-spenders", params=later, headers=admin).json() == []


def test_top_spenders_of_the_last_days(api: Api, sales, clock: FixedClock) -> None:
    clock.at = T + timedelta(days=1)  # day two: Bob's order
    admin = api.login("admin@shop.test", "quartz-lantern-7")

    def ranked(days: int) -> list[tuple[int, int, str]]:
        answer = api.client.get("/users/top-spenders", params={"days": days}, headers=admin)
        assert answer.status_code == 200
        return [(s["user"]["id"], s["orders"], s["revenue"]) for s in answer.json()]

    assert ranked(1) == [(sales["bob_id"], 1, "30.00")]
    assert ranked(2) == ranked(366) == [(sales["bob_id"], 1, "30.00"), (sales["ann_id"], 1, "20.00")]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"created_from": "2026-11-23", "created_to": "2026-11-22"},
        {"days": 0},
        {"days": 367},
        {"days": 30, "created_from": "2026-11-22T00:00:00Z"},
        {"days": 30, "created_to": "2026-11-22T00:00:00Z"},
    ],
)
def test_top_spenders_refuse_bad_input(api: Api, admin, sales, params) -> None:
    before = dump(api.store)
    assert api.client.get("/users/top-spenders", params=params, headers=admin).status_code == 422
    assert dump(api.store) == before


def test_top_spenders_are_for_admins(api: Api, sales) -> None:
    assert api.client.get("/users/top-spenders", headers=sales["ann"]).status_code == 403
    assert api.client.get("/users/top-spenders").status_code == 401


def test_ranges_at_the_ends_of_time(api: Api, admin, sales) -> None:
    early = {"created_to": "0059-11-04T13:56:32Z"}
    assert api.client.get("/orders/stats", params=early, headers=admin).json()["total_orders"] == 0
    assert api.client.get("/users/top-spenders", params=early, headers=admin).json() == []
    last = {"created_from": "2026-11-23T00:00:00Z", "created_to": "9999-12-31T23:59:59.999999Z"}
    assert api.client.get("/orders/stats", params=last, headers=admin).json()["total_orders"] == 2
    grouped = {
        "created_from": "0001-01-01T00:00:00Z",
        "created_to": "0001-01-02T00:00:00Z",
        "group_by": "day",
    }
    refused = api.client.get("/orders/stats", params=grouped | {"tz": "Asia/Kolkata"}, headers=admin)
    assert (refused.status_code, refused.json()["detail"]) == (
        422,
        "the periods reach beyond the years 1 to 9999 in time zone 'Asia/Kolkata'.",
    )


def test_a_refund_lowers_the_revenue_everywhere_it_is_counted(api: Api, admin, sales) -> None:
    """Bob's 30.00 (day two) charged 32.00 and refunded 2.00 (the overpayment), then 5.50 of its value."""
    order_id = api.client.get("/orders", params={"user_id": sales["bob_id"]}, headers=admin).json()["items"][
        0
    ]
    body = {"provider": "stripe", "reference": "ch_1", "amount": "32.00", "action": "charge"}
    payment = api.client.post(f"/orders/{order_id['id']}/payments", json=body, headers=admin).json()
    for n, amount in enumerate(["2.00", "5.50"]):
        refund = {"amount": amount, "reason": "returned", "reference": f"re_{n}"}
        assert (
            api.client.post(f"/payments/{payment['id']}/refunds", json=refund, headers=admin).status_code
            == 201
        )
    stats = api.client.get("/orders/stats", headers=admin).json()
    assert {k: stats[k] for k in ("total_revenue", "gross_revenue", "refunded_revenue")} == {
        "total_revenue": "44.50", "gross_revenue": "50.00", "refunded_revenue": "5.50",
    }  # fmt: skip
    query = {"created_from": "2026-11-22T00:00:00Z", "created_to": "2026-11-24T23:59:59Z", "group_by": "day"}
    days = api.client.get("/orders/stats", params=query, headers=admin).json()["periods"]
    assert [(d["revenue"], d["gross_revenue"], d["refunded_revenue"]) for d in days] == [
        ("20.00", "20.00", "0.00"), ("24.50", "30.00", "5.50"), ("0.00", "0.00", "0.00"),
    ]  # fmt: skip
    bob = api.client.get(f"/users/{sales['bob_id']}/stats", headers=admin).json()
    assert (bob["total_spent"], bob["average_order_value"]) == ("24.50", "24.50")
    ranked = api.client.get("/users/top-spenders", headers=admin).json()
    assert [(s["user"]["id"], s["revenue"]) for s in ranked] == [
        (sales["bob_id"], "24.50"),
        (sales["ann_id"], "20.00"),
    ]
