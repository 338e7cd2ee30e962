"""The sales totals kept by migration 0007's triggers, on SQLite and PostgreSQL: recounted from the orders
after a mixed history; each report a fixed number of statements; on PostgreSQL, served by the kept tables'
indexes, `orders` read only on its created_at index (the partial edges)."""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Engine, func, make_url, select, text

from adapters.sql.engine import make_sync_engine
from adapters.sql.migrate import alembic_config
from adapters.sql.tables import (
    order_sales,
    order_totals,
    orders,
    sales_window,
    user_day_sales,
    user_sales,
    users,
)
from adapters.sql.unit_of_work import sync_unit_of_work
from application.auth import as_caller
from application.orders import (
    OrderItem,
    PlaceOrder,
    cancel_order,
    change_order_status,
    expire_pending_orders,
    place_order,
)
from application.payments import RecordPayment, RefundPayment, record_payment, refund_payment
from application.ports import TimeRange, TokenClaims
from application.sales import SalesQuery, customer_stats, sales_report, top_spenders
from domain.orders import OrderStatus
from domain.payments import USD, MoneyTotals, PaymentAction
from domain.periods import Grouping, last_days
from entrypoints.api.event_schemas import present
from tests.doubles.clock import FixedClock
from tests.integration.helpers import admin, count_statements, customer, product

SPANS = (900, 3600, 86400)
START = datetime(2026, 3, 28, 22, 50, 0, 250, tzinfo=UTC)
DAY = timedelta(days=1, seconds=1)
CLOCK = FixedClock()


def uow(engine: Engine):
    return sync_unit_of_work(engine, present)


@pytest.fixture
def history(engine: Engine):
    """Orders every ~7 minutes across a Berlin DST night by two customers; some confirmed, shipped,
    cancelled by the customer or an admin, expired; one moved in time; two inserted in one statement."""
    boss = admin(engine)
    ann, bob = customer(engine, "ann@shop.test"), customer(engine, "bob@shop.test")
    items = [product(engine, boss, f"P-{i}", stock=1000, price=f"{i + 1}.25") for i in range(3)]
    clock = FixedClock(START)
    placed = []
    for i in range(24):
        clock.at = START + timedelta(minutes=7 * i, microseconds=i)
        lines = (OrderItem(items[i % 3].id, 1 + i % 2), OrderItem(items[(i + 1) % 3].id, 1))
        buyer = ann if i % 3 else bob
        placed.append(place_order(PlaceOrder(lines), uow=uow(engine), actor=buyer, clock=clock))
    for i, order in enumerate(placed):
        buyer = ann if i % 3 else bob
        if i % 4 == 1:
            change_order_status(order.id, OrderStatus.CONFIRMED, uow=uow(engine), actor=boss, clock=clock)
        if i % 8 == 1:
            change_order_status(order.id, OrderStatus.PROCESSING, uow=uow(engine), actor=boss, clock=clock)
            change_order_status(order.id, OrderStatus.SHIPPED, uow=uow(engine), actor=boss, clock=clock)
        if i % 5 == 2 and i % 8 != 1:
            cancel_order(order.id, uow=uow(engine), actor=buyer, clock=clock)
        if i % 7 == 3 and i % 8 != 1 and i % 5 != 2:
            change_order_status(order.id, OrderStatus.CANCELLED, uow=uow(engine), actor=boss, clock=clock)
    clock.at = START + timedelta(days=1)
    expired = expire_pending_orders(timedelta(hours=20), uow=uow(engine), clock=clock, batch=5)
    assert expired == 5
    pay(engine, boss, clock, placed[1], "+0", "1.00")  # shipped: a refund of part of its value
    pay(engine, boss, clock, placed[5], "+2.00", "2.00", "0.50")  # the overpayment given back, then 0.50
    pay(engine, boss, clock, placed[9], "+0", "1.00", "remaining")  # refunded in full, in two
    pay(engine, boss, clock, placed[13], "-1.00")  # paid in part, nothing refunded: no kept row moves
    with engine.begin() as connection:
        moved = placed[4].id
        connection.execute(
            orders.update().where(orders.c.id == moved).values(created_at=START - timedelta(days=3))
        )
        row = {"user_id": ann.id, "status": "delivered", "total_amount": Decimal("3.10"), "version": 1}
        raw = [
            row | {"order_number": f"RAW-{n}", "created_at": START + timedelta(hours=n), "updated_at": START}
            for n in (5, 6)
        ]
        connection.execute(orders.insert(), raw)
        connection.execute(orders.delete().where(orders.c.order_number == "RAW-6"))
    return boss, ann, bob


def pay(engine: Engine, boss, clock: FixedClock, order, extra: str, *refunds: str) -> None:
    """A charge of the order's total plus `extra`, then its refunds ("remaining": what is left of it)."""
    amount = order.total_amount + Decimal(extra)
    cmd = RecordPayment("stripe", f"ch_{order.id}", amount, PaymentAction.CHARGE)
    payment = record_payment(order.id, cmd, uow=uow(engine), actor=boss, clock=clock, currency=USD).payment
    left = amount
    for n, refund in enumerate(refunds):
        value = left if refund == "remaining" else Decimal(refund)
        asked = RefundPayment(value, "returned", f"re_{order.id}_{n}")
        refund_payment(payment.id, asked, uow=uow(engine), actor=boss, clock=clock, currency=USD)
        left -= value


def epoch(moment: datetime) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def test_kept_totals_equal_a_recount_of_the_orders(engine: Engine, history) -> None:
    assert_kept_totals_are_a_recount(engine, orders_count=25)  # 24 placed, one of the two inserted left
    with engine.connect() as connection:
        statuses = set(connection.execute(select(orders.c.status)).scalars())
    assert statuses >= {"pending", "shipped", "cancelled", "delivered"}


def assert_kept_totals_are_a_recount(engine: Engine, orders_count: int, *, net: bool = True) -> None:
    """Every kept total equals a count from the orders: revenue net of refunds (migration 0017), or gross
    (`net=False`: the schema before it, without the refunded revenue columns)."""
    more = REFUNDED if net else ()

    def kept(table):  # type: ignore[no-untyped-def]
        return select(*[c for c in table.c if net or c.name not in REFUNDED])

    with engine.connect() as connection:
        rows = connection.execute(
            select(
                orders.c.id, orders.c.user_id, orders.c.status, orders.c.created_at, orders.c.total_amount,
                orders.c.captured_cents, orders.c.refunded_cents,
            )
        ).all()  # fmt: skip
        kept_statuses = connection.execute(kept(order_totals)).all()
        kept_buckets = connection.execute(kept(order_sales)).all()
        kept_users = connection.execute(select(user_sales)).all()
        kept_days = connection.execute(select(user_day_sales)).all()
        first_day = connection.execute(select(sales_window.c.first_day)).scalar_one()
    statuses = [s.value for s in OrderStatus]
    buckets: dict[tuple[int, int, int], Counter] = defaultdict(Counter)
    users: dict[int, Counter] = defaultdict(Counter)
    times: dict[int, list[int]] = defaultdict(list)
    days: dict[tuple[int, int], Counter] = defaultdict(Counter)
    recent: dict[int, Counter] = defaultdict(Counter)
    by_status: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for order_id, user_id, status, created_at, total, captured, refunded in rows:
        money = MoneyTotals(Decimal(captured) / 100, Decimal(captured) / 100, Decimal(refunded) / 100)
        lost = money.refunded_revenue(Decimal(total)) if net else Decimal(0)
        revenue = Decimal(total) - lost
        by_status[status, order_id % 16].update(
            {"orders": 1, "revenue_cents": int(revenue * 100), "refunded_revenue_cents": int(lost * 100)}
        )  # every status, cancelled too (the statistics leave it out)
        cents, refunded_cents = (int(revenue * 100), int(lost * 100)) if status != "cancelled" else (0, 0)
        for span in SPANS:
            bucket = (span, epoch(created_at) // span * span, order_id % 16)
            buckets[bucket].update(
                {status: 1, "revenue_cents": cents, "refunded_revenue_cents": refunded_cents}
            )
        users[user_id].update({status: 1, "revenue_cents": cents})
        times[user_id].append(epoch(created_at))
        if status != "cancelled":
            days[epoch(created_at) // 86400 * 86400, user_id].update({"orders": 1, "revenue_cents": cents})
            if epoch(created_at) >= first_day:
                recent[user_id].update({"orders": 1, "revenue_cents": cents})
    fields = [*statuses, "revenue_cents"]

    def figures(source, more: tuple[str, ...] = ()) -> dict[str, int]:
        return {k: int(source[k]) for k in [*fields, *more]}

    assert {(r.span, r.start, r.slot): figures(r._mapping, more) for r in kept_buckets if any(r[3:])} == {
        k: figures(v, more) for k, v in buckets.items()
    }
    totals = ["orders", "revenue_cents", *more]
    assert {(r.status, r.slot): [r._mapping[k] for k in totals] for r in kept_statuses if r.orders} == {
        k: [v[f] for f in totals] for k, v in by_status.items()
    }
    assert {
        r.user_id: (figures(r._mapping), epoch(r.first_order_at), epoch(r.last_order_at)) for r in kept_users
    } == {u: (figures(v), min(times[u]), max(times[u])) for u, v in users.items()}
    assert {(r.day, r.user_id): (r.orders, r.revenue_cents) for r in kept_days if r.orders} == {
        k: (v["orders"], v["revenue_cents"]) for k, v in days.items()
    }
    assert {r.user_id: (r.recent_orders, r.recent_revenue_cents) for r in kept_users if r.recent_orders} == {
        u: (v["orders"], v["revenue_cents"]) for u, v in recent.items()
    }
    assert len(rows) == orders_count


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_migration_backfills_from_existing_orders(dialect: str, tmp_path, request) -> None:
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'backfill.db'}"
    else:
        url = fresh_postgres_database(request, "shop_backfill")
    config = alembic_config(url)
    command.upgrade(config, "0006_events")
    engine = make_sync_engine(url)
    with engine.begin() as connection:
        stamps = {"password_hash": "h", "created_at": START, "updated_at": START}
        connection.execute(users.insert(), [{"email": f"{n}@x.test", "name": n, **stamps} for n in "ab"])
        statuses = [s.value for s in OrderStatus]
        connection.execute(
            orders.insert(),
            [
                {"order_number": f"OLD-{i}", "user_id": 1 + i % 2, "status": statuses[i % 6], "version": 1,
                 "total_amount": Decimal(f"{i}.{i % 10}5"), "updated_at": START,
                 "created_at": START + timedelta(minutes=41 * i, microseconds=i)}
                for i in range(30)
            ],
        )  # fmt: skip
        now = datetime.now(UTC)  # the last 30 days' spend is backfilled too: orders inside and outside them
        connection.execute(
            orders.insert(),
            [
                {"order_number": f"NEW-{age}", "user_id": 1 + age % 2, "status": statuses[age % 6],
                 "total_amount": Decimal(f"{age}.75"), "version": 1, "updated_at": now,
                 "created_at": now - timedelta(days=age)}
                for age in AGES
            ],
        )  # fmt: skip
    command.upgrade(config, "head")
    with engine.connect() as connection:
        backfilled = connection.execute(select(func.sum(user_sales.c.recent_orders))).scalar_one()
    assert backfilled == sum(1 for age in AGES if age < 30 and statuses[age % 6] != "cancelled") == 4
    assert_kept_totals_are_a_recount(engine, orders_count=37)
    engine.dispose()


REFUNDED = ("refunded_revenue_cents",)
AGES = (0, 1, 5, 8, 28, 31, 45)  # days before the migration; age 5 is a cancelled order


def fresh_postgres_database(request: pytest.FixtureRequest, name: str) -> str:
    """An empty database on the throwaway server, or beside the one SHOP_TEST_DATABASE_URL names."""
    server = request.getfixturevalue("postgres_server")
    if server is not None:
        return str(server.create_database(name))
    shared = make_url(request.getfixturevalue("postgres_url"))
    admin = make_sync_engine(shared.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return shared.set(database=name).render_as_string(hide_password=False)


def as_request(engine: Engine, user_id: int, work):
    return as_caller(uow(engine), TokenClaims(user_id, 1), work)


def test_each_report_is_a_fixed_number_of_statements(engine: Engine, history) -> None:
    boss, ann, _ = history
    berlin = SalesQuery(
        START - timedelta(days=5), START + timedelta(days=30, seconds=7), Grouping.DAY, "Europe/Berlin"
    )
    reports = [
        (lambda u, a: sales_report(berlin, uow=u, actor=a, clock=FixedClock()), boss.id),
        (lambda u, a: sales_report(SalesQuery(START), uow=u, actor=a, clock=FixedClock()), boss.id),
        (lambda u, a: top_spenders(10, uow=u, actor=a, clock=FixedClock()), boss.id),
        (lambda u, a: top_spenders(10, START - timedelta(hours=7), START + DAY, uow=u, actor=a, clock=CLOCK),
         boss.id),
    ]  # fmt: skip
    for work, user_id in reports:
        with count_statements(engine) as counter:
            as_request(engine, user_id, work)
        assert counter.count == 2, counter.statements  # the caller, the report
        assert not counter.opened_a_transaction
    with count_statements(engine) as counter:
        as_request(engine, ann.id, lambda u, a: customer_stats(ann.id, uow=u, actor=a))
    assert counter.count == 3, counter.statements  # the caller, the customer, their totals
    for last in (1, 30):  # the window kept, then the one it holds or the days' totals
        with count_statements(engine) as counter:
            as_request(
                engine, boss.id, lambda u, a, n=last: top_spenders(10, days=n, uow=u, actor=a, clock=CLOCK)
            )
        assert counter.count == 3, counter.statements  # the caller, the window, the report


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # plans are PostgreSQL's
def test_reports_read_the_kept_tables_by_their_indexes(engine: Engine, history) -> None:
    from tests.integration.test_query_plans import plans

    _, ann, _ = history
    reads = {
        "berlin days": lambda u: u.orders.sales(
            [
                TimeRange(START + timedelta(hours=h, seconds=1), START + timedelta(hours=h + 24))
                for h in range(0, 72, 24)
            ]
        ),
        "top spenders": lambda u: u.orders.top_spenders(10, TimeRange()),
        "top spenders of a period": lambda u: u.orders.top_spenders(
            10, TimeRange(START - timedelta(days=30, seconds=1), START + timedelta(seconds=5))
        ),
        "last 30 days": lambda u: u.orders.top_spenders(10, TimeRange(last_days(30, datetime.now(UTC)))),
        "customer": lambda u: u.orders.customer_totals(ann.id),
    }
    kept = {"order_sales": "pk_order_sales", "user_day_sales": "pk_user_day_sales"}
    for name, read in reads.items():
        used: set[tuple[str, str]] = set()
        for plan in plans(engine, read):
            scans = [
                (n["Node Type"], n.get("Relation Name"), n.get("Index Name"))
                for n in plan
                if "Relation Name" in n
            ]
            # sales_window is one row: read whole.
            assert not any(kind == "Seq Scan" and t != "sales_window" for kind, t, _ in scans), (name, scans)
            indexes = {n.get("Index Name") for n in plan}  # a bitmap heap scan's index is its child's
            for _, table, _ in scans:
                if table == "orders":
                    assert "ix_orders_created_id" in indexes, (name, scans)
                if table in kept:
                    assert kept[table] in indexes, (name, scans)
            if name == "top spenders":
                assert ("user_sales", "ix_user_sales_revenue_user") in {(t, i) for _, t, i in scans}, scans
            used |= {(t, i) for _, t, i in scans}
        if name == "last 30 days":
            assert ("user_sales", "ix_user_sales_recent_revenue_user") in used, used


def test_reports_over_sql_match_the_history(engine: Engine, history) -> None:
    boss, ann, bob = history
    with uow(engine) as u:
        everything = u.orders.stats()
        same = u.orders.sales([TimeRange()])[0]
        spenders = u.orders.top_spenders(10, TimeRange())
    assert same == everything
    assert {s.user_id for s in spenders} == {ann.id, bob.id}
    assert sum((s.revenue for s in spenders), Decimal(0)) == everything.total_revenue
