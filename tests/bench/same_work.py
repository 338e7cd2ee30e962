"""Does `pgbench_order.sql` do the service's work? One order through the service's own use case and one
pgbench transaction on the same migrated database, each with pg_stat_statements reset before: prints the
statements each ran and the rows each wrote per table (pg_stat_user_tables), side by side.

    .venv/bin/python -m tests.bench.same_work
"""

import subprocess
import sys
import time
from pathlib import Path

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import migrate
from adapters.sql.unit_of_work import sync_unit_of_work
from application.auth import as_caller
from application.orders import OrderItem, PlaceOrder, place_order
from application.ports import TokenClaims
from entrypoints.api.event_schemas import present
from tests.integration.helpers import admin, clock, customer, product
from tests.support.postgres import ThrowawayPostgres

HERE = Path(__file__).parent
_WRITES = """SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables
WHERE n_tup_ins + n_tup_upd > 0 ORDER BY relname"""


def main() -> None:
    pg = ThrowawayPostgres(options=("-c shared_preload_libraries=pg_stat_statements",))
    pg.start()
    try:
        url = pg.create_database("same_work")
        engine = make_sync_engine(url)
        migrate(url)
        boss = admin(engine)
        ann = customer(engine, "ann@shop.test")
        items = [product(engine, boss, f"P-{i}", stock=100).id for i in range(2)]
        pg.psql("CREATE EXTENSION pg_stat_statements", "same_work")

        def measured(label: str, run) -> None:  # type: ignore[no-untyped-def]
            engine.dispose()  # a backend publishes its statistics when it exits (or idle, 10 s later)
            before = _writes(pg)
            pg.psql("SELECT pg_stat_statements_reset()", "same_work")
            run()
            engine.dispose()
            print(f"== {label}")
            print(pg.psql("SELECT calls, query FROM pg_stat_statements "
                          "WHERE query NOT LIKE '%pg_stat%' ORDER BY query", "same_work"))  # fmt: skip
            print("-- rows written (table|inserted|updated):", _diff(before, _writes(pg)))

        cmd = PlaceOrder((OrderItem(items[0], 1), OrderItem(items[1], 1)))
        measured(
            "the service (place_order as the API runs it)",
            lambda: as_caller(
                sync_unit_of_work(engine, present),
                TokenClaims(ann.id, 1),  # type: ignore[arg-type]
                lambda uow, actor: place_order(cmd, uow=uow, actor=actor, clock=clock),
            ),
        )
        first = min(items)
        pgbench = [pg.bin("pgbench"), "-n", "-t", "1", "-f", str(HERE / "pgbench_order.sql"),
                   "-D", f"nprod={first + 1}", "-D", f"nusers={ann.id}", url]  # fmt: skip
        measured("pgbench_order.sql", lambda: subprocess.run(pgbench, check=True, capture_output=True))
        print("-- the orders' outbox rows (type, payload bytes, payload):")
        print(pg.psql("SELECT type, octet_length(payload::text), payload FROM events "
                      "WHERE type LIKE 'order%' ORDER BY id", "same_work"))  # fmt: skip
        engine.dispose()
    finally:
        pg.destroy()


def _writes(pg: ThrowawayPostgres) -> dict[str, tuple[int, int]]:
    time.sleep(1.5)  # and the exit takes a moment
    rows = pg.psql(_WRITES, "same_work").splitlines()
    return {r.split("|")[0]: tuple(int(x) for x in r.split("|")[1:]) for r in rows}  # type: ignore[misc]


def _diff(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> str:
    moved = {
        name: (ins - before.get(name, (0, 0))[0], upd - before.get(name, (0, 0))[1])
        for name, (ins, upd) in after.items()
    }
    return " ".join(f"{n}|{i}|{u}" for n, (i, u) in sorted(moved.items()) if i or u)


if __name__ == "__main__":
    sys.exit(main())
