"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from herald import migrate
from herald.deps import RuntimeDep
from herald.dispatch.repository import queue_stats
from herald.errors import ServiceUnavailable
from herald.kit.jsend import Success
from herald.kit.metrics import queue_metrics, render

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
    except (DBAPIError, OSError):
        depth, oldest = -1, -1.0  # shown, so an alert on the queue notices the database
    body, content_type = render(queue_metrics(depth, oldest))
    return Response(body, media_type=content_type)
