"""Settings from the environment (prefix SHOP_) and an optional .env file."""

import logging
import re
import secrets
from datetime import timedelta
from typing import Annotated, Literal

from babel.numbers import get_currency_precision, list_currencies
from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adapters.sql.engine import EngineOptions
from application.payments import PaymentOptions
from application.throttling import Limits, Rate
from domain.payments import ConfirmRequires, Currency
from domain.returns import DEFAULT_RETURN_WINDOW_DAYS

log = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|m|h)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(value: object) -> Rate | None:
    """'5/15m' -> 5 attempts per 15 minutes ('10/h', '100/30s'); 'off' (or 0 attempts) -> no limit."""
    if value is None or isinstance(value, Rate):
        return value
    text = str(value).strip().lower()
    if text in ("off", "none", ""):
        return None
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a rate such as '5/15m', '20/1h' or 'off'")
    attempts, count, unit = int(match[1]), int(match[2] or 1), match[3]
    if attempts == 0:
        return None
    if count == 0:
        raise ValueError(f"{value!r} has an empty window")
    return Rate(attempts, timedelta(seconds=count * _UNIT_SECONDS[unit]))


RateSetting = Annotated[Rate | None, BeforeValidator(parse_rate)]


def _per_hour(rate: Rate) -> float:
    return rate.attempts * 3600 / rate.window.total_seconds()


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")


def parse_duration(value: object) -> timedelta | None:
    """'30m' -> 30 minutes ('45s', '2h', '30d'); 'off' (or 0) -> None."""
    if value is None or isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    if text in ("off", "none", "", "0"):
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '30m', '2h', '90s', '30d' or 'off'")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]]) or None


def parse_period(value: object) -> timedelta:
    """A duration that cannot be off."""
    period = parse_duration(value)
    if period is None:
        raise ValueError(f"{value!r} must be a duration such as '24h' (it cannot be off)")
    return period


DurationSetting = Annotated[timedelta | None, BeforeValidator(parse_duration)]
PeriodSetting = Annotated[timedelta, BeforeValidator(parse_period)]
_ENGINE = EngineOptions()
# Prices are kept to the cent: a currency whose minor unit is finer cannot be the shop's.
MAX_CURRENCY_PLACES = 2


def parse_currency(value: object) -> Currency:
    """An ISO 4217 code ('usd' is USD) with its minor unit's places from CLDR (Babel); refused when unknown or
    finer than a cent (KWD, BHD: 3 places)."""
    if isinstance(value, Currency):
        return value
    code = str(value).strip().upper()
    if code not in list_currencies():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code such as 'USD' or 'EUR'")
    places = get_currency_precision(code)
    if places > MAX_CURRENCY_PLACES:
        raise ValueError(
            f"{code} has {places} decimal places; the shop keeps prices to {MAX_CURRENCY_PLACES}, so it "
            "cannot take payments in it"
        )
    return Currency(code, places)


CurrencySetting = Annotated[Currency, BeforeValidator(parse_currency)]

_PLACEHOLDERS = {"changethis", "change-me", "secret", "changeme", ""}
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    # Inputs are never echoed in errors: database URLs (the primary's, the replicas') carry passwords.
    model_config = SettingsConfigDict(
        env_prefix="SHOP_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./shop.db"
    # PostgreSQL streaming replicas for the reads that may be a little stale (docs/scaling.md), comma
    # separated; none by default. Secrets like database_url: never logged with their passwords.
    database_replica_urls: Annotated[list[str], NoDecode] = []
    replica_max_lag: float = Field(default=5.0, gt=0)  # seconds; a replica further behind is skipped
    replica_check_interval: float = Field(default=1.0, gt=0)  # seconds between two checks of the replicas
    secret_key: SecretStr | None = None
    # Revocation is checked per request, but a leaked token is still good until it expires or its user
    # logs out: keep lifetimes short.
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    token_issuer: str = Field(default="shop", min_length=1)
    token_audience: str = Field(default="shop-api", min_length=1)
    password_hash_threads: int = Field(default=2, ge=1, le=64)
    # Failed log-ins (docs/security.md): one client on one account; one client on any account; any client on
    # one account, except clients that logged in to it within login_known_client_for.
    login_limit_per_account_and_address: RateSetting = Rate(5, timedelta(minutes=15))
    login_limit_per_address: RateSetting = Rate(50, timedelta(minutes=15))
    login_limit_per_account: RateSetting = Rate(30, timedelta(hours=1))
    login_known_client_for: PeriodSetting = timedelta(days=90)
    registration_limit_per_address: RateSetting = Rate(20, timedelta(hours=1))
    cors_origins: Annotated[list[str], NoDecode] = []
    forwarded_allow_ips: str = "127.0.0.1"  # proxies trusted to name the client in X-Forwarded-For
    log_format: Literal["json", "text"] = "json"  # text reads better in a terminal (make run)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # In production /metrics needs one of these (the counters tell a competitor how the shop is doing).
    metrics_token: SecretStr | None = None  # when set, GET /metrics needs it as a bearer token
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # /metrics there instead of on the API
    metrics_host: str = (
        "127.0.0.1"  # where metrics_port listens; loopback unless a scraper elsewhere needs it
    )
    # On SIGTERM, at most this long for the requests in flight.
    shutdown_timeout: float = Field(default=30.0, gt=0)
    pool_size: int = Field(default=_ENGINE.pool_size, ge=1)  # per worker; see EngineOptions
    max_overflow: int = Field(default=_ENGINE.max_overflow, ge=0)
    pool_timeout: float = Field(default=_ENGINE.pool_timeout, gt=0)
    db_connect_timeout: float = Field(default=_ENGINE.connect_timeout, gt=0)
    db_prepared_statements: bool = _ENGINE.prepared_statements  # false behind PgBouncer in transaction mode
    # Every statement to the log (SQLAlchemy's echo); for debugging, never in production.
    log_sql: bool = False
    health_timeout: float = Field(default=1.5, gt=0)  # GET /health answers within this, reachable or not
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Pending orders older than this are cancelled and their stock returned by the background jobs.
    pending_order_ttl: DurationSetting = None
    jobs_interval: float = Field(default=30.0, gt=0)  # seconds between two passes of the background jobs
    # The jobs process runs at this lower CPU priority (Unix nice), so that on a busy machine the requests
    # come first and deliveries catch up when there is room.
    jobs_nice: int = Field(default=10, ge=0, le=19)
    # Events and webhooks (docs/events.md).
    event_retention: DurationSetting = timedelta(days=30)  # then purged by the jobs; off: kept for ever
    webhook_poll_interval: float = Field(default=1.0, gt=0)  # seconds between two delivery passes
    webhook_batch: int = Field(default=50, ge=1, le=1000)  # deliveries claimed per pass
    webhook_lease: float = Field(default=60.0, gt=0)  # seconds a claimed delivery is its worker's
    webhook_backoff_first: float = Field(default=30.0, gt=0)  # seconds before the first retry
    webhook_backoff_max: float = Field(default=3600.0, gt=0)  # the longest wait between two attempts
    webhook_retry_for: PeriodSetting = timedelta(hours=24)  # a delivery is given up after this
    webhook_disable_after: int = Field(default=50, ge=1)  # consecutive failed attempts
    webhook_connect_timeout: float = Field(default=5.0, gt=0)
    webhook_read_timeout: float = Field(default=10.0, gt=0)
    webhook_allow_private: bool = False  # allow loopback, private and link-local targets (tests, LANs)
    # Payments (docs/api.md#payments): the shop's one currency, and what an order needs to be confirmed.
    currency: CurrencySetting = Currency("USD", 2)
    confirm_requires: ConfirmRequires = ConfirmRequires.NOTHING
    # Returns (docs/api.md#returns-and-refunds-issue-28): days after delivery a customer may request one.
    return_window: int = Field(default=DEFAULT_RETURN_WINDOW_DAYS, ge=0, le=3650)

    @field_validator("cors_origins", "database_replica_urls", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    @property
    def limits(self) -> Limits:
        return Limits(
            login_per_account_and_address=self.login_limit_per_account_and_address,
            login_per_address=self.login_limit_per_address,
            login_per_account=self.login_limit_per_account,
            registration_per_address=self.registration_limit_per_address,
            known_client_for=self.login_known_client_for,
        )

    @property
    def payments(self) -> PaymentOptions:
        return PaymentOptions(self.currency, self.confirm_requires)

    @model_validator(mode="after")
    def _replicas_only_of_postgresql(self) -> "Settings":
        urls = [self.database_url, *self.database_replica_urls]
        if self.database_replica_urls and not all(u.startswith("postgresql") for u in urls):
            raise ValueError(
                "SHOP_DATABASE_REPLICA_URLS are PostgreSQL streaming replicas of a PostgreSQL "
                "SHOP_DATABASE_URL (postgresql://...)"
            )
        return self

    @model_validator(mode="after")
    def _require_a_real_secret_in_production(self) -> "Settings":
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.lower() not in _PLACEHOLDERS and len(key) >= MIN_SECRET_LENGTH:
            return self
        if self.env == "production":
            raise ValueError(
                f"SHOP_SECRET_KEY must be set to a random string of at least {MIN_SECRET_LENGTH} characters "
                "in production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        log.warning(
            "SHOP_SECRET_KEY is not set (or too short): using a random key for this process only; "
            "tokens will not survive a restart or work across workers"
        )
        self.secret_key = SecretStr(secrets.token_urlsafe(48))
        return self

    @model_validator(mode="after")
    def _keep_one_client_from_filling_the_account_limit(self) -> "Settings":
        """SHOP_LOGIN_LIMIT_PER_ACCOUNT used to be the tight 5/15m limit; kept that low now, one client alone
        could fill it and keep the owner's new clients out."""
        client, account = self.login_limit_per_account_and_address, self.login_limit_per_account
        if client is None or account is None or _per_hour(account) > _per_hour(client):
            return self
        raise ValueError(
            "SHOP_LOGIN_LIMIT_PER_ACCOUNT (any client, one account) must allow more attempts an hour than "
            "SHOP_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS (one client, one account), or one client alone could "
            "fill it; e.g. 30/1h with 5/15m"
        )

    @model_validator(mode="after")
    def _require_private_metrics_in_production(self) -> "Settings":
        token = self.metrics_token.get_secret_value() if self.metrics_token else ""
        if self.env == "production" and not token and self.metrics_port is None:
            raise ValueError(
                "/metrics must not be public in production: set SHOP_METRICS_TOKEN (scrapers send it as a "
                "bearer token) or SHOP_METRICS_PORT (served on its own port, on SHOP_METRICS_HOST: loopback "
                "unless set)"
            )
        return self
