"""The dependency-injector container: settings, engines, Units of Work and the other adapters.

Nothing here runs at import: providers build their objects on first use, so `create_app(Container())`
connects to nothing until a request needs the database."""

from datetime import timedelta

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.cursors import CursorCodec
from adapters.metrics import PrometheusCounters
from adapters.security import Argon2PasswordHasher, JwtTokenIssuer
from adapters.settings import Settings
from adapters.sql.engine import EngineOptions, make_async_engine, make_sync_engine, pool_capacity
from adapters.sql.gate import FairGate
from adapters.sql.health import DatabaseProbe
from adapters.sql.migrate import head_revisions
from adapters.sql.replicas import build_replica_set, replica_runner
from adapters.sql.unit_of_work import SqlUnitOfWorkRunner, sync_unit_of_work
from adapters.webhook_sender import HttpWebhookSender
from application.webhooks import DeliveryOptions
from domain.webhooks import RetryPolicy
from entrypoints.api.event_schemas import present, render_event
from entrypoints.use_cases import Flows, UseCases


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    engine_options = providers.Factory(
        EngineOptions,
        pool_size=settings.provided.pool_size,
        max_overflow=settings.provided.max_overflow,
        pool_timeout=settings.provided.pool_timeout,
        connect_timeout=settings.provided.db_connect_timeout,
        prepared_statements=settings.provided.db_prepared_statements,
        log_statements=settings.provided.log_sql,
    )
    sync_engine = providers.Singleton(make_sync_engine, settings.provided.database_url, engine_options)
    async_engine = providers.Singleton(make_async_engine, settings.provided.database_url, engine_options)

    # The CLI gets a fresh sync Unit of Work per use. The API's runner takes a fresh connection (so a fresh
    # Unit of Work) on every run, so one instance serves all requests.
    # Events carry the API's representation of what changed (entrypoints.api.event_schemas.present).
    presenter = providers.Object(present)
    unit_of_work = providers.Factory(sync_unit_of_work, sync_engine, presenter)
    pool_gate = providers.Singleton(
        FairGate,
        providers.Callable(pool_capacity, settings.provided.database_url, engine_options),
        settings.provided.pool_timeout,
    )
    unit_of_work_runner = providers.Singleton(
        SqlUnitOfWorkRunner,
        async_engine,
        presenter,
        pool_gate,
        track_commits=providers.Callable(bool, settings.provided.database_replica_urls),
    )
    # Streaming replicas (none by default) and the runner of the use cases marked `replica_read`: the
    # primary's own runner when there are none (adapters/sql/replicas.py).
    replica_set = providers.Singleton(
        build_replica_set,
        settings.provided.database_url,
        settings.provided.database_replica_urls,
        engine_options,
        presenter,
        max_lag=settings.provided.replica_max_lag,
        interval=settings.provided.replica_check_interval,
        timeout=settings.provided.health_timeout,
    )
    replica_reads = providers.Singleton(replica_runner, replica_set, unit_of_work_runner)
    # Requests read it in a tuple: dependency-injector builds a Singleton again at every call while it
    # returns None (no replicas): ~110 µs of every request's CPU.
    kept_replica_reads = providers.Singleton(tuple, providers.List(replica_reads))
    database_probe = providers.Factory(
        DatabaseProbe, async_engine, settings.provided.health_timeout, providers.Object(head_revisions)
    )

    clock = providers.Singleton(SystemClock)
    password_hasher = providers.Singleton(Argon2PasswordHasher, settings.provided.password_hash_threads)
    throttle_limits = settings.provided.limits
    token_lifetime = providers.Factory(timedelta, minutes=settings.provided.access_token_minutes)
    token_issuer = providers.Singleton(
        JwtTokenIssuer,
        secret_key=settings.provided.secret_key.get_secret_value.call(),
        lifetime=token_lifetime,
        clock=clock,
        issuer=settings.provided.token_issuer,
        audience=settings.provided.token_audience,
    )

    webhook_sender = providers.Singleton(
        HttpWebhookSender,
        allow_private=settings.provided.webhook_allow_private,
        connect_timeout=settings.provided.webhook_connect_timeout,
        read_timeout=settings.provided.webhook_read_timeout,
    )
    delivery_options = providers.Singleton(
        DeliveryOptions,
        policy=providers.Factory(
            RetryPolicy,
            first=providers.Factory(timedelta, seconds=settings.provided.webhook_backoff_first),
            longest=providers.Factory(timedelta, seconds=settings.provided.webhook_backoff_max),
            give_up_after=settings.provided.webhook_retry_for,
            disable_after=settings.provided.webhook_disable_after,
        ),
        lease=providers.Factory(timedelta, seconds=settings.provided.webhook_lease),
        batch=settings.provided.webhook_batch,
    )

    cursors = providers.Singleton(CursorCodec, settings.provided.secret_key.get_secret_value.call())

    # The use cases with their collaborators, bound once (entrypoints.use_cases).
    counters = providers.Singleton(PrometheusCounters)
    use_cases = providers.Singleton(
        UseCases,
        clock=clock,
        counters=counters,
        sender=webhook_sender,
        render=providers.Object(render_event),
        delivery=delivery_options,
        money=settings.provided.payments,
        return_window=providers.Factory(timedelta, days=settings.provided.return_window),
    )
    flows = providers.Singleton(
        Flows,
        runner=unit_of_work_runner,
        clock=clock,
        hasher=password_hasher,
        tokens=token_issuer,
        limits=throttle_limits,
        counters=counters,
    )
