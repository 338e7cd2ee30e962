"""The `shop` command line: serve, worker, migrate, create-admin, purge-idempotency-keys,
purge-throttle-windows, purge-events, check-stock, expire-orders, seed-demo."""

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table
from sqlalchemy.engine import make_url

from adapters.sql.migrate import RevisionError, check_revision, migration_sql
from adapters.sql.migrate import migrate as run_migrations
from adapters.sql.seed import CATEGORIES, DEMO_PASSWORD, seed_demo
from adapters.sql.seed_orders import seed_demo_orders
from domain.errors import InvalidEmail, WeakPassword
from domain.passwords import check_password
from domain.users import normalize_email
from entrypoints.container import Container
from entrypoints.jobs import expire_orders, purge_old_events, work
from entrypoints.serve import serve as run_server

T = TypeVar("T")
app = typer.Typer(help="The shop service: users, a catalog with stock, and orders.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    jobs: Annotated[
        bool,
        typer.Option(help="Also run the background jobs (as `shop worker` does) in a process of their own."),
    ] = True,
) -> None:
    """Serve the REST API with uvicorn."""
    run_server(host, port, workers, Container().settings(), jobs=jobs)


@app.command()
def migrate(
    sql: Annotated[
        bool,
        typer.Option(
            "--sql",
            help="Print the SQL (PostgreSQL, one transaction) for a DBA to review and apply, instead of"
            " running it; connects to nothing.",
        ),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="With --sql: the revision the database is at (default: an empty database)."
        ),
    ] = None,
    end: Annotated[str, typer.Option("--to", help="The revision to upgrade to.")] = "head",
) -> None:
    """Upgrade the database (SHOP_DATABASE_URL) to the latest schema (or --to), or print the SQL that
    would (--sql). Revisions may be abbreviated to a unique prefix (0005)."""
    if start is not None and not sql:
        raise typer.BadParameter("needs --sql (a database knows the revision it is at)", param_hint="--from")
    for option, revision in (("--from", start), ("--to", end)):
        if revision is not None:
            _known_revision(revision, option)
    if sql:
        try:
            typer.echo(migration_sql(start, end), nl=False)
        except RevisionError as error:
            raise typer.BadParameter(str(error), param_hint="--from/--to") from None
        return
    url = Container().settings().database_url
    run_migrations(url, end)
    typer.echo(
        f"database at {_safe(url)} is at {'the latest revision' if end == 'head' else 'revision ' + end}"
    )


def _known_revision(revision: str, option: str) -> None:
    try:
        check_revision(revision)
    except RevisionError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email (the login name).")],
    password: Annotated[
        str, typer.Option(help="8 to 1,024 characters, not a common one, not holding the e-mail local part.")
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "Admin",
) -> None:
    """Create an admin, or promote an existing user and reset their password (which revokes their earlier
    tokens); running it twice is harmless."""
    try:
        normalize_email(email)
    except InvalidEmail as error:
        raise typer.BadParameter(str(error), param_hint="--email") from None
    try:
        check_password(password, email)
    except WeakPassword as error:
        raise typer.BadParameter(str(error), param_hint="--password") from None
    c = Container()
    user = _run_async(c, c.flows().ensure_admin(email, password, name))
    typer.echo(f"admin {user.email} (id {user.id}) is ready")


@app.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Key records older than 24 hours (run it daily, e.g. from cron)."""
    c = Container()
    typer.echo(f"purged {c.use_cases().purge_expired_keys(c.unit_of_work())} expired keys")


@app.command("purge-throttle-windows")
def purge_throttle_windows() -> None:
    """Delete log-in and registration throttle windows that have ended (run it daily, e.g. from cron)."""
    c = Container()
    typer.echo(f"purged {c.use_cases().purge_ended_windows(c.unit_of_work())} ended throttle windows")


@app.command("check-stock")
def check_stock_command() -> None:
    """Reconcile every product's stock with its ledger and its orders; exit 1 when any drifted."""
    c = Container()
    drifted = c.use_cases().check_stock(c.unit_of_work())
    if not drifted:
        typer.echo("stock, ledger and orders agree for every product")
        return
    table = Table(
        "product", "sku", "stock", "ledger", "ordered (ledger)", "in live orders", title="stock drift"
    )
    for d in drifted:
        table.add_row(*(str(v) for v in (d.product_id, d.sku, d.stock, d.ledger, d.ordered, d.live)))
    Console().print(table)
    typer.echo(f"{len(drifted)} products drifted", err=True)
    raise typer.Exit(1)


@app.command("expire-orders")
def expire_orders_command() -> None:
    """One pass of the expiry job: cancel pending orders older than SHOP_PENDING_ORDER_TTL."""
    c = Container()
    if c.settings().pending_order_ttl is None:
        raise typer.BadParameter("SHOP_PENDING_ORDER_TTL is off: set it (e.g. 30m) to expire pending orders")
    typer.echo(f"expired {expire_orders(c)} pending orders")


@app.command("purge-events")
def purge_events_command() -> None:
    """Delete events older than SHOP_EVENT_RETENTION (each resource's newest stays), with old deliveries."""
    c = Container()
    if c.settings().event_retention is None:
        raise typer.BadParameter("SHOP_EVENT_RETENTION is off: events are kept for ever")
    typer.echo(f"purged {purge_old_events(c)} events")


@app.command()
def worker() -> None:
    """Run the background jobs (webhook deliveries, order expiry, event purge) until stopped; `shop serve`
    runs them too (unless --no-jobs)."""
    work()


@app.command("seed-demo")
def seed_demo_data(
    users: Annotated[
        int, typer.Option("--users", min=0, help="Demo customers (password: plum-kettle-42).")
    ] = 1_000,
    products: Annotated[int, typer.Option("--products", min=0, help="Demo products.")] = 10_000,
    orders: Annotated[
        int,
        typer.Option(
            "--orders", min=0, help="Order history of the demo users over the past year (PostgreSQL)."
        ),
    ] = 0,
) -> None:
    """Load demo users, categories, products and order history fast (in bulk), with a progress bar."""
    c = Container()
    if orders and c.sync_engine().dialect.name != "postgresql":
        raise typer.BadParameter("--orders needs PostgreSQL (SHOP_DATABASE_URL=postgresql://...)")
    totals = {"categories": CATEGORIES, "users": users, "products": products, "orders": orders}
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn()) as bar:
        tasks = {table: bar.add_task(f"{table:>10}", total=n) for table, n in totals.items()}
        seed_demo(
            c.sync_engine(),
            users_count=users,
            products_count=products,
            password_hash=asyncio.run(c.password_hasher().hash(DEMO_PASSWORD)),
            progress=lambda table, n: bar.advance(tasks[table], n),
        )
        seed_demo_orders(c.sync_engine(), orders_count=orders, progress=lambda t, n: bar.advance(tasks[t], n))
    typer.echo(
        f"seeded {users} users (password {DEMO_PASSWORD!r}), {CATEGORIES} categories, {products} products,"
        f" {orders} orders"
    )


def _run_async(container: Container, work: Coroutine[Any, Any, T]) -> T:
    """Run an async use case (the password ones are) on the async engine, then close its connections."""

    async def run() -> T:
        try:
            return await work
        finally:
            await container.async_engine().dispose()

    return asyncio.run(run())


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
