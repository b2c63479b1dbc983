"""``POST /webhooks/whatsapp`` against forged, replayed and missing signatures.

Rules read from ``meta_webhook/service.py``: the signature is ``sha256=<hex>`` (the prefix
exactly; the hex compared lower-cased, so upper-case hex from a sender is accepted) over the raw
body, with the app secret of a channel the entries name; anything else is 401
``signature_invalid`` and stores nothing. A repeated body is stored once (``duplicate: true``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from herald.channel import service as channels
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.kit.crypto import Cipher
from herald.meta_webhook.processor import process_pending
from herald.models import Message, Template, User
from tests.conftest import DatabaseUnderTest, add_user, assert_error, count_rows
from tests.hostile.conftest import assert_jsend, meta_signature
from tests.message.helpers import approved_template

HOOK = "/webhooks/whatsapp"
WAMID = "wamid.hostile-0001"


def waba_of(user: User) -> str:
    return str(100_000_000_000 + user.id)


def envelope(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def template_entry(waba: str, provider_id: str = "1", event: str = "APPROVED") -> dict[str, Any]:
    value = {
        "event": event,
        "message_template_id": int(provider_id),
        "message_template_name": "order_confirmed",
        "message_template_language": "en",
        "reason": "NONE",
    }
    return {
        "id": waba,
        "time": 1,
        "changes": [{"field": "message_template_status_update", "value": value}],
    }


def status_entry(user: User, status: str, at: datetime) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": waba_of(user), "display_phone_number": "15550000000"},
        "statuses": [
            {
                "id": WAMID,
                "status": status,
                "timestamp": str(int(at.timestamp())),
                "recipient_id": "21696816277",
            }
        ],
    }
    return {"id": waba_of(user), "changes": [{"field": "messages", "value": value}]}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


async def post(client: httpx.AsyncClient, body: bytes, signature: str | None) -> httpx.Response:
    headers = [(b"content-type", b"application/json")]
    if signature is not None:  # as raw bytes: a non-ASCII value goes out as UTF-8
        headers.append((b"x-hub-signature-256", signature.encode()))
    return await client.post(HOOK, content=body, headers=headers)


@pytest.fixture
async def pending(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    """ana's emulator channel, and her template PENDING at the provider with id 1."""
    return await approved_template(db, ana, settings, clock.now(), state="PENDING")


async def template_state(db: DatabaseUnderTest, template_id: int) -> str:
    async with session_factory(db.engine)() as session:
        template = await session.get(Template, template_id)
        assert template is not None
        return template.state


def _forged(kind: str, body: bytes) -> str | None:
    good = meta_signature(body)
    digest = good.removeprefix("sha256=")
    reserialised = json.dumps(json.loads(body), indent=2).encode()
    return {
        "missing": None,
        "empty": "",
        "prefix_only": "sha256=",
        "sha1_prefix": "sha1=" + hmac.new(b"x", body, hashlib.sha1).hexdigest(),
        "sha1_prefix_same_hex": "sha1=" + digest,
        "upper_case_prefix": "SHA256=" + digest,
        "no_prefix": digest,
        "wrong_secret": meta_signature(body, secret="not-the-app-secret"),
        "other_body": meta_signature(body + b" "),
        "reserialised_json": meta_signature(reserialised),
        "truncated_hex": good[:-2],
        "trailing_space": good + " ",
        "two_signatures": f"{meta_signature(b'x')},{good}",
        "zeros": "sha256=" + "0" * 64,
        "non_hex": "sha256=" + "z" * 64,
    }[kind]


FORGERIES = [
    "missing",
    "empty",
    "prefix_only",
    "sha1_prefix",
    "sha1_prefix_same_hex",
    "upper_case_prefix",
    "no_prefix",
    "wrong_secret",
    "other_body",
    "reserialised_json",
    "truncated_hex",
    "trailing_space",
    "two_signatures",
    "zeros",
    "non_hex",
]


@pytest.mark.parametrize("kind", FORGERIES)
async def test_a_forged_or_missing_signature_is_401_and_stores_nothing(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending: Template, ana: User, kind: str
) -> None:
    body = encode(envelope(template_entry(waba_of(ana))))
    answer = await post(client, body, _forged(kind, body))
    assert_error(answer, 401, "signature_invalid")
    assert_jsend(answer)
    assert await count_rows(db, "webhook_events") == 0
    assert await template_state(db, pending.id) == "PENDING"


async def test_a_non_ascii_signature_is_401_not_a_server_error(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending: Template, ana: User
) -> None:
    body = encode(envelope(template_entry(waba_of(ana))))
    answer = await post(client, body, "sha256=" + "é" * 64)
    assert_error(answer, 401, "signature_invalid")
    assert await count_rows(db, "webhook_events") == 0


async def test_a_reserialised_body_needs_its_own_signature(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending: Template, ana: User
) -> None:
    """The signature is over the bytes: the same JSON with other whitespace is another body."""
    compact = encode(envelope(template_entry(waba_of(ana))))
    spaced = json.dumps(json.loads(compact), indent=1).encode()
    assert_error(await post(client, spaced, meta_signature(compact)), 401, "signature_invalid")
    assert_error(await post(client, compact, meta_signature(spaced)), 401, "signature_invalid")
    assert (await post(client, spaced, meta_signature(spaced))).status_code == 200
    assert await count_rows(db, "webhook_events") == 1


async def test_upper_case_hex_is_accepted(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending: Template, ana: User
) -> None:
    """``signature_matches`` lower-cases the hex before comparing: hex digits are case-free."""
    body = encode(envelope(template_entry(waba_of(ana))))
    signature = "sha256=" + meta_signature(body).removeprefix("sha256=").upper()
    answer = await post(client, body, signature)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"duplicate": False}
    assert await count_rows(db, "webhook_events") == 1


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param(lambda ana: [template_entry("999999")], id="unknown_waba"),
        pytest.param(lambda ana: [], id="no_entries"),
        pytest.param(lambda ana: [{"changes": []}], id="entry_without_id"),
        pytest.param(lambda ana: [{"id": {"nested": waba_of(ana)}}], id="id_not_a_string"),
    ],
)
async def test_a_body_naming_no_channel_is_refused_even_when_signed(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending: Template, ana: User, entries: Any
) -> None:
    body = encode(envelope(*entries(ana)))
    assert_error(await post(client, body, meta_signature(body)), 401, "signature_invalid")
    assert await count_rows(db, "webhook_events") == 0


@pytest.mark.parametrize("payload", [b"[]", b'"text"', b"42", b"null", b"{}"])
async def test_a_signed_body_that_is_not_an_envelope_is_refused(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending: Template, payload: bytes
) -> None:
    assert_error(await post(client, payload, meta_signature(payload)), 401, "signature_invalid")
    assert await count_rows(db, "webhook_events") == 0


async def test_a_signature_for_one_channel_does_not_carry_entries_for_another(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    pending: Template,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """Mallory runs her own channel with her own Meta app secret; ana's template must not
    become APPROVED because Mallory signed an envelope that also names ana's account."""
    mallory = await add_user(db, "mallory@example.com", now=clock.now())
    async with session_factory(db.engine)() as session:
        await channels.create(
            session,
            mallory.id,
            channels.ChannelFields(
                base_url="https://graph.facebook.com",
                api_version="v21.0",
                phone_number_id="200000000001",
                waba_id="200000000001",
                access_token="mallory-token",
                app_secret="mallorys-own-app-secret",
                verify_token="mallory-verify",
            ),
            Cipher(settings.resolved_encryption_keys()),
            clock.now(),
        )
        await session.commit()
    body = encode(envelope(template_entry("200000000001"), template_entry(waba_of(ana))))
    answer = await post(client, body, meta_signature(body, secret="mallorys-own-app-secret"))
    await process_pending(session_factory(db.engine), clock)
    assert await template_state(db, pending.id) == "PENDING"
    assert_error(answer, 401, "signature_invalid")
    assert await count_rows(db, "webhook_events") == 0


async def test_thousands_of_account_ids_are_refused_without_a_server_error(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    """An unauthenticated body under 1 MiB can name 40,000 accounts: still a 401."""
    body = encode(envelope(*({"id": str(100_000_000_000 + n)} for n in range(40_000))))
    assert len(body) < 1024 * 1024
    answer = await post(client, body, "sha256=" + "0" * 64)
    assert_error(answer, 401, "signature_invalid")
    assert await count_rows(db, "webhook_events") == 0


async def test_an_account_id_with_a_nul_is_refused_without_a_server_error(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    body = encode(envelope({"id": "1\u0000"}))
    answer = await post(client, body, "sha256=" + "0" * 64)
    assert_error(answer, 401, "signature_invalid")


# --- replays ------------------------------------------------------------------------------------


async def _sent_message(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    template: Template,
    sent_at: datetime,
) -> int:
    """A message as the dispatcher leaves it after Meta accepted it: sent, with its wamid."""
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send",
        json={"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    message_id: int = answer.json()["data"]["message"]["id"]
    async with session_factory(db.engine)() as session:
        await session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(state="sent", provider_message_id=WAMID, sent_at=sent_at)
        )
        await session.commit()
    return message_id


async def _message(client: httpx.AsyncClient, auth: dict[str, str], message_id: int) -> Any:
    answer = await client.get(f"/api/whatsapp/{message_id}/", headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


async def test_a_replayed_delivery_is_stored_once_and_applied_once(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    sent_at = clock.now() - timedelta(minutes=5)
    message_id = await _sent_message(client, auth, db, template, sent_at)
    delivered_at = clock.now() - timedelta(minutes=4)
    body = encode(envelope(status_entry(ana, "delivered", delivered_at)))

    first = await post(client, body, meta_signature(body))
    assert first.status_code == 200, first.text
    assert first.json()["data"] == {"duplicate": False}
    assert await process_pending(session_factory(db.engine), clock) == 1
    applied = await _message(client, auth, message_id)
    assert applied["state"] == "delivered"
    assert applied["delivered_at"] == delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    clock.advance(timedelta(minutes=30))  # the replay comes later, same bytes, same signature
    for _ in range(3):
        again = await post(client, body, meta_signature(body))
        assert again.status_code == 200, again.text
        assert again.json()["data"] == {"duplicate": True}
    assert await count_rows(db, "webhook_events") == 1
    assert await process_pending(session_factory(db.engine), clock) == 0
    assert await _message(client, auth, message_id) == applied


async def test_a_replayed_earlier_status_does_not_move_a_message_back(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """A 'delivered' replayed after 'read' (a new delivery id, signed) changes nothing."""
    template = await approved_template(db, ana, settings, clock.now())
    message_id = await _sent_message(client, auth, db, template, clock.now())
    delivered = encode(envelope(status_entry(ana, "delivered", clock.now())))
    read = encode(envelope(status_entry(ana, "read", clock.now() + timedelta(seconds=30))))
    for body in (delivered, read):
        assert (await post(client, body, meta_signature(body))).status_code == 200
    await process_pending(session_factory(db.engine), clock)
    settled = await _message(client, auth, message_id)
    assert settled["state"] == "read"

    resent = json.dumps(json.loads(delivered)).encode()  # same event, other bytes: a new row
    answer = await post(client, resent, meta_signature(resent))
    assert answer.json()["data"] == {"duplicate": False}
    await process_pending(session_factory(db.engine), clock)
    assert await _message(client, auth, message_id) == settled
