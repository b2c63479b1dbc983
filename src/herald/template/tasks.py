"""Periodic template sync: a missed webhook never leaves a template PENDING (or PAUSED, with
messages held for it) forever."""

from __future__ import annotations

from itertools import groupby

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.kit.clock import Clock
from herald.provider.base import ProviderError
from herald.template import repository
from herald.template.service import PROVIDER_EVENTS, ProviderContext, apply_state

log = structlog.get_logger("herald.template.sync")


async def sync_pending(
    sessions: async_sessionmaker[AsyncSession], ctx: ProviderContext, clock: Clock
) -> int:
    """Ask the provider about every PENDING or PAUSED template; returns how many changed
    state."""
    changed = 0
    async with sessions() as session:
        pending = await repository.pending(session)
        for channel_id, group in groupby(pending, key=lambda t: t.channel_id):
            channel = await channels.get(session, channel_id) if channel_id else None
            if channel is None:
                continue
            access = channel_service.access(channel, ctx.cipher)
            for template in group:
                try:
                    found = [t async for t in ctx.provider.list_templates(access, template.name)]
                except ProviderError as exc:
                    log.warning(
                        "template.sync_failed",
                        channel_id=channel_id,
                        kind=exc.kind,
                        provider_code=exc.code,
                    )
                    break  # this channel's provider is failing: try the others
                match = next(
                    (t for t in found if t.id == template.provider_template_id), None
                ) or next((t for t in found if t.language == template.language), None)
                state = PROVIDER_EVENTS.get(match.status) if match else None
                if match and state:
                    changed += await apply_state(
                        session, template, state, match.rejected_reason, clock.now()
                    )
        await session.commit()
    if changed:
        log.info("template.synced", changed=changed)
    return changed
