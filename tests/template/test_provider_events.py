"""Meta's template events applied to Herald's copy (template/provider_news.apply_provider_event),
and every way a template changes queueing one ``template.updated`` callback per change: the
same event twice, a DRAFT, a value Herald does not know, the periodic sync, the dispatcher's
verdict on a refused send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from herald.config import Settings
from herald.db import session_factory
from herald.dispatch.template_holds import MISSING, PAUSED, Verdict, record_verdict
from herald.models import CallbackDelivery, CallbackEndpoint, Channel, Template, User
from herald.provider.events import (
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatus,
    TemplateStatusUpdate,
)
from herald.template.provider_news import ProviderTemplateEvent, apply_provider_event, apply_state
from tests.conftest import DatabaseUnderTest, add_user
from tests.message.helpers import approved_template

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def waba_of(db: DatabaseUnderTest, template: Template) -> str:
    async with session_factory(db.engine)() as session:
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        return channel.waba_id


async def with_callback(db: DatabaseUnderTest, user: User, events: list[str]) -> None:
    async with session_factory(db.engine)() as session:
        session.add(
            CallbackEndpoint(
                user_id=user.id,
                url=f"https://93.184.215.14/{user.id}/{len(events)}",
                events=events,
                secret_encrypted="x",
                created_at=NOW,
            )
        )
        await session.commit()


async def apply(db: DatabaseUnderTest, *events: ProviderTemplateEvent) -> int:
    changed = 0
    async with session_factory(db.engine)() as session:
        for event in events:
            changed += await apply_provider_event(session, event, NOW)
        await session.commit()
    return changed


async def reread(db: DatabaseUnderTest, template: Template) -> Template:
    async with session_factory(db.engine)() as session:
        found = await session.get(Template, template.id)
        assert found is not None
        return found


async def announced(db: DatabaseUnderTest, template: Template) -> list[dict[str, Any]]:
    """The template.updated events queued for the template, in delivery order."""
    async with session_factory(db.engine)() as session:
        rows = await session.execute(
            select(CallbackDelivery)
            .where(CallbackDelivery.template_id == template.id)
            .order_by(CallbackDelivery.id)
        )
        return [{**(d.event or {}), "state": d.state} for d in rows.scalars()]


async def ana_with(
    db: DatabaseUnderTest, settings: Settings, state: str = "APPROVED", **fields: Any
) -> tuple[Template, str]:
    ana = await add_user(db, "ana@example.com")
    await with_callback(db, ana, ["message.status", "template.updated"])
    template = await approved_template(db, ana, settings, NOW, state=state, **fields)
    return template, await waba_of(db, template)


def quality(waba: str, score: str, provider_id: str = "1") -> TemplateQualityUpdate:
    return TemplateQualityUpdate(waba, provider_id, None, None, "GREEN", score)


def category(waba: str, new: str) -> TemplateCategoryUpdate:
    return TemplateCategoryUpdate(waba, "1", None, None, "UTILITY", new)


def status(waba: str, event: str, leaves: TemplateStatus | None) -> TemplateStatusUpdate:
    return TemplateStatusUpdate(waba, leaves, "1", None, None, None, event=event)


async def test_the_same_event_twice_changes_and_announces_once(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    template, waba = await ana_with(db, settings)
    assert await apply(db, quality(waba, "YELLOW"), quality(waba, "YELLOW")) == 1
    assert await apply(db, category(waba, "MARKETING"), category(waba, "MARKETING")) == 1
    stored = await reread(db, template)
    assert (stored.quality, stored.category, stored.previous_category) == (
        "YELLOW",
        "MARKETING",
        "UTILITY",
    )
    events = await announced(db, template)
    assert [(e["data"]["reason"], e["data"]["previous"]) for e in events] == [
        ("QUALITY", {"quality": None}),
        ("CATEGORY", {"category": "UTILITY"}),
    ]
    assert events[1]["data"]["quality"] == "YELLOW"  # the template as of the change


async def test_what_each_status_event_leaves_and_what_it_announces(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    """The table of docs/api.md: FLAGGED keeps the state and sets the flag, any other status
    event clears it, PENDING_DELETION and DELETED leave DELETED, IN_APPEAL is in review."""
    template, waba = await ana_with(db, settings)
    steps = [
        ("FLAGGED", None, "APPROVED", True),
        ("FLAGGED", None, "APPROVED", True),  # again: nothing new
        ("REINSTATED", TemplateStatus.APPROVED, "APPROVED", False),
        ("PENDING_DELETION", TemplateStatus.DELETED, "DELETED", False),
        ("DELETED", TemplateStatus.DELETED, "DELETED", False),
    ]
    for event, leaves, state, flagged in steps:
        await apply(db, status(waba, event, leaves))
        stored = await reread(db, template)
        assert (stored.state, stored.flagged_at is not None) == (state, flagged), event
    events = await announced(db, template)
    assert [(e["data"]["reason"], e["state"]) for e in events] == [
        ("FLAGGED", "APPROVED"),
        ("REINSTATED", "APPROVED"),  # the flag ended
        ("PENDING_DELETION", "DELETED"),
    ]
    assert events[1]["data"]["previous"] == {"flagged_at": "2026-12-03T09:00:00Z"}


async def test_a_rejection_appealed_is_in_review_again(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    template, waba = await ana_with(db, settings, state="REJECTED", rejection_reason="SCAM")
    await apply(db, status(waba, "IN_APPEAL", TemplateStatus.PENDING))
    stored = await reread(db, template)
    assert (stored.state, stored.rejection_reason) == ("PENDING", None)
    (event,) = await announced(db, template)
    assert event["data"]["previous"] == {"state": "REJECTED", "rejection_reason": "SCAM"}


async def test_a_draft_and_values_herald_does_not_know_change_nothing(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    draft, waba = await ana_with(db, settings, state="DRAFT")
    assert await apply(db, quality(waba, "RED"), category(waba, "MARKETING")) == 0
    template, _ = await ana_with_second(db, settings)
    assert await apply(db, quality(waba, "PURPLE", "2"), category(waba, "ACCOUNT_UPDATE")) == 0
    for unchanged in (draft, template):
        stored = await reread(db, unchanged)
        assert (stored.quality, stored.category) == (None, "UTILITY")
        assert await announced(db, unchanged) == []


async def ana_with_second(db: DatabaseUnderTest, settings: Settings) -> tuple[Template, str]:
    async with session_factory(db.engine)() as session:
        ana = (await session.execute(select(User))).scalar_one()
    template = await approved_template(db, ana, settings, NOW, name="second")
    async with session_factory(db.engine)() as session:
        stored = await session.get(Template, template.id)
        assert stored is not None
        stored.provider_template_id = "2"
        await session.commit()
    return template, await waba_of(db, template)


async def test_another_users_template_and_callbacks_are_untouched(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    template, waba = await ana_with(db, settings)
    bob = await add_user(db, "bob@example.com")
    await with_callback(db, bob, ["message.status", "template.updated"])
    bobs = await approved_template(db, bob, settings, NOW)  # the same provider id, elsewhere
    await apply(db, status(waba, "PAUSED", TemplateStatus.PAUSED))  # ana's account, id "1"
    assert (await reread(db, template)).state == "PAUSED"
    assert (await reread(db, bobs)).state == "APPROVED"
    assert len(await announced(db, template)) == 1
    assert await announced(db, bobs) == []


async def test_only_callbacks_taking_template_events_get_them(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    template, waba = await ana_with(db, settings)
    async with session_factory(db.engine)() as session:
        ana = (await session.execute(select(User))).scalar_one()
    await with_callback(db, ana, ["message.status"])
    await apply(db, quality(waba, "RED"))
    async with session_factory(db.engine)() as session:
        rows = await session.execute(
            select(CallbackEndpoint.events)
            .join(CallbackDelivery, CallbackDelivery.endpoint_id == CallbackEndpoint.id)
            .where(CallbackDelivery.template_id == template.id)
        )
        assert rows.scalars().all() == [["message.status", "template.updated"]]


async def test_a_change_found_by_the_sync_is_announced(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    """``apply_state`` as the periodic sync (or an import) calls it."""
    template, _ = await ana_with(db, settings, state="PENDING")
    async with session_factory(db.engine)() as session:
        stored = await session.get(Template, template.id)
        assert stored is not None
        assert await apply_state(session, stored, "APPROVED", None, NOW) == 1
        assert await apply_state(session, stored, "APPROVED", None, NOW) == 0
        await session.commit()
    (event,) = await announced(db, template)
    assert (event["data"]["reason"], event["data"]["previous"]) == ("SYNC", {"state": "PENDING"})


async def test_the_dispatchers_verdict_is_announced_and_keeps_a_deleted_template(
    db: DatabaseUnderTest, settings: Settings
) -> None:
    paused, _ = await ana_with(db, settings)
    deleted, _ = await ana_with_second(db, settings)
    async with session_factory(db.engine)() as session:
        stored = await session.get(Template, deleted.id)
        assert stored is not None
        stored.state = "DELETED"
        await session.commit()
    verdicts = [
        Verdict(("order_confirmed", "en"), PAUSED, True, "PAUSED", {paused.id}),
        Verdict(("second", "en"), MISSING, False, "DRAFT", {deleted.id}),
    ]
    async with session_factory(db.engine)() as session:
        for verdict in verdicts:
            assert paused.channel_id is not None
            await record_verdict(session, paused.channel_id, verdict, NOW, timedelta(minutes=5))
        await session.commit()
    assert (await reread(db, paused)).state == "PAUSED"
    (event,) = await announced(db, paused)
    assert (event["data"]["reason"], event["data"]["previous"]) == (
        "SEND_REFUSED",
        {"state": "APPROVED"},
    )
    kept = await reread(db, deleted)
    assert (kept.state, kept.provider_template_id) == ("DELETED", None)
    assert await announced(db, deleted) == []
