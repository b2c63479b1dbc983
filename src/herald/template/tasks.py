"""Periodic template sync: a missed webhook never leaves a template PENDING (or PAUSED, with
messages held for it) forever."""

from __future__ import annotations

from itertools import groupby

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.kit.clock import Clock
from herald.kit.metrics import ITEM_FAILURES
from herald.models import Channel, Template
from herald.provider.base import ProviderError
from herald.template import repository
from herald.template.service import PROVIDER_EVENTS, ProviderContext, apply_state

log = structlog.get_logger("herald.template.sync")


async def sync_pending(
    sessions: async_sessionmaker[AsyncSession], ctx: ProviderContext, clock: Clock
) -> int:
    """Ask the provider about every PENDING or PAUSED template; returns how many changed
    state.

    A channel that cannot be asked (its provider failing, or a row Herald cannot use, such as
    a token encrypted with a key no longer configured) is skipped this round, logged and
    counted: the other channels' templates are still synced. Nothing is set aside: a sync is
    a read, retried at the next interval at no cost to anyone else."""
    changed = 0
    async with sessions() as session:
        pending = await repository.pending(session)
        for channel_id, group in groupby(pending, key=lambda t: t.channel_id):
            channel = await channels.get(session, channel_id) if channel_id else None
            if channel is None:
                continue
            try:
                changed += await _sync_channel(session, channel, list(group), ctx, clock)
            except Exception as exc:
                ITEM_FAILURES.labels("template_sync").inc()
                log.error(
                    "template.sync_channel_failed", channel_id=channel_id, error=type(exc).__name__
                )
        await session.commit()
    if changed:
        log.info("template.synced", changed=changed)
    return changed


async def _sync_channel(
    session: AsyncSession,
    channel: Channel,
    templates: list[Template],
    ctx: ProviderContext,
    clock: Clock,
) -> int:
    changed = 0
    access = channel_service.access(channel, ctx.cipher)
    for template in templates:
        try:
            found = [t async for t in ctx.provider.list_templates(access, template.name)]
        except ProviderError as exc:
            log.warning(
                "template.sync_failed",
                channel_id=channel.id,
                kind=exc.kind,
                provider_code=exc.code,
            )
            break  # this channel's provider is failing: try the others
        match = next((t for t in found if t.id == template.provider_template_id), None) or next(
            (t for t in found if t.language == template.language), None
        )
        state = PROVIDER_EVENTS.get(match.status) if match else None
        if match and state:
            changed += await apply_state(
                session, template, state, match.rejected_reason, clock.now()
            )
    return changed
