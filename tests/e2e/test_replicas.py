"""Reads served by a real PostgreSQL hot standby (`pg_basebackup -R` of a primary of this module's own, both
from the embedded install, started here and removed at the end): the catalog reaches the standby, a client's
own writes are read back at once even with the standby's replay paused, a stopped standby is never seen by
users and is used again once back, and the load invariants hold with it configured."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from adapters.sql.wal import parse_lsn
from tests.conftest import truncate_all
from tests.e2e import test_walkthrough
from tests.e2e.conftest import Client
from tests.e2e.load import assert_kept_totals_match_a_recount, mixed_load
from tests.support.postgres import ThrowawayPostgres
from tests.support.server import LiveServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres
DATABASE = "shop_replicas"
PASSWORD = (
    "replica-pass-7f3"  # in the replica URL (the throwaway server trusts, so never checked): never shown
)


@dataclass
class Pair:
    primary: ThrowawayPostgres
    standby: ThrowawayPostgres
    url: str
    standby_url: str
    engine: Engine  # the primary's
    standby_engine: Engine

    def scalar(self, engine: Engine, sql: str) -> object:
        with engine.connect() as c:
            return c.execute(text(sql)).scalar()

    def caught_up(self) -> bool:
        primary = parse_lsn(str(self.scalar(self.engine, "SELECT pg_current_wal_insert_lsn()::text")))
        replayed = self.scalar(self.standby_engine, "SELECT pg_last_wal_replay_lsn()::text")
        return replayed is not None and primary is not None and (parse_lsn(str(replayed)) or 0) >= primary

    def statements(self, engine: Engine, like: str) -> int:
        """Calls of statements like `like` in this server's pg_stat_statements since its last reset."""
        sql = f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '{like}'"
        return int(str(self.scalar(engine, sql)))

    def reset_statements(self) -> None:
        for engine in (self.engine, self.standby_engine):
            self.scalar(engine, "SELECT pg_stat_statements_reset()::text")


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    primary = ThrowawayPostgres(options=("-c shared_preload_libraries=pg_stat_statements",))
    primary.start()
    standby: ThrowawayPostgres | None = None
    try:
        url = primary.create_database(DATABASE)
        migrate(url)
        primary.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", DATABASE)
        standby = primary.standby()
        pair = Pair(
            primary,
            standby,
            url,
            standby.url(DATABASE),
            make_sync_engine(url),
            make_sync_engine(standby.url(DATABASE)),
        )
        yield pair
        pair.engine.dispose()
        pair.standby_engine.dispose()
    finally:
        if standby is not None:
            standby.destroy()
        primary.drop_slot()
        primary.destroy()


def replica_server(pair: Pair, **env: str) -> LiveServer:
    return LiveServer(
        pair.url,
        workers=1,  # one process, so one view of the standby: the assertions below are exact
        jobs=False,
        SHOP_DATABASE_REPLICA_URLS=pair.standby_url.replace("postgres@", f"postgres:{PASSWORD}@"),
        SHOP_REPLICA_CHECK_INTERVAL="0.2",
        SHOP_LOGIN_LIMIT_PER_ADDRESS="off",
        SHOP_REGISTRATION_LIMIT_PER_ADDRESS="off",
        **env,
    )


@pytest.fixture(scope="module")
def server(pair: Pair) -> Iterator[LiveServer]:
    # A paused standby falls behind by the wall clock: the tests that pause it need it served meanwhile.
    live = replica_server(pair, SHOP_REPLICA_MAX_LAG="300")
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer, pair: Pair) -> Iterator[Client]:
    if pair.scalar(pair.standby_engine, "SELECT pg_is_wal_replay_paused()"):
        pair.scalar(pair.standby_engine, "SELECT pg_wal_replay_resume()::text")
    truncate_all(pair.engine)
    c = Client(server)
    yield c
    c.http.close()


def replica_state(http: httpx.Client) -> tuple[str, dict]:
    ready = http.get("/health/ready")
    return ready.json()["status"], ready.json()["replicas"][0]


def routed(http: httpx.Client, target: str) -> float:
    metrics = http.get("/metrics").text
    match = re.search(rf'shop_replica_routed_reads_total{{target="{target}"}} ([\d.e+]+)', metrics)
    return float(match[1]) if match else 0.0


def settled(pair: Pair, http: httpx.Client) -> None:
    """The standby has replayed everything the primary wrote, and the service knows it."""
    wait_for(pair.caught_up, "the standby to replay the primary's WAL")
    wait_for(lambda: replica_state(http)[1]["state"] == "ok", "the service to see the standby well")


def anonymous(server: LiveServer) -> httpx.Client:
    """A client with no cookie jar history: no position to read after."""
    return httpx.Client(base_url=server.url, timeout=30)


def test_catalog_reads_reach_the_standby_and_not_the_primary(client: Client, pair: Pair) -> None:
    admin = client.admin()
    category = client.http.post("/categories", json={"name": "Books"}, headers=admin).json()
    product = client.product(admin, "REP-1", category_id=category["id"])
    settled(pair, client.http)
    pair.reset_statements()
    before = routed(client.http, "replica-0")
    with anonymous(client.server) as http:
        for _ in range(5):
            assert http.get("/products", params={"category_id": category["id"]}).json()["total"] == 1
        assert http.get(f"/products/{product['id']}").json()["sku"] == "REP-1"
        assert http.get("/categories").json()["items"][0]["name"] == "Books"
        assert http.get(f"/categories/{category['id']}").json()["product_count"] == 1
        feed = http.get("/events", headers=admin).json()  # gap-free on the standby's own snapshot
        assert [e["type"] for e in feed["items"]] == ["product.created"]
    product_reads = "%FROM products%"
    assert pair.statements(pair.standby_engine, product_reads) > 0
    assert pair.statements(pair.engine, product_reads) == 0
    assert routed(client.http, "replica-0") - before == 9
    ready = client.http.get("/health/ready").json()
    assert ready["status"] == "ready" and ready["replicas"][0]["lag_seconds"] == 0.0
    assert ready["replicas"][0]["name"].endswith(f"/{DATABASE}")


def test_own_writes_are_read_back_at_once_while_the_standby_is_paused(client: Client, pair: Pair) -> None:
    admin = client.admin()
    ann, _ = client.customer("ann@shop.test")
    product = client.product(admin, "REP-2", price="10.00", stock=5)
    settled(pair, client.http)
    pair.scalar(pair.standby_engine, "SELECT pg_wal_replay_pause()::text")
    wait_for(
        lambda: pair.scalar(pair.standby_engine, "SELECT pg_get_wal_replay_pause_state()") == "paused",
        "the standby's replay to pause",
    )

    # A customer places an order and lists their orders at once: the answer carries the commit's position,
    # the cookie jar sends it back, and the paused standby has not replayed it, so the primary answers.
    body = {"items": [{"product_id": product["id"], "quantity": 2}]}
    placed = client.http.post("/orders", json=body, headers=ann)
    assert placed.status_code == 201
    position = placed.headers["Shop-Read-After"]
    assert parse_lsn(position) is not None and client.http.cookies["shop_read_after"] == position
    assert [o["id"] for o in client.http.get("/orders", headers=ann).json()["items"]] == [placed.json()["id"]]
    # The same with the header alone (a client without cookies).
    with anonymous(client.server) as http:
        listed = http.get("/orders", headers={**ann, "Shop-Read-After": position}).json()
        assert listed["total"] == 1

    # An admin edits a product and reads it at once: the edit. Anyone else reads the standby: the old price
    # (the standby served it) and the stock before the order.
    edited = client.http.patch(f"/products/{product['id']}", json={"price": "12.50"}, headers=admin)
    assert edited.status_code == 200
    assert client.http.get(f"/products/{product['id']}").json()["price"] == "12.50"
    with anonymous(client.server) as http:
        stale = http.get(f"/products/{product['id']}").json()
        assert (stale["price"], stale["stock_quantity"]) == ("10.00", 5)
        # Behind once the primary has flushed the writes (synchronous_commit=off here: within ~200 ms).
        wait_for(lambda: replica_state(http)[1]["lag_seconds"] > 0, "the standby to be seen behind")
        status, replica = replica_state(http)
        assert status == "ready" and replica["state"] == "ok"

        # Resumed: the standby catches up, and the same anonymous read now shows the edit, from it.
        pair.scalar(pair.standby_engine, "SELECT pg_wal_replay_resume()::text")
        settled(pair, http)
        before = routed(http, "replica-0")
        fresh = http.get(f"/products/{product['id']}").json()
        assert (fresh["price"], fresh["stock_quantity"]) == ("12.50", 3)
        assert routed(http, "replica-0") == before + 1


def test_a_lagging_standby_is_skipped_until_it_catches_up(client: Client, pair: Pair) -> None:
    strict = replica_server(pair, SHOP_REPLICA_MAX_LAG="1")
    try:
        admin = client.admin()
        product = client.product(admin, "REP-3", price="10.00")
        settled(pair, client.http)
        pair.scalar(pair.standby_engine, "SELECT pg_wal_replay_pause()::text")
        client.http.patch(f"/products/{product['id']}", json={"price": "11.00"}, headers=admin)
        with httpx.Client(base_url=strict.url, timeout=30) as http:
            wait_for(lambda: replica_state(http)[1]["state"] == "lagging", "the standby to fall 1 s behind")
            status, replica = replica_state(http)
            assert status == "ready" and replica["lag_seconds"] > 1
            before = routed(http, "primary")
            assert http.get(f"/products/{product['id']}").json()["price"] == "11.00"  # not the stale 10.00
            assert routed(http, "primary") == before + 1
            pair.scalar(pair.standby_engine, "SELECT pg_wal_replay_resume()::text")
            settled(pair, http)
            before = routed(http, "replica-0")
            assert http.get(f"/products/{product['id']}").json()["price"] == "11.00"
            assert routed(http, "replica-0") == before + 1
    finally:
        strict.stop()


def test_every_route_answers_with_the_standby_stopped_and_reads_return_after(
    client: Client, pair: Pair
) -> None:
    admin = client.admin()
    ann, ann_id = client.customer("ann@shop.test")
    category = client.http.post("/categories", json={"name": "Tools"}, headers=admin).json()
    product = client.product(admin, "REP-4", category_id=category["id"])
    order = client.http.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=ann
    ).json()
    settled(pair, client.http)
    reads = [
        ("/products", None),
        ("/products?expand=category", None),
        (f"/products/{product['id']}", None),
        (f"/products/{product['id']}?expand=category", None),
        ("/categories", None),
        (f"/categories/{category['id']}", None),
        ("/categories/stats", admin),
        (f"/categories/{category['id']}/stats", admin),
        (f"/products/{product['id']}/stock-movements", admin),
        ("/orders", ann),
        ("/orders", admin),
        (f"/orders/{order['id']}", ann),
        ("/orders/stats", admin),
        (
            "/orders/stats?group_by=day&created_from=2026-01-01T00:00:00Z&created_to=2026-01-02T00:00:00Z",
            admin,
        ),
        ("/users", admin),
        ("/users/stats", admin),
        ("/users/top-spenders", admin),
        (f"/users/{ann_id}/stats", admin),
        ("/users/me", ann),
        ("/events", admin),
    ]
    pair.standby.stop()
    try:
        with anonymous(client.server) as http:
            for url, headers in reads:  # the first finds the standby gone mid-read: the primary serves it
                answer = http.get(url, headers=headers)
                assert answer.status_code == 200, (url, answer.text)
            status, replica = replica_state(http)
            assert status == "ready" and replica["state"] == "unreachable"
            assert replica["lag_seconds"] is None and replica["problem"]
            written = http.post(
                "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=ann
            )
            assert written.status_code == 201
            assert http.get("/orders", headers=ann).json()["total"] == 2
    finally:
        pair.standby.start()
    with anonymous(client.server) as http:
        settled(pair, http)
        before = routed(http, "replica-0")
        assert http.get("/orders", headers=ann).json()["total"] == 2
        assert routed(http, "replica-0") == before + 1
        shown = http.get("/health/ready").text + http.get("/metrics").text
    log = Path(client.server.log.name).read_text()
    assert PASSWORD not in shown + log and "replica-0" in shown


def test_every_route_succeeds_through_the_replica(client: Client, pair: Pair) -> None:
    """The walk through every route, unchanged: each write's position in the client's cookie jar keeps its
    next reads on what it wrote, whatever the standby has replayed."""
    before = routed(client.http, "primary") + routed(client.http, "replica-0")
    test_walkthrough.test_every_route_succeeds(client)
    assert routed(client.http, "primary") + routed(client.http, "replica-0") > before  # routed, not bypassed


def test_load_invariants_hold_with_the_replica(client: Client, pair: Pair) -> None:
    """No oversell, no lost stock, kept totals equal a recount, read through the standby once it has
    replayed the load (the load's own clients keep no cookies)."""
    admin = mixed_load(client, pair.engine, settle=lambda: settled(pair, client.http))
    before = routed(client.http, "replica-0")
    assert_kept_totals_match_a_recount(client, admin, pair.engine)
    assert routed(client.http, "replica-0") > before
