"""``herald channels``, ``herald keys`` and ``herald templates`` through the real command."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.config import Settings
from herald.db import session_factory
from herald.kit.crypto import Cipher, sha256_hex
from herald.models import Channel, Template
from tests.cli.helpers import herald
from tests.conftest import DatabaseUnderTest, add_user
from tests.live_herald import Live, eventually
from tests.template.test_endpoints import create as create_template
from tests.template.test_endpoints import state as template_state

TOKEN = "EAAG-real-looking-access-token-123"
APP_SECRET = "app-secret-abcdef"
VERIFY = "verify-token-xyz"


@pytest.fixture
def env(db: DatabaseUnderTest, tmp_path: Path) -> dict[str, str]:
    return {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(tmp_path)}


def add_channel(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return herald(
        "channels",
        "add",
        "ana@example.com",
        "--phone-number-id",
        "1234567890",
        "--waba-id",
        "987654321",
        "--access-token",
        TOKEN,
        "--app-secret",
        APP_SECRET,
        "--verify-token",
        VERIFY,
        "--display-number",
        "+49 151 0000000",
        *extra,
        env=env,
    )


async def stored_channel(db: DatabaseUnderTest) -> Channel:
    async with session_factory(db.engine)() as session:
        return (await session.execute(select(Channel))).scalar_one()


def cipher_for(env: dict[str, str]) -> Cipher:
    settings = Settings(
        database_url=env["HERALD_DATABASE_URL"], data_dir=Path(env["HERALD_DATA_DIR"])
    )
    return Cipher(settings.resolved_encryption_keys())


async def test_add_list_update_remove(env: dict[str, str], db: DatabaseUnderTest) -> None:
    await add_user(db, "ana@example.com")
    added = add_channel(env, "--throughput", "250")
    assert added.returncode == 0, added.stderr
    channel = await stored_channel(db)
    assert added.stdout.strip() == f"Added channel {channel.id} for <ana@example.com>."
    assert channel.throughput_per_second == 250
    assert not channel.is_sandbox

    listed = herald("channels", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "1234567890" in listed.stdout
    assert "987654321" in listed.stdout
    assert "ana@example.com" in listed.stdout
    assert "250" in listed.stdout

    updated = herald(
        "channels",
        "update",
        str(channel.id),
        "--throughput",
        "1000",
        "--access-token",
        "new-token",
        env=env,
    )
    assert updated.returncode == 0, updated.stderr
    after = await stored_channel(db)
    assert after.throughput_per_second == 1000
    assert cipher_for(env).decrypt(after.access_token_encrypted) == "new-token"
    assert cipher_for(env).decrypt(after.app_secret_encrypted) == APP_SECRET  # untouched

    removed = herald("channels", "remove", str(channel.id), env=env)
    assert removed.returncode == 0, removed.stderr
    async with session_factory(db.engine)() as session:
        assert (await session.execute(select(Channel))).first() is None


async def test_the_meta_app_id_is_set_on_add_and_update(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    assert add_channel(env).returncode == 0
    channel = await stored_channel(db)
    assert channel.app_id is None  # media-header templates will ask for it at submit
    updated = herald("channels", "update", str(channel.id), "--app-id", "1234567890123", env=env)
    assert updated.returncode == 0, updated.stderr
    assert (await stored_channel(db)).app_id == "1234567890123"
    assert "1234567890123" in herald("channels", "list", env=env).stdout
    refused = herald("channels", "update", str(channel.id), "--app-id", "my-app", env=env)
    assert refused.returncode != 0
    assert "app_id" in refused.stdout + refused.stderr
    assert (await stored_channel(db)).app_id == "1234567890123"


async def test_secrets_are_never_printed_and_are_encrypted_at_rest(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    outputs = [add_channel(env), herald("channels", "list", env=env)]
    for done in outputs:
        for secret in (TOKEN, APP_SECRET, VERIFY):
            assert secret not in done.stdout + done.stderr
    channel = await stored_channel(db)
    assert TOKEN not in channel.access_token_encrypted
    assert APP_SECRET not in channel.app_secret_encrypted
    assert channel.verify_token_hash == sha256_hex(VERIFY)  # only compared, so only hashed
    assert cipher_for(env).decrypt(channel.access_token_encrypted) == TOKEN


async def test_secrets_are_prompted_for_when_not_given(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    done = herald(
        "channels",
        "add",
        "ana@example.com",
        "--phone-number-id",
        "1",
        "--waba-id",
        "2",
        env=env,
        stdin=f"{TOKEN}\n{APP_SECRET}\n{VERIFY}\n",
    )
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout  # hidden input is not echoed
    channel = await stored_channel(db)
    assert cipher_for(env).decrypt(channel.app_secret_encrypted) == APP_SECRET


async def test_clear_exit_codes(env: dict[str, str], db: DatabaseUnderTest) -> None:
    missing_user = add_channel(env)
    assert missing_user.returncode == 3
    assert "ana@example.com" in missing_user.stderr

    await add_user(db, "ana@example.com")
    too_fast = add_channel(env, "--throughput", "1001")
    assert too_fast.returncode == 6
    assert "throughput_per_second" in too_fast.stderr

    assert add_channel(env).returncode == 0
    twice = add_channel(env)
    assert twice.returncode == 4  # its phone number id is taken
    assert herald("channels", "update", "999999", "--throughput", "5", env=env).returncode == 3
    assert herald("channels", "remove", "999999", env=env).returncode == 3


async def test_keys_generate_then_rotate_re_encrypts_every_secret(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    assert add_channel(env).returncode == 0
    old_key = cipher_for(env)
    before = await stored_channel(db)

    generated = herald("keys", "generate", env=env)
    assert generated.returncode == 0
    new_key = generated.stdout.strip()
    old_key_text = (Path(env["HERALD_DATA_DIR"]) / "secrets" / "encryption_key").read_text().strip()
    rotated = herald(
        "keys", "rotate", env={**env, "HERALD_ENCRYPTION_KEYS": f"{new_key},{old_key_text}"}
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "1 channel" in rotated.stdout

    after = await stored_channel(db)
    assert after.access_token_encrypted != before.access_token_encrypted
    assert Cipher([new_key]).decrypt(after.access_token_encrypted) == TOKEN
    assert Cipher([new_key]).decrypt(after.app_secret_encrypted) == APP_SECRET
    with pytest.raises(Exception):  # noqa: B017, PT011 - the old key alone no longer reads it
        old_key.decrypt(after.access_token_encrypted)


async def test_templates_review_is_refused_on_a_cloud_api_channel(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    ana = await add_user(db, "ana@example.com")
    assert add_channel(env).returncode == 0
    channel = await stored_channel(db)
    async with session_factory(db.engine)() as session:
        template = Template(
            user_id=ana.id,
            channel_id=channel.id,
            name="t",
            language="en",
            category="UTILITY",
            state="PENDING",
            body="Hi",
            buttons=[],
            placeholder_count=0,
            provider_template_id="42",
            created_at=channel.created_at,
            updated_at=channel.created_at,
        )
        session.add(template)
        await session.commit()
    refused = herald("templates", "approve", str(template.id), env=env)
    assert refused.returncode == 6
    assert "Meta reviews it" in refused.stderr
    assert herald("templates", "approve", "999999", env=env).returncode == 3


async def test_templates_approve_and_reject_drive_the_emulator(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    await live.emulator.patch("/_emulator/config", json={"approve_after_seconds": None})
    env = {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(live.settings.data_dir)}
    ids = []
    for name in ("to_approve", "to_reject"):
        template = await create_template(live.herald, live_ana, name=name)
        await live.herald.post(
            f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=live_ana
        )
        ids.append(template["id"])

    # The command calls the emulator served by this test's event loop: run it off the loop.
    approved = await asyncio.to_thread(herald, "templates", "approve", str(ids[0]), env=env)
    assert approved.returncode == 0, approved.stderr
    assert "APPROVED" in approved.stdout
    rejected = await asyncio.to_thread(
        herald, "templates", "reject", str(ids[1]), "--reason", "PROMOTIONAL", env=env
    )
    assert rejected.returncode == 0, rejected.stderr
    assert await template_state(live, live_ana, ids[0]) == "APPROVED"

    async def rejected_with_reason() -> bool:
        answer = await live.herald.get(f"/api/v2/whatsapp/templates/{ids[1]}", headers=live_ana)
        data = answer.json()["data"]
        return bool(data["state"] == "REJECTED" and data["rejection_reason"] == "PROMOTIONAL")

    await eventually(rejected_with_reason, message="the rejection and its reason are stored")
    at_emulator = {
        t["name"]: t["status"] for t in (await live.emulator.get("/_emulator/templates")).json()
    }
    assert at_emulator == {"to_approve": "APPROVED", "to_reject": "REJECTED"}
    again = await asyncio.to_thread(herald, "templates", "approve", str(ids[0]), env=env)
    assert again.returncode == 4  # not PENDING any more


async def test_json_output_of_every_channels_command(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    added = add_channel(env, "--app-id", "1234567890123", "--json")
    assert added.returncode == 0, added.stderr
    shown = json.loads(added.stdout)
    channel = await stored_channel(db)
    assert shown == {
        "id": channel.id,
        "user": "ana@example.com",
        "phone_number_id": "1234567890",
        "waba_id": "987654321",
        "app_id": "1234567890123",
        "display_number": "+49 151 0000000",
        "throughput_per_second": 80,
        "base_url": channel.base_url,
        "api_version": channel.api_version,
        "is_sandbox": False,
        "is_default": True,  # the user's first channel
        "created_at": shown["created_at"],
    }
    assert shown["created_at"].endswith("Z")

    listed = herald("channels", "list", "--json", env=env)
    assert json.loads(listed.stdout) == [shown]
    updated = herald("channels", "update", str(channel.id), "--throughput", "5", "--json", env=env)
    assert json.loads(updated.stdout) == {**shown, "throughput_per_second": 5}
    removed = herald("channels", "remove", str(channel.id), "--json", env=env)
    assert json.loads(removed.stdout) == {"id": channel.id, "removed": True, "new_default_id": None}
    for done in (added, listed, updated, removed):
        for secret in (TOKEN, APP_SECRET, VERIFY):
            assert secret not in done.stdout + done.stderr

    gone = herald("channels", "remove", str(channel.id), "--json", env=env)
    assert gone.returncode == 3
    assert json.loads(gone.stderr)["code"] == "channel_not_found"


async def test_prompted_secrets_leave_the_json_alone(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    done = herald(
        "channels",
        "add",
        "ana@example.com",
        "--phone-number-id",
        "1",
        "--waba-id",
        "2",
        "--json",
        env=env,
        stdin=f"{TOKEN}\n{APP_SECRET}\n{VERIFY}\n",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["phone_number_id"] == "1"
    assert "Access token" in done.stderr


async def test_a_user_gets_several_channels_and_one_default(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    await add_user(db, "ana@example.com")
    first = json.loads(add_channel(env, "--json").stdout)
    other_waba = ("--phone-number-id", "222", "--waba-id", "333", "--json")
    second = json.loads(add_channel(env, *other_waba).stdout)
    third = json.loads(add_channel(env, "--phone-number-id", "444", "--default", "--json").stdout)
    assert (first["is_default"], second["is_default"], third["is_default"]) == (
        True,
        False,
        True,
    )
    listed = json.loads(herald("channels", "list", "--json", env=env).stdout)
    assert [c["id"] for c in listed if c["is_default"]] == [third["id"]]
    made = herald("channels", "default", str(second["id"]), "--json", env=env)
    assert json.loads(made.stdout)["is_default"] is True
    # Removing the default makes the oldest other channel the default.
    removed = herald("channels", "remove", str(second["id"]), "--json", env=env)
    assert json.loads(removed.stdout)["new_default_id"] == first["id"]
    listed = json.loads(herald("channels", "list", "--json", env=env).stdout)
    assert [(c["id"], c["is_default"]) for c in listed] == [
        (first["id"], True),
        (third["id"], False),
    ]
