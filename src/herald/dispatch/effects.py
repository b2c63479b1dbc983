"""What some provider errors mean beyond the message: opt-outs, lost header files. (A template
the provider refuses is settled by its verdict: template_holds.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.dispatch.limit_holds import hold_after_refusal
from herald.dispatch.policy import Decision
from herald.dispatch.results import SendResult
from herald.media.provider_copies import ProviderCopies
from herald.models import Channel
from herald.opt_out import repository as opt_outs
from herald.provider.base import ChannelAccess, ErrorKind


async def apply_side_effects(
    session: AsyncSession,
    channel: Channel,
    decisions: Sequence[tuple[SendResult, Decision]],
    now: datetime,
) -> None:
    over_limit: dict[int, list[int]] = {}  # user → messages refused for the messaging limit
    for result, _ in decisions:
        error, message = result.error, result.message
        if error is None:
            continue
        if error.kind is ErrorKind.MESSAGING_LIMIT:
            over_limit.setdefault(message.user_id, []).append(message.id)
        if error.kind is ErrorKind.OPTED_OUT:
            # The opt-out's source is the provider's code, as a failed status's is (statuses.py).
            source = str(error.code) if error.code is not None else error.kind.value
            await opt_outs.add(
                session, message.user_id, message.phone_number, message.country_code, source, now
            )
    for user_id, refused in over_limit.items():
        await hold_after_refusal(session, user_id, channel.waba_id, refused, now)


async def forget_lost_media(
    media: ProviderCopies, access: ChannelAccess, sent: Sequence[SendResult]
) -> None:
    """A header file the provider no longer has: forgotten, so the next send uploads it again."""
    lost = {
        r.message.header_media_id
        for r in sent
        if r.error is not None
        and r.error.kind is ErrorKind.MEDIA_GONE
        and r.message.header_media_id is not None
    }
    for media_id in lost:
        await media.forget(access, media_id)
