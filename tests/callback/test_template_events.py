"""Meta's template events, from the emulator over real HTTP: each changes Herald's template
within one webhook, and reaches the owner's callbacks as a ``template.updated`` event, signed,
once per change and in order; another user's template and callbacks are untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from herald.db import session_factory
from herald.models import CallbackDelivery
from tests.callback.test_delivery import CALLBACKS, Receiver, register
from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live_herald import Live, eventually

TEMPLATES = "/api/v2/whatsapp/templates"
EVERY_EVENT = ("message.status", "template.updated")

Shown = Callable[[dict[str, Any]], bool]
# What Meta does (an emulator control route and its body), what Herald's template shows once
# its webhook is applied, and the event announcing it: its reason and the values it replaced.
STEPS: list[tuple[str, dict[str, Any], Shown, str, dict[str, Any]]] = [
    ("quality", {"quality": "RED"}, lambda t: t["quality"] == "RED", "QUALITY", {"quality": None}),
    (
        "category",
        {"category": "MARKETING"},
        lambda t: (t["category"], t["previous_category"]) == ("MARKETING", "UTILITY"),
        "CATEGORY",
        {"category": "UTILITY"},
    ),
    # A warning: the template stays APPROVED, and is still sent.
    (
        "flag",
        {},
        lambda t: t["state"] == "APPROVED" and t["flagged_at"] is not None,
        "FLAGGED",
        {"flagged_at": None},
    ),
    (
        "pause",
        {},
        lambda t: t["state"] == "PAUSED" and t["flagged_at"] is None,
        "PAUSED",
        {"state": "APPROVED"},
    ),
    ("reinstate", {}, lambda t: t["state"] == "APPROVED", "REINSTATED", {"state": "PAUSED"}),
    (
        "pending-deletion",
        {},
        lambda t: t["state"] == "DELETED",
        "PENDING_DELETION",
        {"state": "APPROVED"},
    ),
]


async def provider_id(live: Live, name: str) -> str:
    templates = (await live.emulator.get("/_emulator/templates")).json()
    return str(next(t["id"] for t in templates if t["name"] == name))


async def shows(live: Live, auth: dict[str, str], template_id: int, check: Shown) -> dict[str, Any]:
    """The template as Herald shows it, once ``check`` holds."""
    shown: dict[str, Any] = {}

    async def holds() -> bool:
        answer = await live.herald.get(f"{TEMPLATES}/{template_id}", headers=auth)
        shown.update(answer.json()["data"])
        return check(shown)

    await eventually(holds, message="the template changed in Herald")
    return shown


async def deliveries_done(db: DatabaseUnderTest, template_id: int, expected: int) -> None:
    """Every delivery queued for the template was taken, and there are ``expected``."""

    async def done() -> bool:
        async with session_factory(db.engine)() as session:
            rows = (
                await session.execute(
                    select(CallbackDelivery.delivered).where(
                        CallbackDelivery.template_id == template_id
                    )
                )
            ).all()
        return len(rows) >= expected and all(row.delivered for row in rows)

    await eventually(done, message="the template's callbacks delivered")


async def test_each_meta_event_changes_the_template_and_is_announced_once_in_order(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest, receiver: Receiver
) -> None:
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    anas_secret = await register(live, live_ana, receiver.url, EVERY_EVENT)
    bobs_secret = await register(live, bob, receiver.url, EVERY_EVENT)
    ana_template = await approved_template(live, live_ana)
    bob_template = await approved_template(live, bob, name="bobs_order")
    ana_id, bob_id = ana_template["id"], bob_template["id"]
    provider = await provider_id(live, "order_confirmed")

    for route, body, expected, _, _ in STEPS:
        answer = await live.emulator.post(f"/_emulator/templates/{provider}/{route}", json=body)
        assert answer.status_code == 200, answer.text
        await shows(live, live_ana, ana_id, expected)
        if route == "flag":  # a warning only: the template is still sent
            sent = await live.herald.post(f"{TEMPLATES}/{ana_id}/send", json=SAM, headers=live_ana)
            assert sent.status_code == 202, sent.text

            # Out before the next step pauses the template: a send reaching Meta after the
            # pause would be refused, and that refusal would announce the pause first.
            async def taken() -> bool:
                return len((await live.emulator.get("/_emulator/messages")).json()) == 1

            await eventually(taken, message="the flagged template's send reaches Meta")

    # Approval plus one event a step, each delivered once: nothing more is queued.
    await deliveries_done(db, ana_id, 1 + len(STEPS))
    await deliveries_done(db, bob_id, 1)
    events = receiver.template_events(ana_id)
    assert [e["data"]["reason"] for e in events] == ["APPROVED"] + [s[3] for s in STEPS]
    previous = [dict(e["data"]["previous"]) for e in events]
    assert previous[0] == {"state": "PENDING"}
    # The pause also ended the flag: the time it was flagged is what it replaced.
    assert previous[4].pop("flagged_at") == events[3]["data"]["flagged_at"] is not None
    assert previous[1:] == [s[4] for s in STEPS]
    assert len({e["id"] for e in events}) == len(events)
    last = events[-1]
    assert last["type"] == "template.updated"
    assert {k: last["data"][k] for k in ("name", "language", "state", "category", "quality")} == {
        "name": "order_confirmed",
        "language": "en",
        "state": "DELETED",
        "category": "MARKETING",
        "quality": "RED",
    }
    assert last["data"]["previous_category"] == "UTILITY"

    # Signed with each owner's secret, and only that; bob heard of his approval alone.
    for raw, headers in receiver.deliveries:
        event = Webhook(anas_secret if b'"order_confirmed"' in raw else bobs_secret).verify(
            raw, headers
        )
        if event["type"] == "template.updated":
            assert headers["x-herald-event"] == "template.updated"
            owner_id = ana_id if event["data"]["name"] == "order_confirmed" else bob_id
            assert event["data"]["id"] == owner_id
            other = bobs_secret if owner_id == ana_id else anas_secret
            try:
                Webhook(other).verify(raw, headers)
                raise AssertionError("verified with the other user's secret")
            except WebhookVerificationError:
                pass
    bobs = receiver.template_events(bob_id)
    assert [(e["data"]["state"], e["data"]["reason"]) for e in bobs] == [("APPROVED", "APPROVED")]
    untouched = await live.herald.get(f"{TEMPLATES}/{bob_id}", headers=bob)
    assert {k: untouched.json()["data"][k] for k in ("state", "category", "quality")} == {
        "state": "APPROVED",
        "category": "UTILITY",
        "quality": None,
    }

    # Going away at Meta: no longer sent.
    refused = await live.herald.post(f"{TEMPLATES}/{ana_id}/send", json=SAM, headers=live_ana)
    assert refused.status_code == 400
    assert refused.json()["code"] == "template_deleted"


async def test_a_callback_for_message_events_only_hears_of_no_template(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest, receiver: Receiver
) -> None:
    await register(live, live_ana, receiver.url)  # message.status only
    template = await approved_template(live, live_ana)
    provider = await provider_id(live, "order_confirmed")
    await live.emulator.post(f"/_emulator/templates/{provider}/pause")
    await shows(live, live_ana, template["id"], lambda t: t["state"] == "PAUSED")
    async with session_factory(db.engine)() as session:
        queued = await session.execute(
            select(CallbackDelivery).where(CallbackDelivery.template_id == template["id"])
        )
        assert queued.scalars().all() == []
    listed = await live.herald.get(CALLBACKS, headers=live_ana)
    assert listed.json()["data"]["items"][0]["events"] == ["message.status"]
