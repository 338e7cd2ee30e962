"""Settings: production refuses a missing or placeholder secret; development makes one up."""

import pytest
from pydantic import ValidationError

from adapters.settings import Settings


@pytest.mark.parametrize("secret", [None, "changethis", "short"])
def test_production_refuses_to_start_without_a_real_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="SHOP_SECRET_KEY"):
        Settings(env="production", secret_key=secret, _env_file=None)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(env="production", secret_key="s" * 40, _env_file=None)
    assert settings.secret_key.get_secret_value() == "s" * 40


def test_development_generates_a_secret_per_process() -> None:
    first, second = Settings(_env_file=None), Settings(_env_file=None)
    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key.get_secret_value() != second.secret_key.get_secret_value()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://u:p@db:5432/shop")
    monkeypatch.setenv("SHOP_ACCESS_TOKEN_MINUTES", "5")
    settings = Settings(_env_file=None)
    assert (settings.database_url, settings.access_token_minutes) == ("postgresql://u:p@db:5432/shop", 5)
