"""A missed webhook cannot leave a template PENDING forever: the periodic sync asks the provider
about every template of every channel."""

from __future__ import annotations

from cryptography.fernet import Fernet
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from herald.channel.defaults import emulator_defaults
from herald.db import session_factory
from herald.kit.clock import SystemClock
from herald.kit.crypto import Cipher
from herald.models import Channel, Template, User
from herald.provider.cloud_api import CloudApiProvider, new_session
from herald.template.service import ProviderContext
from herald.template.tasks import sync_templates
from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import ORDER
from tests.live_herald import Live
from tests.template.seeds import EVERY_KIND, seed, user_id, waba_of
from tests.template.test_provider_events import announced, with_callback


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
    async with session_factory(db.engine)() as session:
        ana = await session.get(User, await user_id(db))
        assert ana is not None
    await with_callback(db, ana, ["template.updated"])

    async with new_session(10) as http:
        ctx = ProviderContext(
            CloudApiProvider(http),
            Cipher(live.settings.resolved_encryption_keys()),
            emulator_defaults(live.settings),
        )
        assert await sync_templates(session_factory(db.engine), ctx, SystemClock()) == 1
        assert await sync_templates(session_factory(db.engine), ctx, SystemClock()) == 0
    answer = await live.herald.get(f"/api/v2/whatsapp/templates/{template_id}", headers=live_ana)
    assert answer.json()["data"]["state"] == "APPROVED"
    async with session_factory(db.engine)() as session:
        template = await session.get(Template, template_id)
        assert template is not None
    # Found by the sync, told to the callbacks as a webhook's change would be: once.
    (event,) = await announced(db, template)
    assert (event["data"]["reason"], event["data"]["state"]) == ("SYNC", "APPROVED")
    assert event["data"]["previous"]["state"] == "PENDING"


def failures() -> float:
    counted = REGISTRY.get_sample_value(
        "herald_loop_item_failures_total", {"loop": "template_sync"}
    )
    return counted or 0.0


async def test_a_channel_that_cannot_be_asked_does_not_hold_up_the_others(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    """Ana's channel token was encrypted with a key since removed: her template stays PENDING
    (and the failure is counted), Bob's is synced all the same."""
    await live.emulator.patch(
        "/_emulator/config", json={"approve_after_seconds": None, "webhooks_enabled": False}
    )
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    ids = {}
    for name, auth in (("ana", live_ana), ("bob", bob)):
        created = await live.herald.post(
            "/api/v2/whatsapp/templates", json={**ORDER, "name": f"{name}_order"}, headers=auth
        )
        ids[name] = created.json()["data"]["id"]
        await live.herald.post(f"/api/v2/whatsapp/templates/{ids[name]}/submit", headers=auth)
    for template in (await live.emulator.get("/_emulator/templates")).json():
        await live.emulator.post(f"/_emulator/templates/{template['id']}/approve")
    async with session_factory(db.engine)() as session:
        anas = select(User).where(User.email == "ana@example.com")
        ana = (await session.execute(anas)).scalar_one()
        lost_key = Cipher([Fernet.generate_key().decode()])
        await session.execute(
            update(Channel)
            .where(Channel.user_id == ana.id)
            .values(access_token_encrypted=lost_key.encrypt("a token"))
        )
        await session.commit()
    failures_before = failures()

    async with new_session(10) as http:
        ctx = ProviderContext(
            CloudApiProvider(http),
            Cipher(live.settings.resolved_encryption_keys()),
            emulator_defaults(live.settings),
        )
        assert await sync_templates(session_factory(db.engine), ctx, SystemClock()) == 1
    states = {}
    for name, auth in (("ana", live_ana), ("bob", bob)):
        got = await live.herald.get(f"/api/v2/whatsapp/templates/{ids[name]}", headers=auth)
        states[name] = got.json()["data"]["state"]
    assert states == {"ana": "PENDING", "bob": "APPROVED"}
    assert failures() == failures_before + 1


async def test_the_periodic_sync_imports_and_follows_every_template_without_a_webhook(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    """Templates at the account are imported by the periodic sync alone, and a pause at Meta
    whose webhook never came shows in Herald at the next round."""
    await live.emulator.patch("/_emulator/config", json={"webhooks_enabled": False})
    await live.herald.post("/api/v2/whatsapp/templates/sync", headers=live_ana)  # her channel
    placed = await seed(live.emulator, waba_of(await user_id(db)), EVERY_KIND)
    sessions = session_factory(db.engine)
    async with new_session(10) as http:
        ctx = ProviderContext(
            CloudApiProvider(http),
            Cipher(live.settings.resolved_encryption_keys()),
            emulator_defaults(live.settings),
        )
        assert await sync_templates(sessions, ctx, SystemClock()) == len(EVERY_KIND)
        shipped = next(t for t in placed if t["name"] == "order_shipped")
        await live.emulator.post(f"/_emulator/templates/{shipped['id']}/pause")
        assert await sync_templates(sessions, ctx, SystemClock()) == 1
        assert await sync_templates(sessions, ctx, SystemClock()) == 0
    answer = await live.herald.get(
        "/api/v2/whatsapp/templates", params={"name": "order_shipped"}, headers=live_ana
    )
    assert [t["state"] for t in answer.json()["data"]["items"]] == ["PAUSED"]
