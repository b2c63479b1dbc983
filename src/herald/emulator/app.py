"""``create_emulator_app(config)``: the Cloud API stand-in, standalone or mounted in Herald."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from herald.emulator import control, media, messages, templates, uploads
from herald.emulator.config import EmulatorConfig
from herald.emulator.errors import MetaError
from herald.emulator.state import EmulatorState


def create_emulator_app(config: EmulatorConfig) -> FastAPI:
    app = FastAPI(
        title="Herald's WhatsApp Cloud API emulator",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.emulator = EmulatorState(config)
    app.state.uploads = uploads.Uploads()
    app.include_router(control.router)
    app.include_router(templates.router)
    app.include_router(uploads.router)  # before media: /{version}/upload:… is not a media id
    app.include_router(media.router)  # last: its /{version}/{media_id} would shadow nothing else

    async def meta_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MetaError)
        return exc.response()

    app.add_exception_handler(MetaError, meta_error)
    app.add_middleware(messages.GraphSends)
    return app
