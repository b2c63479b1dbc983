"""``/console/channels/{id}/health``: one channel's health as Meta reported it (quality,
messaging limit tier, throughput, sending status), on a page of its own; the table is the
``_channel_health.html`` partial, for other pages to include. It renders what the API answers
(``GET /api/v2/channels/{id}/health``, channel/health.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from herald.channel import health
from herald.channel import repository as channels
from herald.channel.health_schemas import ChannelHealthOut
from herald.console.rendering import CONSOLE, ViewerDep, not_found, render
from herald.deps import RuntimeDep, SessionDep
from herald.kit.pagination import MAX_ID

router = APIRouter(include_in_schema=False)


@router.get(f"{CONSOLE}/channels/{{channel_id}}/health", response_class=HTMLResponse)
async def channel_health_page(
    request: Request,
    channel_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    who: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    channel = await channels.get_for_user(session, who.user.id, channel_id)
    if channel is None:
        return not_found(request, who, "channel")
    shown = ChannelHealthOut.model_validate(
        await health.view(session, channel, runtime.clock.now())
    )
    return render(request, "channel_health.html", who, health=shown, number=channel.display_number)
