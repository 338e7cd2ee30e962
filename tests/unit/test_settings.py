"""Settings: production refuses a missing or placeholder secret; development makes one up."""

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.settings import Settings, parse_rate
from application.throttling import Rate


@pytest.mark.parametrize("secret", [None, "changethis", "short"])
def test_production_refuses_to_start_without_a_real_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="SHOP_SECRET_KEY"):
        Settings(env="production", secret_key=secret, _env_file=None)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(env="production", secret_key="s" * 40, metrics_token="m" * 40, _env_file=None)
    assert settings.secret_key.get_secret_value() == "s" * 40


@pytest.mark.parametrize("token", [None, ""])
def test_production_refuses_to_start_with_public_metrics(token: str | None) -> None:
    with pytest.raises(ValidationError, match="/metrics must not be public in production"):
        Settings(env="production", secret_key="s" * 40, metrics_token=token, _env_file=None)


@pytest.mark.parametrize("protection", [{"metrics_token": "m" * 40}, {"metrics_port": 9100}])
def test_production_serves_metrics_behind_a_token_or_on_their_own_port(protection: dict[str, object]) -> None:
    settings = Settings(env="production", secret_key="s" * 40, _env_file=None, **protection)
    assert settings.metrics_host == "127.0.0.1"  # a metrics port listens on loopback unless told otherwise


def test_development_keeps_metrics_on_the_api() -> None:
    settings = Settings(_env_file=None)
    assert (settings.metrics_token, settings.metrics_port) == (None, None)


def test_development_generates_a_secret_per_process() -> None:
    first, second = Settings(_env_file=None), Settings(_env_file=None)
    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key.get_secret_value() != second.secret_key.get_secret_value()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://u:p@db:5432/shop")
    monkeypatch.setenv("SHOP_ACCESS_TOKEN_MINUTES", "5")
    settings = Settings(_env_file=None)
    assert (settings.database_url, settings.access_token_minutes) == ("postgresql://u:p@db:5432/shop", 5)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("5/15m", Rate(5, timedelta(minutes=15))),
        ("20/1h", Rate(20, timedelta(hours=1))),
        ("10/h", Rate(10, timedelta(hours=1))),
        (" 100 / 30s ", Rate(100, timedelta(seconds=30))),
        ("off", None),
        ("0/1m", None),
    ],
)
def test_throttle_limits_are_read_as_rates(
    monkeypatch: pytest.MonkeyPatch, text: str, limit: Rate | None
) -> None:
    monkeypatch.setenv("SHOP_LOGIN_LIMIT_PER_ADDRESS", text)
    assert Settings(_env_file=None).limits.login_per_address == limit


@pytest.mark.parametrize("account", ["5/15m", "20/1h", "1/3m", "1/1h"])  # an hour: 20, 20, 20, 1
def test_an_account_limit_one_client_could_fill_is_refused_at_start(account: str) -> None:
    with pytest.raises(ValidationError, match="SHOP_LOGIN_LIMIT_PER_ACCOUNT .* must allow more attempts"):
        Settings(_env_file=None, login_limit_per_account=account)  # the client's own: 5/15m, 20 an hour


@pytest.mark.parametrize(
    ("account", "client"), [("21/1h", "5/15m"), ("5/15m", "off"), ("off", "5/15m"), ("2/1m", "1/1m")]
)
def test_an_account_limit_above_the_clients_or_off_is_accepted(account: str, client: str) -> None:
    settings = Settings(
        _env_file=None, login_limit_per_account=account, login_limit_per_account_and_address=client
    )
    assert settings.limits.login_per_account == parse_rate(account)


@pytest.mark.parametrize("text", ["5", "5/", "5/0m", "five/1m", "5/15d", "-1/1m"])
def test_a_malformed_rate_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("SHOP_REGISTRATION_LIMIT_PER_ADDRESS", text)
    with pytest.raises(ValidationError, match="registration_limit_per_address"):
        Settings(_env_file=None)


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_CORS_ORIGINS", "https://shop.example, https://admin.shop.example")
    assert Settings(_env_file=None).cors_origins == ["https://shop.example", "https://admin.shop.example"]


def test_token_lifetime_is_capped_at_a_day() -> None:
    with pytest.raises(ValidationError, match="access_token_minutes"):
        Settings(access_token_minutes=24 * 60 + 1, _env_file=None)


def test_the_example_env_file_states_the_defaults() -> None:
    """One source of defaults: .env.example may only restate them (the secret key excepted)."""
    example = Path(__file__).resolve().parents[2] / ".env.example"
    stated = Settings(_env_file=example).model_dump(exclude={"secret_key"})
    assert stated == Settings(_env_file=None).model_dump(exclude={"secret_key"})


@pytest.mark.parametrize(
    ("text", "ttl"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("90s", timedelta(seconds=90)),
        ("off", None),
        ("0", None),
    ],
)
def test_the_pending_order_ttl_is_a_duration_or_off(
    monkeypatch: pytest.MonkeyPatch, text: str, ttl: timedelta | None
) -> None:
    monkeypatch.setenv("SHOP_PENDING_ORDER_TTL", text)
    assert Settings(_env_file=None).pending_order_ttl == ttl


@pytest.mark.parametrize("text", ["30", "30w", "-5m", "half an hour"])
def test_a_malformed_ttl_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("SHOP_PENDING_ORDER_TTL", text)
    with pytest.raises(ValidationError, match="pending_order_ttl"):
        Settings(_env_file=None)
