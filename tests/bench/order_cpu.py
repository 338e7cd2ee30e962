"""`python -m tests.bench.order_cpu`: the app's CPU per two-line `POST /orders`, in-process on PostgreSQL.

`make bench` divides the server processes' CPU by the orders they placed under wrk's load, which moves by
±30 % on a shared machine. This drives the whole app (every middleware, FastAPI, the caller, the use case,
the Unit of Work, SQLAlchemy and psycopg against a throwaway PostgreSQL) through its ASGI interface, one
order after another, and reads this process's own CPU time: no HTTP server, no client, no other process's
load in the figure. Logs are JSON lines to /dev/null, metrics in multiprocess mode, as `shop serve` has them.
Prints ms of CPU per order, the best of --rounds rounds of --orders orders."""

import os
import tempfile

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="shop-order-cpu-"))

import argparse
import asyncio
import json
import random
import time

from dependency_injector import providers
from sqlalchemy import text

from adapters.settings import Settings
from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from adapters.sql.seed import DEMO_PASSWORD, demo_email, seed_demo
from entrypoints.api.app import create_app
from entrypoints.container import Container
from entrypoints.logs import configure_logging
from tests.bench.layers import call, scope_of
from tests.doubles.security import FastPasswordHasher
from tests.support.postgres import ThrowawayPostgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    configure_logging(json=True, stream=open(os.devnull, "w"))  # noqa: SIM115 -- for the whole run
    pg = ThrowawayPostgres(fast_and_unsafe=False)
    pg.start()
    try:
        url = pg.create_database("shop_order_cpu")
        migrate(url)
        engine = make_sync_engine(url)
        hasher = FastPasswordHasher()
        seed_demo(
            engine, users_count=20, products_count=2000, password_hash=asyncio.run(hasher.hash(DEMO_PASSWORD))
        )
        with engine.connect() as c:
            products = [row[0] for row in c.execute(text("SELECT id FROM products ORDER BY id LIMIT 1000"))]
        engine.dispose()
        container = Container()
        settings = Settings(env="test", database_url=url, secret_key="k" * 40, _env_file=None)
        container.settings.override(providers.Object(settings))
        container.password_hasher.override(providers.Object(hasher))
        print(
            f"{ms_per_order(create_app(container), products, args.orders, args.rounds):.3f} ms CPU per order"
        )
    finally:
        pg.destroy()


def ms_per_order(app, products: list[int], orders: int, rounds: int) -> float:  # type: ignore[no-untyped-def]
    async def run() -> float:
        form = f"username={demo_email(1).replace('@', '%40')}&password={DEMO_PASSWORD}".encode()
        login = scope_of("POST", "/auth/token", {"content-type": "application/x-www-form-urlencoded"}, form)
        answer: list[bytes] = []
        assert await call(app, login, form, answer) == 200
        token = json.loads(b"".join(answer))["access_token"]
        headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
        pick = random.Random(1)

        async def one() -> None:
            a, b = pick.sample(products, 2)
            body = json.dumps({"items": [{"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 1}]})
            assert await call(app, scope_of("POST", "/orders", headers, body.encode()), body.encode()) == 201

        for _ in range(50):  # warm: statements compiled and prepared, pool filled
            await one()
        best = float("inf")
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(orders):
                await one()
            best = min(best, time.process_time() - started)
        await app.state.container.async_engine().dispose()
        return best * 1000 / orders

    return asyncio.run(run())


if __name__ == "__main__":
    main()
