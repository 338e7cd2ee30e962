"""`python -m tests.bench.run --replica`: the same service with and without one hot standby.

Starts the bench's PostgreSQL and a standby of it (`pg_basebackup -R`), seeds, then for each setup (no
replica; the standby in SHOP_DATABASE_REPLICA_URLS) runs a closed-loop product-list phase and a mixed phase
(orders and anonymous product lists at once, half the connections each), and prints reads/s and orders/s,
the CPU each database spent, and where the primary's statement time went (orders vs reads, from
pg_stat_statements). `make bench` is unchanged: it never starts a standby."""

import subprocess
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from adapters.sql.migrate import migrate
from tests.bench.cpu import cpu_seconds
from tests.bench.run import Bench, lua_script, parse_wrk
from tests.support.postgres import ThrowawayPostgres
from tests.support.server import LiveServer
from tests.support.waiting import wait_for

# Statement families on the primary, by pg_stat_statements' normalised text.
FAMILIES = """
SELECT CASE
    WHEN query ~* 'pg_current_wal' THEN 'read-your-writes'
    WHEN query ~* '^\\s*(insert|update|delete|with)' OR query ~* 'for update' OR query ~* 'from users'
        OR query ~* 'idempotency' THEN 'orders'
    ELSE 'reads' END AS family,
  sum(total_exec_time), sum(calls)
FROM pg_stat_statements
WHERE query !~* '^(begin|commit|rollback|select pg_stat_statements_reset|select 1$)'
GROUP BY 1 ORDER BY 1
"""


@dataclass
class Setup:
    name: str
    reads_alone: float = 0.0  # product lists/s, closed loop
    orders: float = 0.0  # orders/s, mixed phase
    reads: float = 0.0  # product lists/s, mixed phase
    errors: int = 0
    primary_cpu_s: float = 0.0  # over the mixed phase
    standby_cpu_s: float = 0.0
    split_ms: dict[str, float] | None = None  # the primary's statement time by family, mixed phase


class ReplicaBench(Bench):
    def run(self) -> dict:
        if self.pg is None:
            raise SystemExit("--replica starts its own primary and standby: unset SHOP_BENCH_DATABASE_URL")
        print(f"== database {self.url.split('@')[-1]}; migrating and seeding", flush=True)
        migrate(self.url)
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.seed(self.args.users, self.args.products)
        standby = self.pg.standby()
        try:
            standby_url = standby.url(self.url.rsplit("/", 1)[1])
            setups = [
                self.measure("no replica", {}, standby),
                self.measure("one standby", {"SHOP_DATABASE_REPLICA_URLS": standby_url}, standby),
            ]
        finally:
            standby.destroy()
            self.pg.drop_slot()
        report = self.print_report(setups)
        self.engine.dispose()
        self.pg.destroy()
        return report

    def measure(self, name: str, env: dict[str, str], standby: ThrowawayPostgres) -> Setup:
        setup = Setup(name)
        server = LiveServer(self.url, workers=2, jobs=False, **env)
        try:
            tokens = self.login(server)
            products = self.ids("SELECT id FROM products ORDER BY id LIMIT 1000")
            categories = self.ids("SELECT id FROM categories ORDER BY id")
            if env:  # the standby seen well by both workers before measuring
                wait_for(lambda: self.standby_ok(server), "the service to use the standby", timeout=60)
            setup.reads_alone = self.drive(
                server, "product_list", f"closed loop, {name}", [], categories
            ).requests_per_s
            self.sql("SELECT pg_stat_statements_reset()")
            primary, replica = self.database_cpu(), self.server_cpu(standby)
            orders, reads = self.at_once(server, tokens, products, categories)
            setup.primary_cpu_s = self.database_cpu() - primary
            setup.standby_cpu_s = self.server_cpu(standby) - replica
            setup.orders, setup.reads = orders[0], reads[0]
            setup.errors = orders[3] + reads[3]
            with self.engine.connect() as c:
                setup.split_ms = {family: float(ms) for family, ms, _ in c.execute(text(FAMILIES))}
        finally:
            server.stop()
        print(
            f"   {name}: mixed {setup.orders:.1f} orders/s + {setup.reads:.1f} reads/s, "
            f"primary CPU {setup.primary_cpu_s:.1f} s, standby CPU {setup.standby_cpu_s:.1f} s",
            flush=True,
        )
        return setup

    def standby_ok(self, server: LiveServer) -> bool:
        ready = httpx.get(f"{server.url}/health/ready", timeout=5).json()
        return all(r["state"] == "ok" for r in ready.get("replicas", []))

    def server_cpu(self, server: ThrowawayPostgres) -> float:
        return cpu_seconds(int((server.pgdata / "postmaster.pid").read_text().split()[0]))

    def at_once(
        self, server: LiveServer, tokens: list[str], products: list, categories: list
    ) -> tuple[tuple, tuple]:
        """Orders and product lists together, half the connections each: (rps, p50, p99, errors, n) each."""
        half = max(1, self.args.connections // 2)
        runs = []
        for kind, toks, items in (("orders", tokens, products), ("product_list", [], categories)):
            script = self.work / f"mixed-{kind}.lua"
            script.write_text(lua_script(kind, toks, items, None))
            command = [
                self.wrk, "-t", "1", "-c", str(half), "-d", f"{self.args.duration}s", "--latency",
                "-s", str(script), server.url,
            ]  # fmt: skip
            runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
        outputs = [run.communicate()[0] for run in runs]
        return parse_wrk(outputs[0]), parse_wrk(outputs[1])

    def print_report(self, setups: list[Setup]) -> dict:
        columns = (
            "reads/s alone",
            "orders/s mixed",
            "reads/s mixed",
            "errors",
            "primary CPU s",
            "standby CPU s",
        )
        print(
            f"\n{'setup':<12} " + " ".join(f"{c:>14}" for c in columns) + "  primary statement ms by family"
        )
        for s in setups:
            split = ", ".join(f"{k} {v:.0f}" for k, v in (s.split_ms or {}).items())
            print(
                f"{s.name:<12} {s.reads_alone:>14.1f} {s.orders:>14.1f} {s.reads:>14.1f} {s.errors:>14} "
                f"{s.primary_cpu_s:>14.1f} {s.standby_cpu_s:>14.1f}  {split}"
            )
        return {"setups": [vars(s) for s in setups], "duration_s": self.args.duration}
