"""Settings: the only module that reads the environment (prefix ``HERALD_``, optional ``.env``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
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
    redis_url: str | None = None  # set: rate-limit budgets shared by every API process
    redis_key_prefix: str = "herald"  # keeps several Herald installations on one Redis apart
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    login_requests_per_address: str = "10/second"
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Fernet keys (comma-separated, newest first) that encrypt provider tokens at rest.
    encryption_keys: SecretStr | None = None
    graph_base_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v23.0"
    provider_timeout_seconds: float = Field(default=10.0, gt=0)
    # The built-in emulator: mounted at /emulator by `herald serve`; users get a channel on it.
    builtin_emulator: bool = True
    emulator_url: str | None = None
    emulator_approve_after_seconds: float | None = Field(default=2.0, ge=0)
    emulator_access_token: SecretStr | None = None
    emulator_app_secret: SecretStr | None = None
    emulator_verify_token: SecretStr | None = None
    background_tasks: bool = True
    # The busiest routes (Meta's webhooks, single v2 sends) served as plain ASGI; off: every
    # request through the framework (same answers, more CPU a request).
    fast_routes: bool = True
    # Media for template headers: on local disk under data_dir/media, or an S3-compatible store.
    media_store: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None  # MinIO, SeaweedFS, Ceph...; None means AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # None: boto3's usual credential chain
    s3_secret_access_key: SecretStr | None = None
    # Sending: how long Herald keeps retrying, and the dispatcher's knobs.
    send_deadline_seconds: int = Field(default=86_400, ge=60)
    unknown_outcome_deadline_seconds: int = Field(default=3_600, ge=10)
    pair_spacing_seconds: float = Field(default=6.0, ge=0)
    dispatch_lease_seconds: int = Field(default=60, ge=5)
    dispatch_poll_seconds: float = Field(default=0.5, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_gather_seconds: float = Field(default=0.1, ge=0)
    template_sync_interval_seconds: float = Field(default=300.0, gt=0)
    # Status callbacks: loopback URLs (http allowed) only when the operator says so.
    callbacks_allow_loopback: bool = False
    callback_poll_seconds: float = Field(default=0.5, gt=0)
    callback_retry_base_seconds: float = Field(default=5.0, gt=0)  # doubles per attempt, ≤ 1 h
    callback_timeout_seconds: float = Field(default=10.0, gt=0)  # a slower receiver is retried

    @model_validator(mode="after")
    def _production_needs_strong_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            problem = jwt_secret_problem(self.jwt_secret)
            if problem:
                raise ValueError(f"HERALD_JWT_SECRET {problem} (required in production)")
            if self.encryption_keys is None:
                raise ValueError(
                    "HERALD_ENCRYPTION_KEYS is missing (required in production; generate one with "
                    "`herald keys generate`)"
                )
        elif self.jwt_secret is not None:
            problem = jwt_secret_problem(self.jwt_secret)
            if problem:
                raise ValueError(f"HERALD_JWT_SECRET {problem}")
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.media_store == "s3" and not self.s3_bucket:
            raise ValueError("HERALD_S3_BUCKET is required when HERALD_MEDIA_STORE=s3")
        return self

    @property
    def resolved_rate_limit_storage_url(self) -> str:
        if self.redis_url:
            return "async+" + self.redis_url.removeprefix("async+")
        return self.rate_limit_storage_url

    @property
    def upload_dir(self) -> Path:
        """Where uploads stream to before they are stored (same disk as the local store)."""
        return self.data_dir / "tmp"

    @property
    def emulator_state_path(self) -> Path:
        """Where the built-in emulator keeps what Meta would remember across restarts."""
        return self.data_dir / "emulator" / "state.sqlite3"

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

    @property
    def send_deadline(self) -> timedelta:
        return timedelta(seconds=self.send_deadline_seconds)

    @property
    def resolved_emulator_url(self) -> str:
        return self.emulator_url or f"http://127.0.0.1:{self.port}/emulator"

    def resolved_emulator_secret(self, name: str) -> str:
        """``emulator_access_token``, ``emulator_app_secret`` or ``emulator_verify_token``."""
        value = getattr(self, name)
        if value is not None:
            return str(value.get_secret_value())
        return self.persisted_secret(name, lambda: secrets.token_urlsafe(32))

    def resolved_jwt_secret(self) -> str:
        """The signing secret; in development one is generated once and kept in the data dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return self.persisted_secret("jwt_secret", lambda: secrets.token_urlsafe(48))

    def resolved_encryption_keys(self) -> list[str]:
        if self.encryption_keys is not None:
            keys = self.encryption_keys.get_secret_value().split(",")
            return [key.strip() for key in keys if key.strip()]
        return [self.persisted_secret("encryption_key", generate_encryption_key)]

    def persisted_secret(self, name: str, generate: Callable[[], str]) -> str:
        """A secret generated on first use and kept (mode 0600) under ``<data_dir>/secrets``.

        Only for values the operator did not set: a development machine works with no setup,
        and restarts keep tokens, encrypted columns and the emulator's credentials valid.
        """
        if self.is_production and name == "jwt_secret":  # guarded by validation; never generated
            raise ConfigError("HERALD_JWT_SECRET is required in production")
        path = self.data_dir / "secrets" / name
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        value = generate()
        path.touch(mode=0o600)
        path.write_text(value)
        return value


def generate_encryption_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


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
