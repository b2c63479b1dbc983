"""Registering status callbacks (spec/api.md §7): URL checks, secrets, user scoping."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock, iso_utc
from herald.kit.crypto import Cipher
from herald.models import CallbackEndpoint
from tests.conftest import (
    DatabaseUnderTest,
    add_user,
    app_client,
    assert_error,
    login,
    make_settings,
)

CALLBACKS = "/api/v2/webhooks"


async def test_register_list_get_delete(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, settings: Settings
) -> None:
    answer = await client.post(
        CALLBACKS, json={"url": "https://93.184.215.14/herald/events"}, headers=auth
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()["data"]
    assert created["events"] == [
        "message.status",
        "template.updated",
        "message.received",
        "channel.updated",
    ]
    secret = created["secret"]
    assert secret.startswith("whsec_")
    async with session_factory(db.engine)() as session:
        row = (await session.execute(select(CallbackEndpoint))).scalar_one()
    assert secret not in row.secret_encrypted  # encrypted at rest
    assert Cipher(settings.resolved_encryption_keys()).decrypt(row.secret_encrypted) == secret

    listed = (await client.get(CALLBACKS, headers=auth)).json()["data"]
    assert [c["id"] for c in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    one = await client.get(f"{CALLBACKS}/{created['id']}", headers=auth)
    assert one.json()["data"]["url"] == "https://93.184.215.14/herald/events"
    assert (await client.delete(f"{CALLBACKS}/{created['id']}", headers=auth)).status_code == 200
    gone = await client.get(f"{CALLBACKS}/{created['id']}", headers=auth)
    assert_error(gone, 404, "callback_not_found")


async def test_a_given_secret_is_kept(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    answer = await client.post(
        CALLBACKS,
        json={"url": "https://93.184.215.14/hook", "secret": "my-own-secret-0123456789"},
        headers=auth,
    )
    assert answer.json()["data"]["secret"] == "my-own-secret-0123456789"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://172.16.5.4/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://0.0.0.0/hook", "private"),
        ("https://user:pw@93.184.215.14/hook", "credentials"),
        ("ftp://93.184.215.14/hook", "https"),
        ("https://no-such-host.invalid/hook", "resolve"),
        # What a browser would refuse or read otherwise (issue 20).
        ("https://93.184.216.34/\r\nX: y", "control characters"),
        ("https://93.184.216.34/a b", "spaces"),
        ("https://evil.example\\@93.184.216.34/", "backslashes"),
        ("https://%31%32%37.0.0.1/hook", "valid URL"),
        ("https://93.184.216.34:99999/hook", "valid URL"),
        ("https://exa mple.com/hook", "spaces"),
        # Internal addresses in other clothes.
        ("https://[2002:7f00:1::]/hook", "loopback"),  # 6to4
        ("https://[2002:a00:1::]/hook", "private"),  # 6to4 of 10.0.0.1
        ("https://[64:ff9b::7f00:1]/hook", "loopback"),  # NAT64
        ("https://[64:ff9b::a9fe:a9fe]/hook", "link-local"),  # NAT64 of 169.254.169.254
        ("https://[64:ff9b:1::5db8:d70e]/hook", "private"),  # NAT64 local-use prefix
        ("https://[::7f00:1]/hook", "loopback"),  # IPv4-compatible
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),  # IPv4-mapped
        ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook", "private"),  # Teredo
        ("https://[ff02::1]/hook", "private"),  # multicast
        ("https://2130706433/hook", "loopback"),  # decimal
        ("https://0x7f.1/hook", "loopback"),  # hex, short
        ("https://127.1/hook", "loopback"),  # short
        ("https://017700000001/hook", "loopback"),  # octal, one number
        ("https://0177.0.0.1/hook", "valid URL"),  # octal: the HTTP client refuses it
        ("https://167772161/hook", "private"),  # 10.0.0.1 in decimal
        ("https://240.0.0.1/hook", "private"),  # reserved
        ("https://224.0.0.1/hook", "private"),  # multicast
        ("https://100.64.0.1/hook", "private"),  # shared address space (CGNAT)
    ],
)
async def test_internal_targets_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], url: str, reason: str
) -> None:
    answer = await client.post(CALLBACKS, json={"url": url}, headers=auth)
    body = assert_error(answer, 400, "validation_failed")
    error = body["data"]["errors"][0]  # type: ignore[index]
    assert error["field"] == "url"
    assert reason in error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:5db8:d70e::1]/hook",  # 6to4 of a public address
        "https://[64:ff9b::5db8:d70e]/hook",  # NAT64 of a public address
        "https://[::ffff:93.184.215.14]/hook",  # IPv4-mapped public address
        "https://1572394766/hook",  # 93.184.215.14 in decimal
    ],
)
async def test_public_addresses_in_any_form_are_accepted(
    client: httpx.AsyncClient, auth: dict[str, str], url: str
) -> None:
    answer = await client.post(CALLBACKS, json={"url": url}, headers=auth)
    assert answer.status_code == 201, answer.text


async def test_loopback_wrapped_in_ipv6_is_refused_even_when_loopback_is_allowed(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(db, tmp_path, callbacks_allow_loopback=True)
    async with app_client(settings, clock) as client:
        ana = await add_user(db, "ana@example.com", now=clock.now())
        auth = {"Authorization": f"Bearer {await login(client, ana.email)}"}
        plain = await client.post(CALLBACKS, json={"url": "https://127.0.0.1/h"}, headers=auth)
        assert plain.status_code == 201, plain.text
        for url in ("https://[2002:7f00:1::]/h", "https://[::ffff:127.0.0.1]/h"):
            answer = await client.post(CALLBACKS, json={"url": url}, headers=auth)
            body = assert_error(answer, 400, "validation_failed")
            assert "inside an IPv6 address" in str(body["message"])


async def test_unknown_events_and_fields_are_400(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for body in (
        {"url": "https://93.184.215.14/hook", "events": ["message.deleted"]},
        {"url": "https://93.184.215.14/hook", "events": []},
        {"url": "https://93.184.215.14/hook", "retries": 3},
        {"url": "https://93.184.215.14/hook", "secret": "short"},
    ):
        assert_error(
            await client.post(CALLBACKS, json=body, headers=auth), 400, "validation_failed"
        )


async def test_one_callback_per_url_however_it_is_spelled(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    """A second callback on a URL would deliver every event twice: 409 naming the first, for
    any spelling of the URL the delivery reads the same; another user's is their own."""
    first = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/h"}, headers=auth)
    assert first.status_code == 201, first.text
    first_id = first.json()["data"]["id"]
    for url in ("https://93.184.215.14/h", "HTTPS://93.184.215.14:443/h"):
        again = await client.post(CALLBACKS, json={"url": url}, headers=auth)
        assert assert_error(again, 409, "callback_exists")["data"] == {"id": first_id}
    slash = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/h/"}, headers=auth)
    assert slash.status_code == 201, slash.text
    bobs = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/h"}, headers=bob_auth)
    assert bobs.status_code == 201, bobs.text
    assert (await client.delete(f"{CALLBACKS}/{first_id}", headers=auth)).status_code == 200
    anew = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/h"}, headers=auth)
    assert anew.status_code == 201, anew.text


async def test_a_url_too_long_once_encoded_is_400(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """1,002 characters given, 5,902 to store (each é is %C3%A9): refused, not a 500."""
    url = "https://93.184.215.14/" + "é" * 980
    answer = await client.post(CALLBACKS, json={"url": url}, headers=auth)
    body = assert_error(answer, 400, "validation_failed")
    assert "2000" in body["data"]["errors"][0]["message"]  # type: ignore[index]


async def test_another_users_callback_is_404(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    bobs = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/b"}, headers=bob_auth)
    bob_id = bobs.json()["data"]["id"]
    assert_error(await client.get(f"{CALLBACKS}/{bob_id}", headers=auth), 404, "callback_not_found")
    answer = await client.delete(f"{CALLBACKS}/{bob_id}", headers=auth)
    assert_error(answer, 404, "callback_not_found")
    assert (await client.get(CALLBACKS, headers=auth)).json()["data"]["items"] == []
    assert (await client.get(f"{CALLBACKS}/{bob_id}", headers=bob_auth)).status_code == 200


async def test_rotating_keeps_the_replaced_secret_for_a_day_unless_told(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    created = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/h"}, headers=auth)
    first = created.json()["data"]
    assert first["previous_secret_expires_at"] is None
    rotate = f"{CALLBACKS}/{first['id']}/rotate-secret"

    answer = await client.post(rotate, headers=auth)  # no body: a generated secret, a day
    assert answer.status_code == 200, answer.text
    second = answer.json()["data"]
    assert second["secret"].startswith("whsec_")
    assert second["secret"] != first["secret"]
    assert second["previous_secret_expires_at"] == iso_utc(clock.now() + timedelta(days=1))
    cipher = Cipher(settings.resolved_encryption_keys())
    async with session_factory(db.engine)() as session:
        row = (await session.execute(select(CallbackEndpoint))).scalar_one()
    assert cipher.decrypt(row.secret_encrypted) == second["secret"]
    assert row.previous_secret_encrypted is not None
    assert cipher.decrypt(row.previous_secret_encrypted) == first["secret"]
    shown = (await client.get(f"{CALLBACKS}/{first['id']}", headers=auth)).json()["data"]
    assert shown["previous_secret_expires_at"] == second["previous_secret_expires_at"]
    assert "secret" not in shown

    body = {"secret": "chosen-secret-0123456789", "previous_secret_valid_for_seconds": 600}
    third = (await client.post(rotate, json=body, headers=auth)).json()["data"]
    assert third["secret"] == "chosen-secret-0123456789"
    assert third["previous_secret_expires_at"] == iso_utc(clock.now() + timedelta(minutes=10))
    async with session_factory(db.engine)() as session:
        row = (await session.execute(select(CallbackEndpoint))).scalar_one()
    # Two valid at most: the first secret stopped when the second was replaced.
    assert cipher.decrypt(row.previous_secret_encrypted or "") == second["secret"]

    body = {"previous_secret_valid_for_seconds": 0}
    fourth = (await client.post(rotate, json=body, headers=auth)).json()["data"]
    assert fourth["previous_secret_expires_at"] is None
    async with session_factory(db.engine)() as session:
        row = (await session.execute(select(CallbackEndpoint))).scalar_one()
    assert row.previous_secret_encrypted is None


async def test_a_rotation_is_validated_and_scoped_to_its_user(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    bobs = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/b"}, headers=bob_auth)
    rotate = f"{CALLBACKS}/{bobs.json()['data']['id']}/rotate-secret"
    assert_error(await client.post(rotate, headers=auth), 404, "callback_not_found")
    for body in (
        {"secret": "short"},
        {"previous_secret_valid_for_seconds": 7 * 86_400 + 1},
        {"previous_secret_valid_for_seconds": -1},
        {"overlap": 5},
    ):
        assert_error(
            await client.post(rotate, json=body, headers=bob_auth), 400, "validation_failed"
        )
    assert_error(
        await client.post(f"{CALLBACKS}/424242/rotate-secret", headers=bob_auth),
        404,
        "callback_not_found",
    )


async def test_a_rotation_with_a_body_that_is_not_an_object_is_400(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    created = await client.post(CALLBACKS, json={"url": "https://93.184.215.14/h"}, headers=auth)
    rotate = f"{CALLBACKS}/{created.json()['data']['id']}/rotate-secret"
    json_body = {**auth, "Content-Type": "application/json"}
    for raw in (b'{"secret": ', b"[]", b'"whsec_x"', b"{}{}"):
        answer = await client.post(rotate, content=raw, headers=json_body)
        assert answer.status_code == 400, (raw, answer.text)
        assert answer.json()["status"] == "error"
