"""``/webhooks/whatsapp``: signature over the raw body, stored once, applied idempotently."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from herald.app import create_app
from herald.channel import service as channels
from herald.channel.defaults import emulator_defaults
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.kit.crypto import Cipher
from herald.meta_webhook.processor import process_pending
from herald.models import Template, User
from tests.conftest import (
    EMULATOR_APP_SECRET,
    EMULATOR_VERIFY_TOKEN,
    DatabaseUnderTest,
    assert_error,
    count_rows,
)


def sign(body: bytes, secret: str = EMULATOR_APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def template_event(waba_id: str, provider_id: str, event: str, **extra: Any) -> bytes:
    value = {
        "event": event,
        "message_template_id": int(provider_id),
        "message_template_name": "order_confirmed",
        "message_template_language": "en",
        "reason": extra.pop("reason", "NONE"),
        **extra,
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": waba_id,
                    "time": 1,
                    "changes": [{"field": "message_template_status_update", "value": value}],
                }
            ],
        }
    ).encode()


@pytest.fixture
async def pending_template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    """ana's emulator channel and a template PENDING there with provider id 777."""
    async with session_factory(db.engine)() as session:
        cipher = Cipher(settings.resolved_encryption_keys())
        channel = await channels.ensure_default(
            session, ana.id, emulator_defaults(settings), cipher, clock.now()
        )
        template = Template(
            user_id=ana.id,
            channel_id=channel.id,
            name="order_confirmed",
            language="en",
            category="UTILITY",
            state="PENDING",
            body="Hi {{1}}",
            buttons=[],
            placeholder_count=1,
            provider_template_id="777",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(template)
        await session.commit()
        return template


async def state_of(db: DatabaseUnderTest, template_id: int) -> tuple[str, str | None]:
    async with session_factory(db.engine)() as session:
        template = await session.get(Template, template_id)
        assert template is not None
        return template.state, template.rejection_reason


def waba(template: Template) -> str:
    return str(100_000_000_000 + template.user_id)


async def test_a_signed_event_is_stored_once_and_applied(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    pending_template: Template,
    clock: FrozenClock,
) -> None:
    body = template_event(waba(pending_template), "777", "APPROVED")
    first = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    assert first.status_code == 200
    assert first.json()["data"] == {"duplicate": False}
    again = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    assert again.status_code == 200
    assert again.json()["data"] == {"duplicate": True}
    assert await count_rows(db, "webhook_events") == 1
    assert await state_of(db, pending_template.id) == ("PENDING", None)  # applied later

    assert await process_pending(session_factory(db.engine), clock) == 1
    assert await state_of(db, pending_template.id) == ("APPROVED", None)
    assert await process_pending(session_factory(db.engine), clock) == 0


async def test_rejection_carries_its_reason(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    pending_template: Template,
    clock: FrozenClock,
) -> None:
    body = template_event(waba(pending_template), "777", "REJECTED", reason="INVALID_FORMAT")
    await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    await process_pending(session_factory(db.engine), clock)
    assert await state_of(db, pending_template.id) == ("REJECTED", "INVALID_FORMAT")


def forged_headers(kind: str, body: bytes) -> dict[str, str]:
    return {
        "missing": {},
        "zeros": {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        "other_scheme": {"X-Hub-Signature-256": "md5=" + "0" * 32},
        "other_body": sign(b"another body"),
        "other_secret": sign(body, secret="not-the-app-secret"),
    }[kind]


@pytest.mark.parametrize("kind", ["missing", "zeros", "other_scheme", "other_body", "other_secret"])
async def test_a_forged_or_missing_signature_is_401_and_changes_nothing(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending_template: Template, kind: str
) -> None:
    body = template_event(waba(pending_template), "777", "APPROVED")
    answer = await client.post(
        "/webhooks/whatsapp", content=body, headers=forged_headers(kind, body)
    )
    assert_error(answer, 401, "signature_invalid")
    assert await count_rows(db, "webhook_events") == 0


async def test_an_event_for_an_unknown_account_is_refused(
    client: httpx.AsyncClient, db: DatabaseUnderTest, pending_template: Template
) -> None:
    body = template_event("999", "777", "APPROVED")
    assert_error(
        await client.post("/webhooks/whatsapp", content=body, headers=sign(body)),
        401,
        "signature_invalid",
    )


async def test_unknown_fields_and_change_kinds_are_ignored(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    pending_template: Template,
    clock: FrozenClock,
) -> None:
    envelope = json.loads(template_event(waba(pending_template), "777", "APPROVED"))
    envelope["brand_new_top_level"] = {"x": 1}
    envelope["entry"][0]["changes"].insert(0, {"field": "account_alerts", "value": {"a": 1}})
    envelope["entry"][0]["changes"].append({"field": "messages", "value": "not-an-object"})
    envelope["entry"][0]["changes"][1]["value"]["other_info"] = {"title": "new"}
    body = json.dumps(envelope).encode()
    assert (
        await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    ).status_code == 200
    await process_pending(session_factory(db.engine), clock)
    assert await state_of(db, pending_template.id) == ("APPROVED", None)


async def test_malformed_json_with_a_signature_is_400(client: httpx.AsyncClient) -> None:
    body = b"{not json"
    assert_error(
        await client.post("/webhooks/whatsapp", content=body, headers=sign(body)),
        400,
        "malformed_json",
    )


async def test_the_subscription_handshake(
    client: httpx.AsyncClient, pending_template: Template
) -> None:
    ok = await client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": EMULATOR_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    wrong = await client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "guess",
            "hub.challenge": "1158201444",
        },
    )
    assert_error(wrong, 403, "verify_token_mismatch")


# POST /webhooks/whatsapp is served outside FastAPI's routing (kit.edge): the edges the
# framework gave it still hold, in the same JSend shapes.

LIMIT = 1_048_576  # Settings.max_json_body_bytes


async def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(LIMIT // 65_536 + 2):
            yield b" " * 65_536

    answer = await client.post(
        "/webhooks/whatsapp",
        content=chunks(),
        headers={"X-Hub-Signature-256": "sha256=00", "Content-Type": "application/json"},
    )
    assert_error(answer, 413, "payload_too_large")
    assert await count_rows(db, "webhook_events") == 0


async def test_a_declared_length_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    body = b" " * (LIMIT + 1)
    answer = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    assert_error(answer, 413, "payload_too_large")


async def test_a_nul_in_the_signature_header_is_400(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/webhooks/whatsapp", content=b"{}", headers={"X-Hub-Signature-256": "sha256=\x00"}
    )
    assert_error(answer, 400, "validation_failed")


async def test_the_answer_is_the_jsend_envelope(
    client: httpx.AsyncClient, pending_template: Template
) -> None:
    body = template_event(waba(pending_template), "777", "APPROVED")
    answer = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.content) == {
        "status": "success",
        "message": "Received",
        "data": {"duplicate": False},
    }


async def test_deliveries_are_counted_under_their_route(
    client: httpx.AsyncClient, pending_template: Template
) -> None:
    body = template_event(waba(pending_template), "777", "APPROVED")
    await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    await client.post("/webhooks/whatsapp", content=b"{}", headers=sign(b"{}"))
    metrics = (await client.get("/metrics")).text
    assert 'route="/webhooks/whatsapp",status="200"' in metrics
    assert 'route="/webhooks/whatsapp",status="401"' in metrics


async def test_a_database_that_is_down_is_503_not_500(
    settings: Settings, clock: FrozenClock, pending_template: Template
) -> None:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        engine = app.state.runtime.engine

        def refuse(*_: object) -> None:
            raise OperationalError("INSERT", {}, ConnectionError("the database went away"))

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            body = template_event(waba(pending_template), "777", "APPROVED")
            event.listen(engine.sync_engine, "before_cursor_execute", refuse)
            try:
                answer = await c.post("/webhooks/whatsapp", content=body, headers=sign(body))
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", refuse)
    assert_error(answer, 503, "service_unavailable")
