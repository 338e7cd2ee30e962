"""The background jobs `shop serve` runs beside its workers: a pending order left alone past
SHOP_PENDING_ORDER_TTL is cancelled by nobody and its stock comes back, and the kept last 30 days' spend
moves on to today, with no command run by hand."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, update

from adapters.sql.tables import sales_window
from domain.periods import last_days
from tests.e2e.conftest import Client
from tests.e2e.load import count
from tests.support.server import LiveServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def expiring(client: Client, e2e_database: str) -> Iterator[Client]:
    live = LiveServer(e2e_database, workers=1, SHOP_PENDING_ORDER_TTL="1s", SHOP_JOBS_INTERVAL="0.2")
    yield Client(live)
    live.stop()


def status_of(client: Client, headers: dict[str, str], order_id: int, until: str, timeout: float = 30) -> str:
    """The order's status once it is `until`, or whatever it is when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while (status := client.http.get(f"/orders/{order_id}", headers=headers).json()["status"]) != until:
        if time.monotonic() > deadline:
            return status
        time.sleep(0.1)  # polling for a condition, bounded by the deadline
    return status


def test_serve_expires_pending_orders_by_itself(expiring: Client, e2e_engine: Engine) -> None:
    admin = expiring.admin()
    ann, _ = expiring.customer("ann@shop.test")
    product = expiring.product(admin, "EXP-1", stock=5)
    body = {"items": [{"product_id": product["id"], "quantity": 4}]}
    left = expiring.http.post("/orders", json=body, headers=ann).json()
    confirmed = expiring.http.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=ann
    ).json()
    assert (
        expiring.http.patch(
            f"/orders/{confirmed['id']}/status", json={"status": "confirmed"}, headers=admin
        ).status_code
        == 200
    )

    assert status_of(expiring, ann, left["id"], until="cancelled") == "cancelled"
    events = expiring.http.get(f"/orders/{left['id']}/events", headers=ann).json()
    assert (events[-1]["actor_id"], events[-1]["reason"]) == (None, "expired")
    assert expiring.stock(product["id"]) == 4  # the confirmed order keeps its unit
    assert expiring.http.get(f"/orders/{confirmed['id']}", headers=ann).json()["status"] == "confirmed"
    assert count(e2e_engine, "SELECT count(*) FROM stock_movements WHERE kind = 'expiry'") == 1


def test_serve_moves_the_kept_recent_spend_on_to_today(e2e_engine: Engine, e2e_database: str) -> None:
    """As if the jobs had not run for three days: the window still starts 32 days ago, until the
    housekeeping lets the three days go."""
    stale = int(last_days(33, datetime.now(UTC)).timestamp())
    with e2e_engine.begin() as connection:
        connection.execute(update(sales_window).values(first_day=stale))
    live = LiveServer(e2e_database, workers=1, SHOP_JOBS_INTERVAL="0.2")
    try:
        deadline = time.monotonic() + 30
        while (first_day := window_start(e2e_engine)) == stale and time.monotonic() < deadline:
            time.sleep(0.1)  # polling for a condition, bounded by the deadline
    finally:
        live.stop()
    assert first_day == int(last_days(30, datetime.now(UTC)).timestamp())


def window_start(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(sales_window.c.first_day)).scalar_one())
