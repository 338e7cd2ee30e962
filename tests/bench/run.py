"""`make bench`: the service measured the way its users feel it, next to PostgreSQL's own ceiling.

Starts its own PostgreSQL (unless SHOP_BENCH_DATABASE_URL is set), migrates, seeds through `shop seed-demo`,
serves with 2 uvicorn workers, drives it with wrk (installed from Debian when missing), then runs pgbench with
a script that mirrors the order transaction on the same database. Prints a table and writes JSON."""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from adapters.sql.seed import DEMO_PASSWORD, demo_email
from tests.bench.cpu import cpu_seconds
from tests.support.debian import ensure_program
from tests.support.postgres import ThrowawayPostgres
from tests.support.receiver import Receiver
from tests.support.server import SHOP, LiveServer, free_port, service_env

HERE = Path(__file__).resolve().parent
CUSTOMERS = 50
BENCH_ADMIN = ("bench-admin@shop.test", "harbor-quartz-kettle")
EVERY_EVENT = [
    "order.placed", "order.status_changed", "order.cancelled", "product.created", "product.updated",
    "product.deleted", "product.out_of_stock", "product.back_in_stock", "stock.adjusted",
]  # fmt: skip
ORDER_PRODUCTS = 1000  # orders pick from the first products, so they contend a little, as shops do


@dataclass
class Result:
    name: str
    mode: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    statements_per_request: float | None = None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """requests/s, p50 ms, p99 ms, errors (non-2xx + socket errors), requests."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return rps, p50, p99, errors, requests


def lua_script(kind: str, tokens: list[str], values: list, delay_ms: float | None) -> str:
    """A wrk script: each request picks a random caller and random targets."""
    toks = ",".join(f'"{t}"' for t in tokens)
    vals = ",".join(json.dumps(v) for v in values)
    body = {
        "orders": """
local a = items[math.random(#items)]
local b = a
while b == a do b = items[math.random(#items)] end
local body = string.format('{"items":[{"product_id":%d,"quantity":1},{"product_id":%d,"quantity":1}]}', a, b)
return wrk.format("POST", "/orders", {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
  ["Content-Type"] = "application/json"}, body)""",
        "product_list": """
return wrk.format("GET", "/products?category_id=" .. items[math.random(#items)] .. "&sort=price&limit=20")""",
        "get": """
local pick = items[math.random(#items)]
return wrk.format("GET", pick[1], {["Authorization"] = "Bearer " .. tokens[pick[2]]})""",
    }[kind]
    delay = f"function delay() return {delay_ms:.3f} end\n" if delay_ms else ""
    return (
        f"local tokens = {{{toks}}}\nlocal items = {{{vals.replace('[', '{').replace(']', '}')}}}\n"
        "function setup(thread) end\n"
        "function init(args) math.randomseed(os.time() + math.floor(os.clock() * 1000000)) end\n"
        f"{delay}function request(){body}\nend\n"
    )


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: list[Result] = []
        self.cpu_per_order: tuple[float, float | None] = (0.0, None)
        self.webhook: tuple[int, int, float | None] = (0, 0, None)  # events owed, delivered during, drain s
        self.work = Path(tempfile.mkdtemp(prefix="shop-bench-"))
        self.wrk = ensure_program("wrk", "wrk")
        self.pg: ThrowawayPostgres | None = None
        url = os.environ.get("SHOP_BENCH_DATABASE_URL")
        if not url:
            self.pg = ThrowawayPostgres(
                fast_and_unsafe=False, options=("-c shared_preload_libraries=pg_stat_statements",)
            )
            self.pg.start()
            url = self.pg.create_database("shop_bench")
        self.url = url
        self.engine = make_sync_engine(url)

    def run(self) -> dict:
        print(f"== database {self.url.split('@')[-1]}; migrating and seeding", flush=True)
        migrate(self.url)
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", ignore_errors=True)
        self.seed(self.args.users, self.args.products)
        # Its jobs process delivers the webhook phase's events to a receiver on 127.0.0.1.
        server = LiveServer(self.url, workers=2, SHOP_WEBHOOK_ALLOW_PRIVATE="true")
        try:
            tokens = self.login(server)
            product_ids = self.ids("SELECT id FROM products ORDER BY id LIMIT :n", n=ORDER_PRODUCTS)
            categories = self.ids("SELECT id FROM categories ORDER BY id")
            app_cpu, db_cpu = cpu_seconds(server.process.pid), self.database_cpu()
            peak = self.drive(server, "orders", "closed-loop peak", tokens, product_ids)
            self.cpu_per_order = (
                (cpu_seconds(server.process.pid) - app_cpu) * 1000 / peak.requests,
                (self.database_cpu() - db_cpu) * 1000 / peak.requests if self.pg else None,
            )
            self.with_webhook(server, tokens, product_ids)
            self.paced(server, tokens, product_ids, rate=0.8 * peak.requests_per_s)
            self.drive(server, "product_list", "closed-loop peak", [], categories)
            self.drive(
                server, "get", "closed-loop peak", tokens, self.owned_orders(len(tokens)), name="order_detail"
            )
            small_p99 = self.results[-2].p99_ms
            if self.args.scale_products > self.args.products:
                self.seed(0, self.args.scale_products - self.args.products)
                self.sql("ANALYZE")
                big = self.drive(
                    server,
                    "product_list",
                    f"closed-loop at {self.args.scale_products:,} products",
                    [],
                    categories,
                )
            else:
                big = None
        finally:
            server.stop()
        ceiling = self.pgbench()
        report = self.report(peak, ceiling, small_p99, big)
        self.engine.dispose()
        if self.pg:
            self.pg.destroy()
        return report

    def with_webhook(self, server: LiveServer, tokens: list[str], product_ids: list) -> Result:
        """Orders again while a webhook takes every event: delivery runs in the jobs process, so the order
        rate should not move. Also how long the deliveries take to catch up after the phase."""
        receiver = Receiver(free_port())
        try:
            server.cli("create-admin", "--email", BENCH_ADMIN[0], "--password", BENCH_ADMIN[1])
            with httpx.Client(base_url=server.url, timeout=30) as http:
                token = http.post(
                    "/auth/token", data=dict(zip(("username", "password"), BENCH_ADMIN, strict=True))
                )
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                hook = {"url": receiver.url, "event_types": EVERY_EVENT}
                assert http.post("/webhooks", json=hook, headers=headers).status_code == 201
            first = int(self.ids("SELECT coalesce(max(id), 0) FROM events")[0])
            result = self.drive(server, "orders", "closed-loop, webhook on all events", tokens, product_ids)
            during = len(receiver.received)
            owed = int(self.ids("SELECT count(*) FROM events WHERE id > :first", first=first)[0])
            started = time.monotonic()
            caught_up = receiver.wait_for(owed, timeout=120)
            drained = time.monotonic() - started
            self.webhook = (owed, during, drained if caught_up else None)
            rest = f"in {drained:.1f} s" if caught_up else "not within 120 s"
            print(
                f"   webhook: {owed:,} events raised, {during:,} delivered during the phase, the rest {rest}"
            )
            self.sql("DELETE FROM webhooks")
            return result
        finally:
            receiver.stop()

    def database_cpu(self) -> float:
        """CPU seconds of our PostgreSQL (postmaster and backends); 0 for a server we did not start."""
        if not self.pg:
            return 0.0
        return cpu_seconds(int((self.pg.pgdata / "postmaster.pid").read_text().split()[0]))

    def seed(self, users: int, products: int) -> None:
        started = time.monotonic()
        subprocess.run(
            [SHOP, "seed-demo", "--users", str(users), "--products", str(products)],
            env=service_env(self.url),
            check=True,
        )
        print(
            f"   seeded {users:,} users and {products:,} products in {time.monotonic() - started:.1f} s",
            flush=True,
        )

    def login(self, server: LiveServer) -> list[str]:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            return [
                http.post("/auth/token", data={"username": demo_email(i), "password": DEMO_PASSWORD}).json()[
                    "access_token"
                ]
                for i in range(1, CUSTOMERS + 1)
            ]

    def owned_orders(self, customers: int) -> list[list]:
        """(order path, index of its owner's token) for the latest orders of the benchmark's customers."""
        emails = {demo_email(i): i for i in range(1, customers + 1)}
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT o.id, u.email FROM users u JOIN orders o ON o.user_id = u.id"
                    " WHERE u.email = ANY(:emails) ORDER BY o.id DESC LIMIT 5000"
                ),
                {"emails": list(emails)},
            ).all()
        return [[f"/orders/{order_id}", emails[email]] for order_id, email in rows]

    def drive(
        self,
        server: LiveServer,
        kind: str,
        mode: str,
        tokens: list[str],
        items: list,
        delay_ms: float | None = None,
        name: str | None = None,
    ) -> Result:
        self.sql("SELECT pg_stat_statements_reset()", ignore_errors=True)
        rps, p50, p99, errors, requests = self.wrk_run(
            server, kind, tokens, items, delay_ms, self.args.duration
        )
        name = name or kind
        result = Result(
            name, mode, rps, p50, p99, errors, requests, self.statements() / requests if requests else None
        )
        self.results.append(result)
        print(
            f"   {name:<13} {mode:<32} {rps:>9.1f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  errors {errors}",
            flush=True,
        )
        return result

    def paced(self, server: LiveServer, tokens: list[str], items: list, rate: float) -> Result:
        """Orders at a fixed rate. wrk paces each connection with `delay()`, so a connection's cycle is the
        delay plus the response time: short probes shorten the delay until the rate asked for is reached."""
        connections = self.args.connections
        delay = connections / rate * 1000
        for _ in range(4):
            achieved = self.wrk_run(server, "orders", tokens, items, delay, 3)[0]
            if achieved >= 0.97 * rate:
                break
            delay = max(0.0, delay - (connections / achieved - connections / rate) * 1000)
        return self.drive(server, "orders", f"paced at {rate:.0f}/s (80% of peak)", tokens, items, delay)

    def wrk_run(
        self,
        server: LiveServer,
        kind: str,
        tokens: list[str],
        items: list,
        delay_ms: float | None,
        seconds: int,
    ) -> tuple[float, float, float, int, int]:
        script = self.work / f"{kind}.lua"
        script.write_text(lua_script(kind, tokens, items, delay_ms))
        command = [
            self.wrk, "-t", "2", "-c", str(self.args.connections), "-d", f"{seconds}s", "--latency",
            "-s", str(script), server.url,
        ]  # fmt: skip
        return parse_wrk(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    def statements(self) -> float:
        """Statements PostgreSQL executed since the last reset, not counting transaction control."""
        value = self.sql(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query !~* "
            "'^(begin|commit|rollback|select pg_stat_statements_reset|select 1$)'",
            ignore_errors=True,
        )
        return float(value or 0)

    def pgbench(self) -> float:
        nprod = ORDER_PRODUCTS
        nusers = self.ids("SELECT count(*) FROM users")[0]
        binary = self.pg.bin("pgbench") if self.pg else "pgbench"
        command = [
            binary, "-n", "-c", "16", "-j", "2", "-T", str(self.args.duration), "-f", str(HERE / "pgbench_order.sql"),
            "-D", f"nprod={nprod}", "-D", f"nusers={nusers}", self.url,
        ]  # fmt: skip
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        tps = float(re.search(r"tps = ([\d.]+)", output).group(1))  # type: ignore[union-attr]
        print(f"   pgbench order transaction, 16 clients: {tps:.1f} tps", flush=True)
        return tps

    def report(self, peak: Result, ceiling: float, small_p99: float, big: Result | None) -> dict:
        latency = next(r for r in self.results if r.mode.startswith("paced"))
        product_list = next(r for r in self.results if r.name == "product_list")
        detail = next(r for r in self.results if r.name == "order_detail")
        hooked = next(r for r in self.results if "webhook" in r.mode)
        targets = [
            ("orders with a webhook >= 0.9 x without", f"{hooked.requests_per_s / peak.requests_per_s:.2f} x",
             hooked.requests_per_s >= 0.9 * peak.requests_per_s),
            ("orders >= 0.5 x pgbench, 0 errors", f"{peak.requests_per_s / ceiling:.2f} x, {peak.errors} errors",
             peak.requests_per_s >= 0.5 * ceiling and peak.errors == 0),
            ("order p99 <= 25 ms at 80% of peak", f"{latency.p99_ms:.1f} ms", latency.p99_ms <= 25),
            ("product list >= 2 x order rate", f"{product_list.requests_per_s / peak.requests_per_s:.2f} x",
             product_list.requests_per_s >= 2 * peak.requests_per_s),
            ("order detail >= 2 x order rate", f"{detail.requests_per_s / peak.requests_per_s:.2f} x",
             detail.requests_per_s >= 2 * peak.requests_per_s),
        ]  # fmt: skip
        if big:
            targets.append(
                (f"product list p99 at {self.args.scale_products:,} <= 1.5 x at {self.args.products:,}",
                 f"{big.p99_ms / small_p99:.2f} x", big.p99_ms <= 1.5 * small_p99)
            )  # fmt: skip
        print("\n" + " ".join(sys.argv))
        print(
            f"{'path':<13} {'mode':<32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'stmts/req':>9}"
        )
        for r in self.results:
            stmts = f"{r.statements_per_request:.1f}" if r.statements_per_request is not None else "-"
            print(
                f"{r.name:<13} {r.mode:<32} {r.requests_per_s:>9.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.errors:>7} {stmts:>9}"
            )
        print(
            f"pgbench ceiling (same transaction, 16 clients): {ceiling:.1f} tps; service/ceiling {peak.requests_per_s / ceiling:.2f}"
        )
        app_ms, db_ms = self.cpu_per_order
        db = f", database {db_ms:.2f} ms ({1000 / db_ms:.0f} orders/s per core)" if db_ms else ""
        print(f"CPU per order at peak: app {app_ms:.2f} ms ({1000 / app_ms:.0f} orders/s per core){db}")
        print("\ntarget                                             measured          met")
        for name, measured, met in targets:
            print(f"{name:<50} {measured:<17} {'yes' if met else 'NO'}")
        return {
            "command": " ".join(sys.argv),
            "results": [asdict(r) for r in self.results],
            "pgbench_tps": ceiling,
            "cpu_ms_per_order": {"app": app_ms, "database": db_ms},
            "webhook": dict(
                zip(("events_owed", "delivered_during_phase", "drain_s"), self.webhook, strict=True)
            ),
            "targets": [{"target": n, "measured": m, "met": ok} for n, m, ok in targets],
        }

    def ids(self, sql: str, **params: object) -> list:
        with self.engine.connect() as c:
            return list(c.execute(text(sql), params).scalars())

    def sql(self, sql: str, ignore_errors: bool = False) -> object:
        try:
            with self.engine.begin() as c:
                result = c.execute(text(sql))
                return result.scalar() if result.returns_rows else None
        except Exception:
            if not ignore_errors:
                raise
            return None


def measure(parser: argparse.ArgumentParser, bench: type[Bench], results: str) -> None:
    """The options every bench shares, then run it and write its report."""
    parser.add_argument("--duration", type=int, default=10, help="seconds per load phase")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", default=results)
    args = parser.parse_args()
    random.seed(1)
    report = bench(args).run()
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nresults written to {args.json}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--scale-products", type=int, default=1_000_000, help="0 to skip the scale check")
    parser.add_argument(
        "--replica",
        action="store_true",
        help="instead: with and without one hot standby (reads/s, orders/s, the primary's CPU split)",
    )
    if parser.parse_known_args()[0].replica:
        from tests.bench.replica import ReplicaBench  # imports this module: not at the top

        measure(parser, ReplicaBench, "bench-replica-results.json")
        return
    measure(parser, Bench, "bench-results.json")


if __name__ == "__main__":
    main()
