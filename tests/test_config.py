"""Settings: environment variables, and refusing to run production with a weak JWT secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.app import create_app
from herald.config import ConfigError, Settings, generate_encryption_key, load_settings

STRONG = "9f1c2e7a4b8d0f3e6a5c1b2d4e7f8a9c0b1d2e3f4a5b6c7d"


def test_settings_come_from_herald_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HERALD_PORT", "9001")
    monkeypatch.setenv("HERALD_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.port == 9001
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'herald.db'}"


def test_an_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HERALD_PORT=9002\nHERALD_LOG_LEVEL=debug\n")
    settings = load_settings()
    assert (settings.port, settings.log_level) == (9002, "debug")


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (None, "missing"),
        ("short-secret", "at least 32 bytes"),
        ("a" * 40, "repetitive"),
    ],
)
def test_production_refuses_a_missing_or_weak_jwt_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None, problem: str
) -> None:
    monkeypatch.setenv("HERALD_ENV", "production")
    if secret is not None:
        monkeypatch.setenv("HERALD_JWT_SECRET", secret)
    with pytest.raises(ConfigError, match=problem):
        load_settings()


def test_production_refuses_to_run_without_encryption_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_ENV", "production")
    monkeypatch.setenv("HERALD_JWT_SECRET", STRONG)
    with pytest.raises(ConfigError, match="HERALD_ENCRYPTION_KEYS"):
        load_settings()


def test_production_runs_with_strong_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_ENV", "production")
    monkeypatch.setenv("HERALD_JWT_SECRET", STRONG)
    monkeypatch.setenv("HERALD_ENCRYPTION_KEYS", generate_encryption_key())
    settings = load_settings()
    assert settings.is_production
    assert settings.resolved_log_format == "json"
    assert create_app(settings) is not None


def test_development_generates_and_keeps_a_secret_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = settings.resolved_jwt_secret()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).resolved_jwt_secret() == first
    path = tmp_path / "secrets" / "jwt_secret"
    assert path.stat().st_mode & 0o077 == 0


def test_a_bad_setting_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="port"):
        load_settings()
