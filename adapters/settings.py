"""Settings from the environment (prefix SHOP_) and an optional .env file."""

import logging
import secrets
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

_PLACEHOLDERS = {"changethis", "change-me", "secret", "changeme", ""}
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./shop.db"
    secret_key: SecretStr | None = None
    access_token_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    # Per worker. Few connections beat many: requests queue in the worker (cheap) instead of as PostgreSQL
    # backends fighting for the same cores. Measured with `make bench` on 2 cores (see README).
    pool_size: int = Field(default=4, ge=1)
    max_overflow: int = Field(default=0, ge=0)
    pool_timeout: float = Field(default=5.0, gt=0)
    db_connect_timeout: float = Field(default=2.0, gt=0)
    health_timeout: float = Field(default=1.5, gt=0)  # GET /health answers within this, reachable or not
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

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
