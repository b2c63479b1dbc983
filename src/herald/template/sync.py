"""Import and sync: every template of a channel's WhatsApp Business Account, as Meta lists it,
becomes (or updates) Herald's copy; one Herald made and one imported are the same object.

A template Herald knows at the provider that Meta no longer lists is marked DELETED: it keeps
its messages' history and is never sent again. Services never commit: the caller does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import template_events
from herald.channel import service as channel_service
from herald.dispatch.repository import release_held
from herald.models import Channel, Template
from herald.provider.base import ProviderError, ProviderTemplate, as_api_error
from herald.template import repository
from herald.template.importing import ImportedFields, imported
from herald.template.service import ProviderContext

log = structlog.get_logger("herald.template.sync")

# Never marked DELETED by a sync: a DRAFT was never at the provider, a DELETED one already is.
NOT_REMOVABLE = ("DRAFT", "DELETED")


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def add(self, other: SyncCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.removed += other.removed

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed


async def sync_user(
    session: AsyncSession, user_id: int, ctx: ProviderContext, now: datetime
) -> SyncCounts:
    """The API's and the CLI's sync: each WABA of the user's channels, listed once (through the
    default channel for its WABA, else the WABA's oldest channel; the default is made on first
    need with the built-in emulator), a provider failure as the API error the caller gets."""
    default = await channel_service.ensure_default(session, user_id, ctx.emulator, ctx.cipher, now)
    by_waba: dict[str, Channel] = {default.waba_id: default}
    for channel in await channel_service.of_user(session, user_id):
        by_waba.setdefault(channel.waba_id, channel)
    counts = SyncCounts()
    for channel in by_waba.values():
        try:
            counts.add(await sync_channel(session, channel, ctx, now))
        except ProviderError as exc:
            log.warning(
                "template.import_failed",
                channel_id=channel.id,
                kind=exc.kind,
                provider_code=exc.code,
            )
            raise as_api_error(exc) from None
    return counts


async def sync_channel(
    session: AsyncSession, channel: Channel, ctx: ProviderContext, now: datetime
) -> SyncCounts:
    """Read every template of ``channel``'s account (all pages), then bring Herald's copies of
    its user's templates in step. Raises ProviderError when the listing fails (nothing is
    changed then: a partial listing would look like deletions)."""
    access = channel_service.access(channel, ctx.cipher)
    # Asked before Herald's rows are read, and without a transaction open on them: a template
    # submitted meanwhile is left alone below (its submission is newer than this listing).
    listing_started = now
    listed = [t async for t in ctx.provider.list_templates(access)]
    ours = await repository.of_waba(session, channel.user_id, channel.waba_id)
    by_id = {t.provider_template_id: t for t in ours if t.provider_template_id}
    # The WABA's own copy before a draft of no WABA yet (which the listing then adopts).
    in_waba_last = sorted(ours, key=lambda t: t.waba_id is not None)
    by_key = {(t.name, t.language): t for t in in_waba_last}
    counts = SyncCounts()
    seen: set[int] = set()
    for item in listed:
        template = by_id.get(item.id) or by_key.get((item.name, item.language))
        if template is None:
            template = await _create(session, channel, item, now)
            if template is not None:
                counts.created += 1
                seen.add(template.id)
                continue
            template = await repository.get_by_name(
                session, channel.user_id, channel.waba_id, item.name, item.language
            )
            if template is None:
                continue
        if template.id in seen:
            continue  # two listed copies of one template: the first decides
        seen.add(template.id)
        if await _update(session, template, channel, item, now):
            counts.updated += 1
        else:
            counts.unchanged += 1
    for template in ours:
        if template.id in seen or not _removable(template, channel, listing_started):
            continue
        before = template_events.snapshot(template)
        template.state = "DELETED"
        template.updated_at = now
        await template_events.announce(session, template, before, "SYNC", None, now)
        counts.removed += 1
    await session.flush()
    log.info(
        "template.synced_channel",
        channel_id=channel.id,
        listed=len(listed),
        created=counts.created,
        updated=counts.updated,
        removed=counts.removed,
    )
    return counts


def _removable(template: Template, channel: Channel, listing_started: datetime) -> bool:
    if template.state in NOT_REMOVABLE or not template.provider_template_id:
        return False
    if template.waba_id != channel.waba_id:
        return False  # in another WABA: a sync of that WABA decides
    submitted = template.submitted_at
    return submitted is None or submitted < listing_started


async def _create(
    session: AsyncSession, channel: Channel, item: ProviderTemplate, now: datetime
) -> Template | None:
    """The imported template, or None when the name was taken meanwhile."""
    fields = imported(item)
    template = Template(
        user_id=channel.user_id,
        channel_id=channel.id,
        waba_id=channel.waba_id,
        name=item.name,
        language=item.language,
        provider_template_id=item.id,
        created_at=now,
        updated_at=now,
        **fields.as_columns(),
    )
    return await repository.add_unless_taken(session, template)


async def _update(
    session: AsyncSession,
    template: Template,
    channel: Channel,
    item: ProviderTemplate,
    now: datetime,
) -> bool:
    """Herald's copy as Meta lists it; whether anything changed. Every field is written from
    the listing (Meta's copy is the truth), a DRAFT of the same name included: this path does
    not go through ``provider_news.set_state``, which ignores provider news about drafts."""
    fields: ImportedFields = imported(item)
    # Its channel stays when it is one of this WABA's numbers (several may be).
    keeps_channel = template.channel_id is not None and template.waba_id == channel.waba_id
    wanted = {
        **fields.as_columns(),
        "channel_id": template.channel_id if keeps_channel else channel.id,
        "waba_id": channel.waba_id,
        "provider_template_id": item.id,
    }
    changes = {k: v for k, v in wanted.items() if getattr(template, k) != v}
    if not changes:
        return False
    was_paused = template.state == "PAUSED"
    before = template_events.snapshot(template)
    for key, value in changes.items():
        setattr(template, key, value)
    template.updated_at = now
    if was_paused and template.state == "APPROVED":
        await release_held(session, [template.id], now)
    # Told to the owner's callbacks like a webhook's change (a state, category or rating).
    await template_events.announce(session, template, before, "SYNC", None, now)
    return True
