"""Settings: the only module that reads the environment (prefix ``HERALD_``, optional ``.env``)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_JWT_SECRET_BYTES = 32
MIN_JWT_SECRET_DISTINCT_CHARS = 10


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ConfigError(Exception):
    """The configuration cannot run Herald; the message tells the operator what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HERALD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    data_dir: Path = Path("var")
    database_url: str | None = None
    database_pool_size: int = Field(default=10, ge=1)
    jwt_secret: SecretStr | None = None
    token_ttl_seconds: int = Field(default=3600, ge=60)
    max_json_body_bytes: int = Field(default=1_048_576, ge=1024)
    login_failures_per_username: str = "5/minute"
    login_failures_per_address: str = "20/minute"
    rate_limit_storage_url: str = "async+memory://"
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _production_needs_strong_jwt_secret(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            problem = jwt_secret_problem(self.jwt_secret)
            if problem:
                raise ValueError(f"HERALD_JWT_SECRET {problem} (required in production)")
        elif self.jwt_secret is not None:
            problem = jwt_secret_problem(self.jwt_secret)
            if problem:
                raise ValueError(f"HERALD_JWT_SECRET {problem}")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'herald.db').resolve()}"

    @property
    def resolved_log_format(self) -> Literal["json", "console"]:
        if self.log_format:
            return self.log_format
        return "json" if self.is_production else "console"

    def resolved_jwt_secret(self) -> str:
        """The signing secret; in development one is generated once and kept in the data dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.is_production:  # unreachable after validation; kept as a guard
            raise ConfigError("HERALD_JWT_SECRET is required in production")
        path = self.data_dir / "secrets" / "jwt_secret"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(secret)
        return secret


def jwt_secret_problem(secret: SecretStr | None) -> str | None:
    """Why a JWT secret is too weak to sign tokens with, or None when it is fine."""
    if secret is None:
        return "is missing"
    value = secret.get_secret_value()
    if len(value.encode()) < MIN_JWT_SECRET_BYTES:
        return f"must be at least {MIN_JWT_SECRET_BYTES} bytes"
    if len(set(value)) < MIN_JWT_SECRET_DISTINCT_CHARS:
        return "is too repetitive to be a secret (generate one with `openssl rand -hex 32`)"
    return None


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation failures into a ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
