"""Secrets at rest: every column of every table is scanned for the plaintexts Herald was given.

Passwords are argon2id hashes, plugin secret keys SHA-256 hex (256 random bits: a fast hash is
enough), channel verify tokens SHA-256 hex (only compared); provider access tokens, app secrets
and callback secrets are Fernet ciphertexts (Herald needs them back) that decrypt with the
installation's keys and with nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import stat
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from herald.config import ConfigError, Settings
from herald.kit.clock import FrozenClock
from herald.kit.crypto import Cipher, sha256_hex
from herald.kit.passwords import verify_password
from herald.models import Base, CallbackEndpoint, Channel, SecretKey, User
from tests.cli.helpers import herald
from tests.conftest import (
    EMULATOR_ACCESS_TOKEN,
    EMULATOR_APP_SECRET,
    EMULATOR_VERIFY_TOKEN,
    PASSWORD,
    DatabaseUnderTest,
    login,
)
from tests.message.helpers import approved_template

CAROL = "carol@example.com"
CAROL_PASSWORD = "Carol-plaintext-Passw0rd-5521"
CAROL_NEW_PASSWORD = "Carol-changed-Passw0rd-7789"
ACCESS_TOKEN = "EAAG-provider-access-token-PLAINTEXT-0042"
APP_SECRET = "provider-app-secret-PLAINTEXT-0043"
VERIFY_TOKEN = "provider-verify-token-PLAINTEXT-0044"
CALLBACK_SECRET = "whsec_caller-chosen-callback-secret-0045"
FERNET = re.compile(r"^gAAAAA[A-Za-z0-9_\-]+=*$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def env(db: DatabaseUnderTest, settings: Settings) -> dict[str, str]:
    """The CLI's environment: same database and data dir (so same encryption key) as the app."""
    return {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(settings.data_dir)}


def encodings(secret: str) -> set[str]:
    """The plaintext and trivial reversible spellings of it (base64, hex)."""
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
    }


async def every_value(db: DatabaseUnderTest) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value in the database."""
    values = []
    async with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    values.append((table.name, column, text))
    return values


async def rows(db: DatabaseUnderTest, model: Any) -> list[Any]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(select(model.__table__))).mappings())


async def test_no_secret_is_stored_in_clear_and_each_is_stored_as_documented(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    env: dict[str, str],
    settings: Settings,
    clock: FrozenClock,
    ana: User,
    auth: dict[str, str],
) -> None:
    # A user created by the operator, with a channel of real Cloud API credentials.
    created = await asyncio.to_thread(
        herald, "users", "create", CAROL, "--password", CAROL_PASSWORD, "--api-access", env=env
    )
    assert created.returncode == 0, created.stderr
    channel = await asyncio.to_thread(
        herald,
        "channels",
        "add",
        CAROL,
        "--phone-number-id",
        "1234567890",
        "--waba-id",
        "987654321",
        "--access-token",
        ACCESS_TOKEN,
        "--app-secret",
        APP_SECRET,
        "--verify-token",
        VERIFY_TOKEN,
        env=env,
    )
    assert channel.returncode == 0, channel.stderr
    # Ana gets a channel on the built-in emulator (its credentials are secrets too).
    await approved_template(db, ana, settings, clock.now())

    carol = {"Authorization": f"Bearer {await login(client, CAROL, CAROL_PASSWORD)}"}
    key = await client.post(
        "/api/v2/secret-keys",
        json={"platform_type": "woocommerce", "base_uri": "https://shop.example.com", "name": "x"},
        headers=carol,
    )
    assert key.status_code == 201, key.text
    secret_key = key.json()["data"]["secret_key"]
    chosen = await client.post(
        "/api/v2/webhooks",
        json={"url": "https://93.184.215.14/hook", "secret": CALLBACK_SECRET},
        headers=carol,
    )
    assert chosen.status_code == 201, chosen.text
    generated = await client.post(
        "/api/v2/webhooks", json={"url": "https://93.184.215.14/other"}, headers=auth
    )
    assert generated.status_code == 201, generated.text
    generated_secret = generated.json()["data"]["secret"]
    assert generated_secret.startswith("whsec_")
    # A password changed through the API is stored the same way.
    changed = await client.put(
        "/api/user/",
        json={"password": CAROL_NEW_PASSWORD, "current_password": CAROL_PASSWORD},
        headers=carol,
    )
    assert changed.status_code == 200, changed.text

    plaintexts = {
        "a password": [PASSWORD, CAROL_PASSWORD, CAROL_NEW_PASSWORD],
        "a secret key": [secret_key, secret_key.removeprefix("hk_")],
        "a provider access token": [ACCESS_TOKEN, EMULATOR_ACCESS_TOKEN],
        "an app secret": [APP_SECRET, EMULATOR_APP_SECRET],
        "a verify token": [VERIFY_TOKEN, EMULATOR_VERIFY_TOKEN],
        "a callback secret": [
            CALLBACK_SECRET,
            generated_secret,
            generated_secret.removeprefix("whsec_"),
        ],
    }
    values = await every_value(db)
    assert len(values) > 50, "the scan saw almost nothing: it is broken"
    tables_seen = {table for table, _, _ in values}
    assert {"users", "channels", "secret_keys", "callback_endpoints"} <= tables_seen
    hits = [
        f"{kind} in {table}.{column}: {value[:80]}"
        for kind, secrets in plaintexts.items()
        for secret in secrets
        for needle in encodings(secret)
        for table, column, value in values
        if needle in value
    ]
    assert not hits, "\n".join(hits)

    # Passwords: argon2id, and the hash is of the right password.
    users = await rows(db, User)
    assert len(users) == 2
    for user in users:
        assert user["password_hash"].startswith("$argon2id$"), user["email"]
    by_email = {u["email"]: u["password_hash"] for u in users}
    assert await verify_password(PASSWORD, by_email["ana@example.com"])
    assert await verify_password(CAROL_NEW_PASSWORD, by_email[CAROL])
    assert not await verify_password(CAROL_PASSWORD, by_email[CAROL])

    # Secret keys: SHA-256 hex of the secret; the shown prefix is not enough to find it.
    (stored_key,) = await rows(db, SecretKey)
    assert SHA256_HEX.match(stored_key["key_hash"])
    assert stored_key["key_hash"] == sha256_hex(secret_key)
    assert len(secret_key) - len(stored_key["key_prefix"]) >= 32

    # Provider credentials and callback secrets: Fernet, readable with the installation's keys.
    cipher = Cipher(settings.resolved_encryption_keys())
    stranger = Cipher([Fernet.generate_key().decode()])
    channels = {c["user_id"]: c for c in await rows(db, Channel)}
    assert len(channels) == 2
    expected = {
        ana.id: (EMULATOR_ACCESS_TOKEN, EMULATOR_APP_SECRET, EMULATOR_VERIFY_TOKEN),
        next(u["id"] for u in users if u["email"] == CAROL): (
            ACCESS_TOKEN,
            APP_SECRET,
            VERIFY_TOKEN,
        ),
    }
    for user_id, (token, app_secret, verify) in expected.items():
        row = channels[user_id]
        for column, plaintext in (
            ("access_token_encrypted", token),
            ("app_secret_encrypted", app_secret),
        ):
            assert FERNET.match(row[column]), (column, row[column])
            assert cipher.decrypt(row[column]) == plaintext
            with pytest.raises(ConfigError):
                stranger.decrypt(row[column])
        assert row["verify_token_hash"] == sha256_hex(verify)
    callbacks = {c["url"]: c["secret_encrypted"] for c in await rows(db, CallbackEndpoint)}
    for url, plaintext in (
        ("https://93.184.215.14/hook", CALLBACK_SECRET),
        ("https://93.184.215.14/other", generated_secret),
    ):
        assert FERNET.match(callbacks[url])
        assert cipher.decrypt(callbacks[url]) == plaintext
        with pytest.raises(ConfigError):
            stranger.decrypt(callbacks[url])
    # The same plaintext twice gives two ciphertexts (random IV): nothing to compare rows by.
    assert cipher.encrypt(CALLBACK_SECRET) != callbacks["https://93.184.215.14/hook"]

    # The generated keys the installation keeps on disk are readable by their owner only.
    secrets_dir = settings.data_dir / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) & 0o077 == 0
    kept = sorted(p.name for p in secrets_dir.iterdir())
    assert "encryption_key" in kept
    for path in secrets_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path.name, oct(path.stat().st_mode))


async def test_the_api_never_answers_a_stored_secret(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Shown once on creation; never in a later answer (lists, reads)."""
    key = await client.post(
        "/api/v2/secret-keys",
        json={"platform_type": "woocommerce", "base_uri": "https://shop.example.com", "name": "x"},
        headers=auth,
    )
    secret_key = key.json()["data"]["secret_key"]
    callback = await client.post(
        "/api/v2/webhooks",
        json={"url": "https://93.184.215.14/hook", "secret": CALLBACK_SECRET},
        headers=auth,
    )
    assert callback.json()["data"]["secret"] == CALLBACK_SECRET
    callback_id = callback.json()["data"]["id"]
    answers = [
        await client.get(path, headers=auth)
        for path in (
            "/api/v2/secret-keys",
            "/api/v2/webhooks",
            f"/api/v2/webhooks/{callback_id}",
            "/api/user/",
        )
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        for secret in (secret_key, CALLBACK_SECRET, PASSWORD):
            assert secret not in answer.text, answer.request.url
        assert "$argon2" not in answer.text
        assert "gAAAAA" not in answer.text
