"""Templates over real HTTP, reviewed by the emulator (spec/api.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from herald.channel import service as channel_service
from herald.channel.defaults import emulator_defaults
from herald.db import session_factory
from herald.kit.crypto import Cipher
from herald.user import repository as users
from tests.conftest import DatabaseUnderTest, assert_error
from tests.live_herald import Live, eventually

ORDER = {
    "name": "order_confirmed",
    "language": "en",
    "category": "UTILITY",
    "body": "Hello {{1}}, your order {{2}} is confirmed.",
}


async def create(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    answer = await client.post("/api/v2/whatsapp/templates", json={**ORDER, **fields}, headers=auth)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def state(live: Live, auth: dict[str, str], template_id: int) -> str:
    answer = await live.herald.get(f"/api/v2/whatsapp/templates/{template_id}", headers=auth)
    value: str = answer.json()["data"]["state"]
    return value


async def test_the_whole_lifecycle_through_the_emulator(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await create(live.herald, live_ana)
    assert template["state"] == "DRAFT"
    assert template["placeholder_count"] == 2
    assert template["rejection_reason"] is None

    submitted = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=live_ana
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["data"]["state"] == "PENDING"

    async def approved() -> bool:
        return await state(live, live_ana, template["id"]) == "APPROVED"

    await eventually(approved, message="the emulator's APPROVED webhook reaches the template")

    again = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=live_ana
    )
    body = assert_error(again, 409, "invalid_state")
    assert body["data"] == {"state": "APPROVED"}

    at_emulator = (await live.emulator.get("/_emulator/templates")).json()
    assert any(t["name"] == "order_confirmed" for t in _items(at_emulator))


def _items(listing: Any) -> list[dict[str, Any]]:
    return listing["data"] if isinstance(listing, dict) else listing


async def test_rejection_through_the_control_api_and_resubmission(
    live: Live, live_ana: dict[str, str]
) -> None:
    await live.emulator.patch("/_emulator/config", json={"approve_after_seconds": None})
    template = await create(live.herald, live_ana)
    await live.herald.post(f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=live_ana)
    emulator_templates = _items((await live.emulator.get("/_emulator/templates")).json())
    provider_id = next(t["id"] for t in emulator_templates if t["name"] == "order_confirmed")
    rejected = await live.emulator.post(
        f"/_emulator/templates/{provider_id}/reject", json={"reason": "INVALID_FORMAT"}
    )
    assert rejected.status_code == 200

    async def is_rejected() -> bool:
        data = (
            await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana)
        ).json()["data"]
        return bool(data["state"] == "REJECTED" and data["rejection_reason"] == "INVALID_FORMAT")

    await eventually(is_rejected, message="REJECTED with its reason")
    resubmitted = await live.herald.post(
        f"/api/whatsapp/templates/{template['id']}/submit/", headers=live_ana
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["data"]["state"] == "PENDING"
    assert resubmitted.json()["data"]["rejection_reason"] is None


async def test_delete_removes_it_at_the_provider_too(live: Live, live_ana: dict[str, str]) -> None:
    template = await create(live.herald, live_ana)
    await live.herald.post(f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=live_ana)
    deleted = await live.herald.delete(
        f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana
    )
    assert deleted.status_code == 200
    assert_error(
        await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana),
        404,
        "template_not_found",
    )
    remaining = _items((await live.emulator.get("/_emulator/templates")).json())
    assert not any(t["name"] == "order_confirmed" for t in remaining)


async def test_a_draft_is_deleted_without_asking_the_provider(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await create(live.herald, live_ana)
    assert (
        await live.herald.delete(f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana)
    ).status_code == 200


async def test_provider_refusing_the_channel_token_is_a_clear_502(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    template = await create(live.herald, live_ana)
    cipher = Cipher(live.settings.resolved_encryption_keys())
    async with session_factory(db.engine)() as session:  # as `herald channels update` would
        user = await users.get_by_email(session, "ana@example.com")
        assert user is not None
        now = datetime.now(UTC)
        channel = await channel_service.ensure_default(
            session, user.id, emulator_defaults(live.settings), cipher, now
        )
        await channel_service.update(session, channel, cipher, now, access_token="revoked")
        await session.commit()
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=live_ana
    )
    body = assert_error(answer, 502, "provider_auth_failed")
    assert body["data"]["provider_code"] == 190  # type: ignore[index]
    assert await state(live, live_ana, template["id"]) == "DRAFT"
