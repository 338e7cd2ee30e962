"""The service unchanged behind PgBouncer in transaction pooling mode (Debian's pgbouncer, started here):
each transaction may run on another server connection, so nothing may rely on session state between
them. Prepared statements are off there (SHOP_DB_PREPARED_STATEMENTS=false: PgBouncer 1.18 cannot carry
them); the autocommit reads, the Unit of Work's transactions and the CLI all go through the pooler."""

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.conftest import truncate_all
from tests.e2e.conftest import Client
from tests.e2e.load import assert_kept_totals_match_a_recount, gather, mixed_load
from tests.support.pgbouncer import PgBouncer
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def pooled_server(e2e_database: str) -> Iterator[tuple[LiveServer, PgBouncer]]:
    bouncer = PgBouncer(e2e_database, pool_size=4)  # 4 server connections for 2 workers x 4 pooled clients
    live = LiveServer(
        bouncer.url(),
        workers=2,
        SHOP_DB_PREPARED_STATEMENTS="false",
        SHOP_LOGIN_LIMIT_PER_ADDRESS="off",
        SHOP_REGISTRATION_LIMIT_PER_ADDRESS="off",
    )
    yield live, bouncer
    live.stop()
    bouncer.stop()


@pytest.fixture
def pooled(pooled_server: tuple[LiveServer, PgBouncer], e2e_engine: Engine) -> Iterator[Client]:
    truncate_all(e2e_engine)
    client = Client(pooled_server[0])
    yield client
    client.http.close()


def test_orders_and_mixed_load_through_pgbouncer(
    pooled: Client, pooled_server: tuple[LiveServer, PgBouncer], e2e_engine: Engine
) -> None:
    admin = pooled.admin()  # the CLI, through the pooler too
    customers = [pooled.customer(f"hot{i}@shop.test")[0] for i in range(10)]
    product = pooled.product(admin, "HOT-1", stock=30)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    responses = gather(
        pooled.server.url,
        [("POST", "/orders", {"json": body, "headers": customers[i % 10]}) for i in range(60)],
    )
    assert Counter(r.status_code for r in responses) == {201: 30, 400: 30}
    assert pooled.stock(product["id"]) == 0

    admin = mixed_load(pooled, e2e_engine)  # logs the admin in anew (create-admin revokes older tokens)
    assert_kept_totals_match_a_recount(pooled, admin, e2e_engine)
    log = pooled_server[1].log()
    assert "prepared statement" not in log and "ERROR" not in log, log[-2000:]
