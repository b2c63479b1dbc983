"""``create_app(settings)``: the lifespan builds the engine, limiter and clock once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald import __version__
from herald.api import mount_routes
from herald.config import Settings
from herald.db import create_engine, session_factory
from herald.errors import install_error_handlers
from herald.kit.access_log import AccessLogMiddleware
from herald.kit.body_limit import BodyLimitMiddleware
from herald.kit.clock import Clock, SystemClock
from herald.kit.ratelimit import Limiter
from herald.runtime import Runtime


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The ASGI app. ``clock`` is injectable so tests can freeze time."""
    jwt_secret = settings.resolved_jwt_secret()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url, settings.database_pool_size)
        app.state.runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            clock=clock or SystemClock(),
            limiter=Limiter(settings.rate_limit_storage_url),
            jwt_secret=jwt_secret,
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Herald",
        version=__version__,
        lifespan=lifespan,
        redirect_slashes=False,  # the other spelling of a route is a JSend 404, never a redirect
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    mount_routes(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit_for=lambda _path: settings.max_json_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    return app
