"""Periodic template sync: every template of every channel's account, so a missed webhook
never leaves a template PENDING (or PAUSED, with messages held for it) forever, a template
added or deleted at Meta shows in Herald, and Meta's quality ratings stay current."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.channel import repository as channels
from herald.kit.clock import Clock
from herald.kit.metrics import ITEM_FAILURES
from herald.provider.base import ProviderError
from herald.template.service import ProviderContext
from herald.template.sync import sync_channel

log = structlog.get_logger("herald.template.sync")


async def sync_templates(
    sessions: async_sessionmaker[AsyncSession], ctx: ProviderContext, clock: Clock
) -> int:
    """Sync every WABA with its provider: one listing (all pages) a user's WABA, each
    in its own transaction; returns how many templates were created, changed or removed.

    A channel that cannot be asked (its provider failing, or a row Herald cannot use, such as
    a token encrypted with a key no longer configured) is skipped this round, logged and
    counted: the other channels' templates are still synced. Nothing is set aside: a sync is
    a read, retried at the next interval at no cost to anyone else."""
    async with sessions() as session:
        # One listing per user and WABA: a WABA's numbers share its templates (the default
        # channel first, so that it lists the WABA it is in).
        listed: dict[tuple[int, str], int] = {}
        every = sorted(await channels.list_all(session), key=lambda c: not c.is_default)
        for each in every:
            listed.setdefault((each.user_id, each.waba_id), each.id)
        channel_ids = sorted(listed.values())
    changed = 0
    for channel_id in channel_ids:
        async with sessions() as session:
            channel = await channels.get(session, channel_id)
            if channel is None:
                continue
            try:
                counts = await sync_channel(session, channel, ctx, clock.now())
                await session.commit()
            except Exception as exc:
                await session.rollback()
                ITEM_FAILURES.labels("template_sync").inc()
                provider_code = exc.code if isinstance(exc, ProviderError) else None
                log.error(
                    "template.sync_channel_failed",
                    channel_id=channel_id,
                    error=type(exc).__name__,
                    provider_code=provider_code,
                )
                continue
            changed += counts.changed
    if changed:
        log.info("template.synced", changed=changed)
    return changed
