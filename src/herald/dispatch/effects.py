"""What some provider errors mean beyond the message: opt-outs and unusable templates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.dispatch.policy import Decision
from herald.dispatch.results import SendResult
from herald.models import Channel, Template
from herald.opt_out import repository as opt_outs
from herald.provider.base import ErrorKind

TEMPLATE_STATE_FOR_CODE = {132015: "PAUSED", 132016: "DISABLED"}


async def apply_side_effects(
    session: AsyncSession,
    channel: Channel,
    decisions: Sequence[tuple[SendResult, Decision]],
    now: datetime,
) -> None:
    for result, _ in decisions:
        error, message = result.error, result.message
        if error is None:
            continue
        if error.kind is ErrorKind.OPTED_OUT:
            await opt_outs.add(
                session, message.user_id, message.phone_number, message.country_code, "131050", now
            )
        elif error.kind is ErrorKind.TEMPLATE_UNAVAILABLE and message.template_id is not None:
            state = TEMPLATE_STATE_FOR_CODE.get(error.code or 0, "PAUSED")
            await session.execute(
                update(Template)
                .where(Template.id == message.template_id)
                .values(state=state, updated_at=now)
            )
