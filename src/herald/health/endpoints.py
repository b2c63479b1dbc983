"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from herald import migrate
from herald.deps import RuntimeDep
from herald.errors import ServiceUnavailable
from herald.kit.jsend import Success

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
