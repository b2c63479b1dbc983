"""Every public route, mounted in one list."""

from __future__ import annotations

from fastapi import FastAPI

from herald.auth.endpoints import router as auth_router
from herald.contact.endpoints import router as contact_router
from herald.health.endpoints import router as health_router
from herald.user.endpoints import router as user_router

ROUTERS = (health_router, auth_router, user_router, contact_router)


def mount_routes(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
