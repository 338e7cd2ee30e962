"""Read replicas without a database: WAL positions, how a replica's state and lag are judged, which replica
a read goes to, the fall back to the primary, where the Caller sends each use case, and the read-your-writes
header and cookie (the real standby: tests/e2e/test_replicas.py)."""

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import InternalError, OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.settings import Settings
from adapters.sql.replicas import Replica, ReplicaReads, ReplicaSet, ReplicaState, describe, judge
from adapters.sql.wal import POSITION, ReadPosition, format_lsn, parse_lsn, record_commit
from application.errors import NotFound, ServiceUnavailable
from entrypoints.api.read_after import ReadYourWrites, cookie_lifetime
from entrypoints.use_cases import UseCases, reads_from_replica

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0/0", 0),
        ("0/1A2B3C4", 0x1A2B3C4),
        ("16/B374D848", 0x16 << 32 | 0xB374D848),
        ("ff/ffffffff", 2**40 - 1),
    ],
)
def test_wal_positions_read_and_written_as_postgresql_shows_them(text: str, value: int) -> None:
    assert parse_lsn(text) == value
    assert format_lsn(value) == text.upper()


@pytest.mark.parametrize("text", ["", "0", "0/", "/1", "0/1G", "123456789/0", "0/123456789", "1/2/3", "-1/0"])
def test_anything_else_is_no_position(text: str) -> None:
    assert parse_lsn(text) is None


def test_a_commit_is_recorded_in_the_request_position_only_forward() -> None:
    record_commit("0/10")  # outside a request: nowhere to record, nothing happens
    position = ReadPosition()
    token = POSITION.set(position)
    try:
        record_commit("0/20")
        record_commit("0/18")
        record_commit("not a position")
        assert position.committed_at == 0x20
    finally:
        POSITION.reset(token)


def test_a_standby_caught_up_has_no_lag_however_old_its_last_commit() -> None:
    assert judge(100, 100, 3600.0, 5.0) == (ReplicaState.OK, 0.0)
    assert judge(100, 101, None, 5.0) == (ReplicaState.OK, 0.0)


def test_behind_it_lags_by_the_age_of_its_last_replayed_commit() -> None:
    assert judge(100, 99, 5.0, 5.0) == (ReplicaState.OK, 5.0)
    assert judge(100, 99, 5.01, 5.0) == (ReplicaState.LAGGING, 5.01)
    assert judge(100, 99, -0.2, 5.0) == (ReplicaState.OK, 0.0)  # clocks a little apart
    assert judge(100, 99, None, 5.0) == (ReplicaState.LAGGING, None)


def test_without_the_primary_position_the_age_alone_decides() -> None:
    assert judge(None, 99, 4.0, 5.0) == (ReplicaState.OK, 4.0)
    assert judge(None, 99, 6.0, 5.0) == (ReplicaState.LAGGING, 6.0)


def test_a_server_that_replays_nothing_is_not_a_standby() -> None:
    assert judge(100, None, None, 5.0) == (ReplicaState.NOT_A_STANDBY, None)


def test_a_replica_is_named_without_its_credentials() -> None:
    assert describe("postgresql://shop:s3cret@db-2.internal:6432/shop") == "db-2.internal:6432/shop"
    assert describe("postgresql+psycopg://u:p@host/db") == "host:5432/db"


class Runner:
    """A UnitOfWorkRunner that runs work with a marker for a unit of work, or fails as told."""

    def __init__(self, name: str, fail: BaseException | None = None) -> None:
        self.name = name
        self.fail = fail
        self.runs = 0

    async def run(self, work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        self.runs += 1
        if self.fail is not None:
            raise self.fail
        return work(self.name, *args, **kwargs)


def replica(
    number: int, state: ReplicaState = ReplicaState.OK, replayed: int | None = 100, **kw: Any
) -> Replica:
    return Replica(
        f"db-{number}:5432/shop",
        f"replica-{number}",
        Runner(f"replica-{number}", **kw),
        None,
        (),
        state,
        replayed,
    )  # type: ignore[arg-type]


def replica_set(*replicas: Replica) -> ReplicaSet:
    # Checked "now" by a clock that never moves: no background check starts.
    return ReplicaSet(
        None, list(replicas), max_lag=5.0, interval=1.0, timeout=1.0, clock=lambda: 0.0, checked_at=0.0
    )  # type: ignore[arg-type]


def choose(replicas: ReplicaSet, read_after: int | None) -> Replica | None:
    async def run() -> Replica | None:
        return replicas.choose(read_after)

    return asyncio.run(run())


def test_reads_go_round_the_replicas_that_are_well() -> None:
    one, two, down = replica(0), replica(1), replica(2, ReplicaState.UNREACHABLE)
    replicas = replica_set(one, down, two)
    assert [choose(replicas, None) for _ in range(4)] == [one, two, one, two]


def test_a_read_after_a_write_goes_only_where_the_write_was_replayed() -> None:
    behind, ahead = replica(0, replayed=99), replica(1, replayed=150)
    replicas = replica_set(behind, ahead)
    assert {choose(replicas, 100) for _ in range(3)} == {ahead}
    assert choose(replicas, 150) is ahead
    assert choose(replicas, 151) is None
    assert choose(replica_set(replica(0, replayed=None)), 1) is None


@pytest.mark.parametrize(
    "state",
    [ReplicaState.UNKNOWN, ReplicaState.LAGGING, ReplicaState.UNREACHABLE, ReplicaState.NOT_A_STANDBY],
)
def test_no_replica_that_is_not_ok_serves(state: ReplicaState) -> None:
    assert choose(replica_set(replica(0, state)), None) is None


def read(reads: ReplicaReads, read_after: int | None = None) -> str:
    async def run() -> str:
        token = POSITION.set(ReadPosition(read_after=read_after))
        try:
            return await reads.run(lambda uow: uow)
        finally:
            POSITION.reset(token)

    return asyncio.run(run())


def counted(target: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("shop_replica_routed_reads_total", {"target": target}) or 0.0


def test_a_replica_serves_when_it_may_and_the_primary_otherwise() -> None:
    primary = Runner("primary")
    reads = ReplicaReads(replica_set(replica(0, replayed=100)), primary)
    before = counted("replica-0"), counted("primary")
    assert read(reads) == "replica-0"
    assert read(reads, read_after=100) == "replica-0"
    assert read(reads, read_after=101) == "primary"
    assert (counted("replica-0"), counted("primary")) == (before[0] + 2, before[1] + 1)


@pytest.mark.parametrize(
    "error",
    [
        ServiceUnavailable("the database is unavailable"),
        OperationalError("SELECT 1", {}, Exception("connection refused")),
    ],
)
def test_a_replica_failing_during_a_read_hands_it_to_the_primary_and_is_skipped(error: BaseException) -> None:
    primary = Runner("primary")
    failing = replica(0, fail=error)
    reads = ReplicaReads(replica_set(failing), primary)
    assert read(reads) == "primary"
    assert failing.state is ReplicaState.UNREACHABLE and failing.problem
    assert read(reads) == "primary" and failing.runner.runs == 1  # type: ignore[attr-defined]


def test_a_write_on_a_replica_is_a_bug_raised_not_hidden() -> None:
    class ReadOnly(Exception):
        sqlstate = "25006"

    primary = Runner("primary")
    reads = ReplicaReads(replica_set(replica(0, fail=InternalError("INSERT", {}, ReadOnly()))), primary)
    with pytest.raises(InternalError):
        read(reads)
    assert primary.runs == 0


def test_what_the_work_itself_refuses_is_the_answer() -> None:
    primary = Runner("primary")
    reads = ReplicaReads(replica_set(replica(0, fail=NotFound("product", 1))), primary)
    with pytest.raises(NotFound):
        read(reads)
    assert primary.runs == 0


MARKED = {
    "list_categories",
    "get_category",
    "category_stats",
    "list_category_stats",
    "list_products",
    "list_products_expanded",
    "get_product",
    "get_product_expanded",
    "stock_movements",
    "list_orders",
    "order_stats",
    "sales_report",
    "customer_stats",
    "top_spenders",
    "list_users",
    "user_stats",
    "read_events",
}


def test_the_replica_readable_use_cases_are_these_and_the_docs_list_them() -> None:
    marked = {name for name in dir(UseCases) if reads_from_replica(getattr(UseCases, name))}
    assert marked == MARKED
    scaling = (ROOT / "docs" / "scaling.md").read_text()
    listed = set(
        re.findall(r"`(\w+)`", scaling.split("<!-- replica reads -->")[1].split("<!-- /replica reads -->")[0])
    )
    assert listed == MARKED


def position_app(commit: int | None) -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        position = POSITION.get()
        assert position is not None
        if commit is not None:
            position.committed_at = commit
        return JSONResponse({"read_after": position.read_after})

    return Starlette(routes=[Route("/", endpoint, methods=["GET", "POST"])])


def ask(app: Any, **kw: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=ReadYourWrites(app, cookie_max_age=11))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http:
            return await http.get("/", **kw)

    return asyncio.run(run())


def test_a_write_answers_its_position_as_header_and_cookie() -> None:
    answer = ask(position_app(0x1A2B3C4))
    assert answer.headers["Shop-Read-After"] == "0/1A2B3C4"
    assert answer.headers["set-cookie"] == (
        "shop_read_after=0/1A2B3C4; Max-Age=11; Path=/; HttpOnly; SameSite=Lax"
    )
    quiet = ask(position_app(None))
    assert "Shop-Read-After" not in quiet.headers and "set-cookie" not in quiet.headers


def test_the_position_to_read_after_comes_from_the_header_or_the_cookie_whichever_is_later() -> None:
    app = position_app(None)
    assert ask(app).json() == {"read_after": None}
    assert ask(app, headers={"Shop-Read-After": "0/20"}).json() == {"read_after": 0x20}
    assert ask(app, headers={"Cookie": "a=b; shop_read_after=0/30"}).json() == {"read_after": 0x30}
    both = {"Shop-Read-After": "0/40", "Cookie": "shop_read_after=0/30"}
    assert ask(app, headers=both).json() == {"read_after": 0x40}
    assert ask(app, headers={"Cookie": "shop_read_after=garbage"}).json() == {"read_after": None}


def test_a_malformed_header_is_a_clear_400_and_reaches_nothing() -> None:
    reached = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)

    answer = ask(app, headers={"Shop-Read-After": "yesterday"})
    assert answer.status_code == 400 and reached == []
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "/problems/invalid-read-after"
    assert "Shop-Read-After must be a WAL position" in answer.json()["detail"]


def test_a_position_is_kept_until_every_replica_still_used_has_replayed_it() -> None:
    assert cookie_lifetime(5.0, 1.0) == 11
    assert cookie_lifetime(0.3, 0.2) == 1


def test_replica_urls_are_a_comma_separated_list_of_postgresql_standbys() -> None:
    settings = Settings(
        database_url="postgresql://db-1/shop",
        database_replica_urls="postgresql://db-2/shop, postgresql://db-3/shop",  # type: ignore[arg-type]
    )
    assert settings.database_replica_urls == ["postgresql://db-2/shop", "postgresql://db-3/shop"]
    assert (settings.replica_max_lag, settings.replica_check_interval) == (5.0, 1.0)
    assert Settings().database_replica_urls == []
    with pytest.raises(ValueError, match="streaming replicas of a PostgreSQL"):
        Settings(database_replica_urls="postgresql://db-2/shop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(database_url="postgresql://db-1/shop", replica_max_lag=0)


class Probe:
    """An AsyncEngine's `connect()` for the checks: answers a row, fails, or never answers."""

    def __init__(self, row: tuple | None = None, fail: Exception | None = None, hang: bool = False) -> None:
        self.row, self.fail, self.hang, self.asked = row, fail, hang, 0

    def connect(self) -> "Probe":
        return self

    async def __aenter__(self) -> "Probe":
        self.asked += 1
        if self.fail is not None:
            raise self.fail
        if self.hang:
            await asyncio.Event().wait()
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(self, _statement: object) -> "Probe":
        return self

    def scalar_one(self) -> object:
        assert self.row is not None
        return self.row[0]

    def one(self) -> tuple:
        assert self.row is not None
        return self.row


def checked(primary: Probe, *probes: Probe, max_lag: float = 5.0) -> list[Replica]:
    replicas = [
        Replica(f"db-{n}:5432/shop", f"replica-{n}", Runner(f"replica-{n}"), p)  # type: ignore[arg-type]
        for n, p in enumerate(probes)
    ]
    asyncio.run(ReplicaSet(primary, replicas, max_lag=max_lag, interval=1.0, timeout=0.2).check())  # type: ignore[arg-type]
    return replicas


def test_a_check_reads_each_replica_against_the_primary_position() -> None:
    caught_up, behind, far_behind, primary_itself = checked(
        Probe(("0/100",)),
        Probe((True, "0/100", 3600.0)),
        Probe((True, "0/F0", 2.5)),
        Probe((True, "0/F0", 9.0)),
        Probe((False, None, None)),
    )
    assert (caught_up.state, caught_up.lag, caught_up.replayed) == (ReplicaState.OK, 0.0, 0x100)
    assert (behind.state, behind.lag, behind.replayed) == (ReplicaState.OK, 2.5, 0xF0)
    assert (far_behind.state, far_behind.lag) == (ReplicaState.LAGGING, 9.0)
    assert (primary_itself.state, primary_itself.replayed) == (ReplicaState.NOT_A_STANDBY, None)


def test_a_replica_that_fails_or_does_not_answer_in_time_is_unreachable() -> None:
    refused, silent = checked(Probe(("0/100",)), Probe(fail=OSError("connection refused")), Probe(hang=True))
    assert (refused.state, refused.lag, refused.problem) == (
        ReplicaState.UNREACHABLE,
        None,
        "connection refused",
    )
    assert (silent.state, silent.problem) == (ReplicaState.UNREACHABLE, "TimeoutError")


def test_without_the_primary_position_a_replica_is_judged_by_its_replay_age() -> None:
    (replica,) = checked(Probe(fail=OSError("primary down")), Probe((True, "0/F0", 1.0)))
    assert (replica.state, replica.lag) == (ReplicaState.OK, 1.0)


def test_choosing_starts_a_check_when_one_is_due_and_not_before() -> None:
    now = [0.0]
    probe = Probe((True, "0/100", 0.0))
    replicas = ReplicaSet(
        Probe(("0/100",)),  # type: ignore[arg-type]
        [Replica("db-0:5432/shop", "replica-0", Runner("replica-0"), probe)],  # type: ignore[arg-type]
        max_lag=5.0,
        interval=1.0,
        timeout=0.2,
        clock=lambda: now[0],
    )

    async def scenario() -> list[Replica | None]:
        first = replicas.choose(None)  # nothing known yet: the primary, and a check starts
        await replicas._task  # type: ignore[misc]
        second = replicas.choose(None)
        now[0] = 0.5
        replicas.choose(None)  # not due: no check
        now[0] = 1.0
        replicas.choose(None)  # due
        await replicas._task  # type: ignore[misc]
        return [first, second]

    first, second = asyncio.run(scenario())
    assert first is None and second is replicas.replicas[0]
    assert probe.asked == 2


def test_a_settings_error_never_shows_a_replica_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DATABASE_REPLICA_URLS", "postgresql://shop:topsecret-7@db-2/shop")
    with pytest.raises(ValueError) as refused:
        Settings()
    assert "streaming replicas" in str(refused.value) and "topsecret-7" not in str(refused.value)
