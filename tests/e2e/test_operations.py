"""Operating the live service (2 workers, PostgreSQL): metrics summed over the workers, and a SIGTERM in
the middle of steady order traffic that loses nothing."""

import asyncio
import json
import signal
import uuid
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from tests.e2e.conftest import Client
from tests.e2e.test_load_invariants import gather
from tests.support.server import LiveServer


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    page = httpx.get(f"{url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def test_metrics_are_the_sum_over_both_workers(client: Client) -> None:
    admin = client.admin()
    product = client.product(admin, "M-1", stock=1000)
    customers = [client.customer(f"m{i}@shop.test")[0] for i in range(4)]
    placed = ("shop_business_events_total", (("event", "order_placed"),))
    answered = ("shop_http_requests_total", (("method", "POST"), ("route", "/orders"), ("status", "201")))
    before = scrape(client.server.url)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    responses = gather(
        client.server.url,
        [("POST", "/orders", {"json": body, "headers": customers[i % 4]}) for i in range(40)],
    )
    assert [r.status_code for r in responses] == [201] * 40
    after = scrape(client.server.url)
    assert after[placed] - before.get(placed, 0) == 40
    assert after[answered] - before.get(answered, 0) == 40
    logged = [
        json.loads(line) for line in Path(client.server.log.name).read_text().splitlines() if line[:1] == "{"
    ]
    served_by = {
        line["pid"] for line in logged if line.get("route") == "/orders" and line.get("method") == "POST"
    }
    assert len(served_by) == 2  # both workers took orders, and the page counted both


def test_sigterm_under_order_traffic_loses_nothing(
    client: Client, e2e_database: str, e2e_engine: Engine
) -> None:
    admin = client.admin()
    product = client.product(admin, "S-1", stock=1_000_000)
    buyers = [client.customer(f"s{i}@shop.test")[0] for i in range(4)]
    server = LiveServer(e2e_database, workers=2, SHOP_SHUTDOWN_TIMEOUT="20")
    outcomes: list[tuple[str, int | str]] = []  # (Idempotency-Key, status or the error's name)

    async def traffic() -> None:
        enough = asyncio.Event()

        async def buyer(headers: dict[str, str]) -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                while True:
                    key = uuid.uuid4().hex
                    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
                    try:
                        response = await http.post(
                            "/orders", json=body, headers={**headers, "Idempotency-Key": key}
                        )
                    except httpx.TransportError as error:
                        outcomes.append((key, type(error).__name__))
                        if isinstance(error, httpx.ConnectError):  # refused: the server has stopped listening
                            return
                        continue
                    outcomes.append((key, response.status_code))
                    if sum(1 for _, status in outcomes if status == 201) >= 100:
                        enough.set()

        buyers_running = [asyncio.create_task(buyer(h)) for h in buyers * 2]
        await enough.wait()
        server.process.send_signal(signal.SIGTERM)
        await asyncio.gather(*buyers_running)

    try:
        asyncio.run(traffic())
        exit_code = server.process.wait(timeout=60)
    finally:
        server.stop()
    statuses = Counter(status for _, status in outcomes)
    print(f"sigterm under load: {dict(statuses)}")
    assert exit_code == 0
    assert not [s for s in statuses if isinstance(s, int) and s != 201], statuses  # no 5xx, no other answer
    with e2e_engine.connect() as c:
        stored = dict(
            c.execute(text("SELECT key, order_id FROM idempotency_keys WHERE order_id IS NOT NULL")).all()
        )
        buyers_orders = (
            "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email LIKE 's%'"
        )
        orders = c.execute(text(buyers_orders)).scalar_one()
    answered = {key for key, status in outcomes if status == 201}
    failed = {key for key, status in outcomes if status != 201}
    assert answered <= set(stored)  # every order a client was told about exists
    assert not failed & set(stored)  # no order behind a request whose client saw an error
    assert orders == len(answered)  # and none that nobody was told about
