"""``GET /api/v2/channels/{channel_id}/health``: a channel's health (docs/api.md, "Channel
health"); the user's own channels only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from herald.channel import health, service
from herald.channel.health_schemas import ChannelHealthOut
from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID

router = APIRouter(tags=["channels"])


@router.get("/api/v2/channels/{channel_id}/health")
async def channel_health(
    channel_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Success[ChannelHealthOut]:
    channel = await service.get_for_user(session, user.id, channel_id)
    shown = ChannelHealthOut.model_validate(
        await health.view(session, channel, runtime.clock.now())
    )
    return Success(message="Channel health", data=shown)
