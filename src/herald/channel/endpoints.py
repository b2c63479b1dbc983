"""A user's channels (senders): listed, read, and which one is the default. Operators add and
remove them (``herald channels``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from herald.channel import service
from herald.channel.schemas import ChannelOut
from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page
from herald.models import Channel

router = APIRouter(tags=["channels"])

ChannelId = Annotated[int, Path(ge=1, le=MAX_ID)]


def channel_out(channel: Channel) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        phone_number_id=channel.phone_number_id,
        display_number=channel.display_number,
        waba_id=channel.waba_id,
        is_default=channel.is_default,
        throughput=channel.throughput_per_second,
        app_id=service.app_id_of(channel),
        created_at=channel.created_at,
    )


@router.get("/api/v2/channels")
async def list_channels(
    user: CurrentUser, session: SessionDep, params: PageParamsDep
) -> Success[Page[ChannelOut]]:
    """The caller's channels, oldest first."""
    channels, total = await service.list_page(session, user.id, params)
    return Success(
        message="Channels", data=make_page([channel_out(c) for c in channels], total, params)
    )


@router.get("/api/v2/channels/{channel_id}")
async def get_channel(
    channel_id: ChannelId, user: CurrentUser, session: SessionDep
) -> Success[ChannelOut]:
    channel = await service.get_for_user(session, user.id, channel_id)
    return Success(message="Channel", data=channel_out(channel))


@router.put("/api/v2/channels/{channel_id}/default")
async def set_default_channel(
    channel_id: ChannelId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[ChannelOut]:
    channel = await service.get_for_user(session, user.id, channel_id)
    await service.make_default(session, channel, runtime.clock.now())
    await session.commit()
    return Success(message="Default channel set", data=channel_out(channel))
