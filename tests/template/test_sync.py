"""A missed webhook cannot leave a template PENDING forever: the periodic sync asks the provider."""

from __future__ import annotations

from herald.db import session_factory
from herald.kit.clock import SystemClock
from herald.kit.crypto import Cipher
from herald.provider.cloud_api import CloudApiProvider, new_session
from herald.runtime import emulator_defaults
from herald.template.service import ProviderContext
from herald.template.tasks import sync_pending
from tests.conftest import DatabaseUnderTest
from tests.dispatch.test_end_to_end import ORDER
from tests.live_herald import Live


async def test_sync_catches_up_on_a_lost_webhook(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    await live.emulator.patch(
        "/_emulator/config", json={"approve_after_seconds": None, "webhooks_enabled": False}
    )
    created = await live.herald.post("/api/v2/whatsapp/templates", json=ORDER, headers=live_ana)
    template_id = created.json()["data"]["id"]
    await live.herald.post(f"/api/v2/whatsapp/templates/{template_id}/submit", headers=live_ana)
    provider_id = (await live.emulator.get("/_emulator/templates")).json()[0]["id"]
    await live.emulator.post(f"/_emulator/templates/{provider_id}/approve")  # no webhook sent

    async with new_session(10) as http:
        ctx = ProviderContext(
            CloudApiProvider(http),
            Cipher(live.settings.resolved_encryption_keys()),
            emulator_defaults(live.settings),
        )
        assert await sync_pending(session_factory(db.engine), ctx, SystemClock()) == 1
        assert await sync_pending(session_factory(db.engine), ctx, SystemClock()) == 0
    answer = await live.herald.get(f"/api/v2/whatsapp/templates/{template_id}", headers=live_ana)
    assert answer.json()["data"]["state"] == "APPROVED"
