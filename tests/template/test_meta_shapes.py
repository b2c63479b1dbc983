"""Every kind of template Herald offers, created through its API, submitted to the emulator
(which checks creation as Meta does), approved, and sent: the requests that reached the
emulator are in Meta's shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from herald.channel import service as channel_service
from herald.channel.defaults import emulator_defaults
from herald.db import session_factory
from herald.kit.crypto import Cipher
from herald.user import repository as users
from tests.conftest import DatabaseUnderTest, assert_error
from tests.live_herald import Live, eventually
from tests.media import files
from tests.message.helpers import approved_template

TEMPLATES = "/api/v2/whatsapp/templates"
MEDIA = "/api/v2/whatsapp/media"
TO = {"to": "21696816277", "country_code": "TN"}
ORDER_BODY = "Hello {{1}}, your order {{2}} is ready."

# name → (what Herald is asked to create, what the send adds, a sample file's kind or None)
KINDS: dict[str, tuple[dict[str, Any], dict[str, Any], str | None]] = {
    "utility_params": (
        {"category": "UTILITY", "body": ORDER_BODY},
        {"body_params": ["Sam", "A-1"]},
        None,
    ),
    "marketing_buttons": (
        {
            "category": "MARKETING",
            "body": "Our sale is on, {{1}}!",
            "buttons": [
                {"type": "URL", "text": "Shop", "url": "https://shop.example/s/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Stop promotions"},
                {"type": "COPY_CODE", "example": "SAVE25"},
            ],
        },
        {
            "body_params": ["Sam"],
            "buttons": [
                {"index": 0, "sub_type": "url", "value": "summer"},
                {"index": 2, "sub_type": "copy_code", "value": "SAVE25"},
            ],
        },
        None,
    ),
    "image_header": ({"category": "MARKETING", "body": "New arrivals!"}, {}, "IMAGE"),
    "video_header": ({"category": "MARKETING", "body": "Watch this."}, {}, "VIDEO"),
    "pdf_header": (
        {"category": "UTILITY", "body": ORDER_BODY},
        {"body_params": ["S", "1"]},
        "DOCUMENT",
    ),
    "text_header_variable": (
        {
            "category": "UTILITY",
            "header": {"format": "TEXT", "text": "Order {{1}}", "example": "A-1041"},
            "body": ORDER_BODY,
        },
        {"header_params": ["A-2001"], "body_params": ["Sam", "A-2001"]},
        None,
    ),
    "otp_copy_code": (
        {"category": "AUTHENTICATION", "add_security_recommendation": True},
        {"otp_code": "482913"},
        None,
    ),
    "otp_one_tap": (
        {
            "category": "AUTHENTICATION",
            "otp_type": "ONE_TAP",
            "package_name": "com.example.shop",
            "signature_hash": "K8a/AINcGX7",
            "code_expiration_minutes": 10,
        },
        {"otp_code": "482913"},
        None,
    ),
}
SAMPLES = {"IMAGE": files.png(), "VIDEO": files.mp4(), "DOCUMENT": files.pdf()}


async def upload(live: Live, auth: dict[str, str], data: bytes) -> int:
    answer = await live.herald.post(
        MEDIA, files={"file": ("sample", data, "application/octet-stream")}, headers=auth
    )
    assert answer.status_code == 201, answer.text
    media_id: int = answer.json()["data"]["media_id"]
    return media_id


async def approved(live: Live, auth: dict[str, str], fields: dict[str, Any]) -> int:
    created = await live.herald.post(TEMPLATES, json={"language": "en", **fields}, headers=auth)
    assert created.status_code == 201, created.text
    template_id: int = created.json()["data"]["id"]
    submitted = await live.herald.post(f"{TEMPLATES}/{template_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text

    async def is_approved() -> bool:
        answer = await live.herald.get(f"{TEMPLATES}/{template_id}", headers=auth)
        return bool(answer.json()["data"]["state"] == "APPROVED")

    await eventually(is_approved, message=f"{fields['name']} is approved")
    return template_id


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_each_kind_is_created_in_metas_shape_and_sent(
    live: Live, live_ana: dict[str, str], kind: str
) -> None:
    fields, send, media_kind = KINDS[kind]
    header_media = None
    if media_kind is not None:
        sample = await upload(live, live_ana, SAMPLES[media_kind])
        fields = {**fields, "header": {"format": media_kind, "example_media_id": sample}}
        header_media = await upload(live, live_ana, SAMPLES[media_kind])
        send = {**send, "header_media_id": header_media}
    template_id = await approved(live, live_ana, {"name": kind, **fields})

    at_meta = next(
        t for t in (await live.emulator.get("/_emulator/templates")).json() if t["name"] == kind
    )
    components = {c["type"]: c for c in at_meta["components"]}
    if fields["category"] == "AUTHENTICATION":
        assert "text" not in components["BODY"]
        (button,) = components["BUTTONS"]["buttons"]
        assert button["type"] == "OTP"
        assert button["otp_type"] == fields.get("otp_type", "COPY_CODE")
    if media_kind is not None:
        (handle,) = components["HEADER"]["example"]["header_handle"]
        assert handle.startswith("4::")

    answer = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send", json={**TO, **send}, headers=live_ana
    )
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["data"]["message"]["id"]

    async def read() -> bool:
        found = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
        return bool(found.json()["data"]["state"] == "read")

    await eventually(read, message=f"the {kind} message is read")
    sent = next(
        m["payload"]["template"]
        for m in (await live.emulator.get("/_emulator/messages")).json()
        if m["template"] == kind
    )
    if "header_params" in send:
        header = next(c for c in sent["components"] if c["type"] == "header")
        assert header["parameters"] == [{"type": "text", "text": "A-2001"}]


async def test_media_header_templates_need_the_channels_app_id(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    sample = await upload(live, live_ana, files.png())
    fields = {"name": "promo", "language": "en", "category": "MARKETING", "body": "New!"}
    header = {"format": "IMAGE", "example_media_id": sample}
    created = await live.herald.post(TEMPLATES, json={**fields, "header": header}, headers=live_ana)
    template_id = created.json()["data"]["id"]
    cipher = Cipher(live.settings.resolved_encryption_keys())
    async with session_factory(db.engine)() as session:  # a Meta channel added without --app-id
        user = await users.get_by_email(session, "ana@example.com")
        assert user is not None
        channel = await channel_service.ensure_default(
            session, user.id, emulator_defaults(live.settings), cipher, datetime.now(UTC)
        )
        channel.app_id, channel.is_sandbox = None, False
        await session.commit()
    refused = await live.herald.post(f"{TEMPLATES}/{template_id}/submit", headers=live_ana)
    assert_error(refused, 409, "channel_app_id_missing")
    async with session_factory(db.engine)() as session:  # `herald channels update --app-id`
        channel = await channel_service.require(session, channel.id)
        await channel_service.update(session, channel, cipher, datetime.now(UTC), app_id="1234567")
        await session.commit()
    submitted = await live.herald.post(f"{TEMPLATES}/{template_id}/submit", headers=live_ana)
    assert submitted.status_code == 200, submitted.text


async def test_a_document_header_send_takes_only_a_pdf(
    live: Live, live_ana: dict[str, str]
) -> None:
    sample = await upload(live, live_ana, files.pdf())
    template_id = await approved(
        live,
        live_ana,
        {
            "name": "receipt",
            "category": "UTILITY",
            "body": "Your receipt.",
            "header": {"format": "DOCUMENT", "example_media_id": sample},
        },
    )
    word = await upload(live, live_ana, files.docx())
    answer = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send", json={**TO, "header_media_id": word}, headers=live_ana
    )
    body = assert_error(answer, 415, "header_document_not_pdf")
    assert body["data"]["media_id"] == word  # type: ignore[index]


async def test_an_authentication_draft_stored_in_the_old_shape_is_submitted_in_metas(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    async with session_factory(db.engine)() as session:
        user = await users.get_by_email(session, "ana@example.com")
    assert user is not None
    legacy = await approved_template(  # as Herald stored AUTHENTICATION templates before
        db,
        user,
        live.settings,
        datetime.now(UTC),
        state="DRAFT",
        name="old_login_code",
        category="AUTHENTICATION",
        body="{{1}} is your verification code.",
        placeholder_count=0,
        buttons=[{"type": "COPY_CODE", "text": "Copy code"}],
    )
    submitted = await live.herald.post(f"{TEMPLATES}/{legacy.id}/submit", headers=live_ana)
    assert submitted.status_code == 200, submitted.text
    at_meta = next(
        t
        for t in (await live.emulator.get("/_emulator/templates")).json()
        if t["name"] == "old_login_code"
    )
    assert at_meta["components"] == [
        {"type": "BODY", "add_security_recommendation": False},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
