"""``herald users`` and ``herald db`` against both databases, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from herald.kit.passwords import verify_password
from herald.user import repository
from tests.cli.helpers import herald
from tests.conftest import DatabaseUnderTest, assert_error, login


@pytest.fixture
def env(db: DatabaseUnderTest, tmp_path: Path) -> dict[str, str]:
    return {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(tmp_path)}


async def test_create_then_list(env: dict[str, str], db: DatabaseUnderTest) -> None:
    created = herald(
        "users",
        "create",
        "Ana@Example.com",
        "--password",
        "s3cret-pass",
        "--api-access",
        "--firstname",
        "Ana",
        "--lastname",
        "Lopez",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert "ana@example.com" in created.stdout
    listed = herald("users", "list", env=env)
    assert listed.returncode == 0
    assert "ana@example.com" in listed.stdout
    assert "Ana Lopez" in listed.stdout
    assert "s3cret-pass" not in created.stdout + listed.stdout


async def test_password_is_hashed_with_argon2(env: dict[str, str], session: object) -> None:
    herald("users", "create", "ana@example.com", "--password", "s3cret-pass", env=env)
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    user = await repository.get_by_email(session, "ana@example.com")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert "s3cret-pass" not in user.password_hash
    assert await verify_password("s3cret-pass", user.password_hash)
    assert not user.has_api_access  # off unless --api-access


async def test_password_is_prompted_when_not_given(env: dict[str, str]) -> None:
    done = herald("users", "create", "ana@example.com", env=env, stdin="s3cret-pass\ns3cret-pass\n")
    assert done.returncode == 0, done.stderr


async def test_duplicate_email_exits_4(env: dict[str, str]) -> None:
    herald("users", "create", "ana@example.com", "--password", "s3cret-pass", env=env)
    again = herald("users", "create", "ANA@example.com", "--password", "s3cret-pass", env=env)
    assert again.returncode == 4
    assert "already exists" in again.stderr


@pytest.mark.parametrize("command", ["grant-api", "revoke-api", "disable", "enable"])
async def test_missing_user_exits_3(env: dict[str, str], command: str) -> None:
    done = herald("users", command, "nobody@example.com", env=env)
    assert done.returncode == 3
    assert "No user with email nobody@example.com" in done.stderr


async def test_invalid_input_exits_6(env: dict[str, str]) -> None:
    assert (
        herald("users", "create", "not-an-email", "--password", "s3cret-pass", env=env).returncode
        == 6
    )
    short = herald("users", "create", "ana@example.com", "--password", "short", env=env)
    assert short.returncode == 6
    assert "at least 8 characters" in short.stderr


async def test_grant_revoke_set_password_and_disable_take_effect(
    env: dict[str, str], client: httpx.AsyncClient
) -> None:
    herald("users", "create", "ana@example.com", "--password", "s3cret-pass", env=env)
    token = await login(client, "ana@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    assert_error(await client.get("/api/user/", headers=headers), 403, "api_access_disabled")

    assert herald("users", "grant-api", "ana@example.com", env=env).returncode == 0
    assert (await client.get("/api/user/", headers=headers)).status_code == 200

    assert herald("users", "revoke-api", "ana@example.com", env=env).returncode == 0
    assert_error(await client.get("/api/user/", headers=headers), 403, "api_access_disabled")

    herald("users", "grant-api", "ana@example.com", env=env)
    changed = herald(
        "users", "set-password", "ana@example.com", env=env, stdin="n3w-password\nn3w-password\n"
    )
    assert changed.returncode == 0, changed.stderr
    await login(client, "ana@example.com", "n3w-password")
    wrong = await client.post(
        "/api/login_check", json={"username": "ana@example.com", "password": "s3cret-pass"}
    )
    assert_error(wrong, 401, "invalid_credentials")

    assert herald("users", "disable", "ana@example.com", env=env).returncode == 0
    refused = await client.post(
        "/api/login_check", json={"username": "ana@example.com", "password": "n3w-password"}
    )
    assert_error(refused, 401, "invalid_credentials")


async def test_enable_undoes_disable_but_not_the_tokens_it_revoked(
    env: dict[str, str], client: httpx.AsyncClient
) -> None:
    created = ("users", "create", "ana@example.com", "--password", "s3cret-pass", "--api-access")
    herald(*created, env=env)
    before = {"Authorization": f"Bearer {await login(client, 'ana@example.com')}"}
    assert herald("users", "disable", "ana@example.com", env=env).returncode == 0

    enabled = herald("users", "enable", "ana@example.com", env=env)
    assert enabled.returncode == 0, enabled.stderr
    assert "User enabled for <ana@example.com>" in enabled.stdout
    after = {"Authorization": f"Bearer {await login(client, 'ana@example.com')}"}
    assert (await client.get("/api/user/", headers=after)).status_code == 200
    assert_error(await client.get("/api/user/", headers=before), 401, "token_invalid")


def test_bad_database_urls_exit_5_without_leaking_the_password(tmp_path: Path) -> None:
    for url, expected in (
        ("mysql://root@localhost/x", "unsupported database URL scheme"),
        ("::not a url::", "cannot parse database URL"),
        ("postgresql://herald:hunter2-secret@127.0.0.1:1/herald", "cannot use the database"),
    ):
        done = herald("users", "list", env={"HERALD_DATABASE_URL": url})
        assert done.returncode == 5, (url, done.stderr)
        assert expected in done.stderr
        assert "hunter2-secret" not in done.stderr + done.stdout


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = herald("db", "upgrade", env={"HERALD_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    assert (data / "herald.db").exists()
    again = herald("db", "upgrade", env={"HERALD_DATA_DIR": str(data)})
    assert again.returncode == 0


async def test_json_output_of_every_users_command(env: dict[str, str]) -> None:
    created = herald(
        "users",
        "create",
        "ana@example.com",
        "--firstname",
        "Ana",
        "--json",
        env=env,
        stdin="s3cret-pass\ns3cret-pass\n",  # the prompt goes to stderr: stdout is the JSON
    )
    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert user == {
        "id": user["id"],
        "email": "ana@example.com",
        "firstname": "Ana",
        "lastname": None,
        "has_api_access": False,
        "is_disabled": False,
        "created_at": user["created_at"],
    }
    assert user["created_at"].endswith("Z")

    granted = herald("users", "grant-api", "ana@example.com", "--json", env=env)
    assert json.loads(granted.stdout) == {**user, "has_api_access": True}
    disabled = herald("users", "disable", "ana@example.com", "--json", env=env)
    assert json.loads(disabled.stdout)["is_disabled"] is True
    changed = herald(
        "users", "set-password", "ana@example.com", "--json", env=env, stdin="n3w-pass\nn3w-pass\n"
    )
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["email"] == "ana@example.com"
    enabled = herald("users", "enable", "ana@example.com", "--json", env=env)
    assert json.loads(enabled.stdout) == {**user, "has_api_access": True}
    revoked = herald("users", "revoke-api", "ana@example.com", "--json", env=env)
    assert json.loads(revoked.stdout) == user

    herald("users", "create", "bob@example.com", "--password", "s3cret-pass", env=env)
    listed = herald("users", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [u["email"] for u in json.loads(listed.stdout)] == ["ana@example.com", "bob@example.com"]
    everything = created.stdout + granted.stdout + changed.stdout + listed.stdout
    for secret in ("s3cret-pass", "n3w-pass", "argon2", "password"):
        assert secret not in everything


async def test_json_errors_of_users_commands(env: dict[str, str]) -> None:
    missing = herald("users", "grant-api", "nobody@example.com", "--json", env=env)
    assert missing.returncode == 3
    assert missing.stdout == ""
    error = json.loads(missing.stderr)
    assert (error["status"], error["code"], error["exit_code"]) == ("error", "user_not_found", 3)

    herald("users", "create", "ana@example.com", "--password", "s3cret-pass", env=env)
    again = herald(
        "users", "create", "ana@example.com", "--password", "s3cret-pass", "--json", env=env
    )
    assert again.returncode == 4
    assert json.loads(again.stderr)["exit_code"] == 4
