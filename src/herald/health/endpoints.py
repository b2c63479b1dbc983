"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from herald import migrate
from herald.callback import repository as callbacks
from herald.channel import health as channel_health
from herald.channel import repository as channels
from herald.deps import RuntimeDep
from herald.dispatch.repository import queue_stats
from herald.errors import ServiceUnavailable
from herald.kit.jsend import Success
from herald.kit.metrics import (
    channel_health_metrics,
    queue_metrics,
    render,
    set_aside_metrics,
)
from herald.meta_webhook import repository as webhook_events

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Success[dict[str, str]]:
    return Success(message="Herald is up", data={"process": "up"})


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> Success[dict[str, str]]:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await migrate.current_revision(runtime.engine)
    except (DBAPIError, OSError):
        raise ServiceUnavailable("The database is unreachable.") from None
    head = migrate.head_revision()
    if current != head:
        raise ServiceUnavailable(
            f"The database schema is at {current or 'nothing'}, not {head}: "
            "run `herald db upgrade`."
        )
    return Success(message="Herald is ready", data={"database": "up", "schema": str(head)})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition"}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics (text format, not JSend): keep this route off the public network."""
    try:
        async with runtime.sessions() as session:
            depth, oldest = await queue_stats(session, runtime.clock.now())
            dead_events = await webhook_events.count_set_aside(session)
            dead_deliveries = await callbacks.count_set_aside(session)
            now = runtime.clock.now()
            health = [
                (
                    c.id,
                    c.quality_rating,
                    channel_health.sending_hold(c, now) is None,
                    c.throughput_per_second,
                )
                for c in await channels.list_all(session)
            ]
    except (DBAPIError, OSError):
        depth, oldest = -1, -1.0  # shown, so an alert on the queue notices the database
        dead_events = dead_deliveries = -1
        health = []
    extra = [
        *queue_metrics(depth, oldest),
        *set_aside_metrics(dead_events, dead_deliveries),
        *channel_health_metrics(health),
    ]
    body, content_type = render(extra)
    return Response(body, media_type=content_type)
