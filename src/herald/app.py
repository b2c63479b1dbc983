"""``create_app(settings)``: the lifespan builds the engine, limiter and clock once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald import __version__
from herald.api import mount_routes
from herald.background import BackgroundLoops
from herald.channel.defaults import emulator_defaults
from herald.channel.service import EmulatorDefaults
from herald.config import Settings
from herald.console.endpoints import install_console
from herald.error_handlers import install_error_handlers
from herald.features import FEATURES
from herald.kit.clock import Clock
from herald.kit.edge import EdgeMiddleware
from herald.media.intake import MULTIPART_OVERHEAD
from herald.media.kinds import MAX_SIZE
from herald.media.schemas import MEDIA_PATH
from herald.message.fast_send import FAST_SEND_V2
from herald.meta_webhook.endpoints import FAST_RECEIVE
from herald.openapi import OPENAPI, install_openapi
from herald.runtime import open_runtime


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The ASGI app. ``clock`` is injectable so tests can freeze time."""
    settings.resolved_jwt_secret()  # fail at startup, not on the first login
    mounted_emulator = _builtin_emulator(settings, emulator_defaults(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, clock, FEATURES) as runtime:
            app.state.runtime = runtime
            if mounted_emulator is not None:  # a mounted app gets no lifespan of its own
                mounted_emulator.state.emulator.start()
            loops = BackgroundLoops(runtime)
            if settings.background_tasks:
                loops.start()
            try:
                yield
            finally:
                await loops.stop()
                if mounted_emulator is not None:
                    await mounted_emulator.state.emulator.aclose()

    app = FastAPI(
        title="Herald",
        version=__version__,
        lifespan=lifespan,
        redirect_slashes=False,  # the other spelling of a route is a JSend 404, never a redirect
        strict_content_type=False,  # a JSON body without a Content-Type header is still JSON
        openapi_url=OPENAPI,
        docs_url=None,  # install_openapi serves /api/docs from local assets, not a CDN
        redoc_url=None,
    )
    mount_routes(app)
    install_console(app)
    install_openapi(app)
    if mounted_emulator is not None:
        app.mount(EMULATOR_MOUNT, mounted_emulator)
    install_error_handlers(app)
    fast_routes = (FAST_RECEIVE, FAST_SEND_V2) if settings.fast_routes else ()
    app.add_middleware(EdgeMiddleware, limit_for=_body_limits(settings), fast_routes=fast_routes)
    return app


EMULATOR_MOUNT = "/emulator"


def _body_limits(settings: Settings) -> Callable[[str], int | None]:
    """JSON bodies are small; uploads stream and are checked by kind as they arrive."""
    upload_cap = MAX_SIZE + MULTIPART_OVERHEAD

    def limit_for(path: str) -> int | None:
        if path == MEDIA_PATH:
            return None  # the route refuses oversized files itself, with media_too_large
        if path.startswith(EMULATOR_MOUNT + "/"):
            return upload_cap  # the emulator takes media uploads too
        return settings.max_json_body_bytes

    return limit_for


def _builtin_emulator(settings: Settings, emulator: EmulatorDefaults | None) -> FastAPI | None:
    """The emulator app to mount in-process, when users' channels point at this very server."""
    if emulator is None or settings.emulator_url is not None:
        return None
    from herald.emulator.app import create_emulator_app
    from herald.emulator.config import EmulatorConfig

    return create_emulator_app(
        EmulatorConfig(
            access_token=emulator.access_token,
            app_secret=emulator.app_secret,
            webhook_url=f"http://127.0.0.1:{settings.port}/webhooks/whatsapp",
            approve_after_seconds=settings.emulator_approve_after_seconds,
            state_path=str(settings.emulator_state_path),
        )
    )
