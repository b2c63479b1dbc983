"""``create_emulator_app(config)``: the Cloud API stand-in, standalone or mounted in Herald."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.emulator import (
    control,
    inbound,
    media,
    messages,
    number_health,
    read_receipts,
    templates,
    uploads,
)
from herald.emulator.config import EmulatorConfig
from herald.emulator.errors import MetaError
from herald.emulator.state import EmulatorState


def create_emulator_app(config: EmulatorConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.emulator.start()  # mounted in Herald, Herald's lifespan does this
        yield

    app = FastAPI(
        title="Herald's WhatsApp Cloud API emulator",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.emulator = EmulatorState(config)
    app.include_router(control.router)
    app.include_router(number_health.router)
    app.include_router(inbound.router)
    app.include_router(read_receipts.router)
    app.include_router(templates.router)
    app.include_router(uploads.router)  # before media: /{version}/upload:… is not a media id
    app.include_router(media.router)  # last: its /{version}/{media_id} would shadow nothing else

    async def meta_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MetaError)
        return exc.response()

    app.add_exception_handler(MetaError, meta_error)
    app.add_middleware(RemembersChanges)
    app.add_middleware(messages.GraphSends)
    return app


class RemembersChanges:
    """A request that may change what the emulator remembers (any but a read; sends are served
    before this, by GraphSends, and keep their statuses themselves) is answered only once the
    change is in the state file: an answer Herald has seen is never forgotten by a restart.
    Whatever route changes the state, its change is kept without that route knowing of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: EmulatorState = scope["app"].state.emulator
        if scope["type"] != "http" or state.store is None or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        answer: list[Message] = []

        async def hold(message: Message) -> None:
            answer.append(message)

        try:
            await self.app(scope, receive, hold)
        finally:
            state.remember()
            await state.durable()
        for message in answer:
            await send(message)
