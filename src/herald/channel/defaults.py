"""The built-in emulator's address and credentials, which a user's default channel points at:
read from the settings once, at start-up, and kept on the runtime (``EMULATOR``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from herald.channel.service import EmulatorDefaults
from herald.config import Settings
from herald.kit.registry import Slot
from herald.runtime import Runtime

EMULATOR: Slot[EmulatorDefaults | None] = Slot("channel.emulator")


def emulator_defaults(settings: Settings) -> EmulatorDefaults | None:
    """The built-in emulator's address and credentials, or None when it is off."""
    if not settings.builtin_emulator:
        return None
    return EmulatorDefaults(
        base_url=settings.resolved_emulator_url,
        api_version=settings.graph_api_version,
        access_token=settings.resolved_emulator_secret("emulator_access_token"),
        app_secret=settings.resolved_emulator_secret("emulator_app_secret"),
        verify_token=settings.resolved_emulator_secret("emulator_verify_token"),
    )


def emulator(runtime: Runtime) -> EmulatorDefaults | None:
    return runtime.features.get(EMULATOR)


@asynccontextmanager
async def started(runtime: Runtime) -> AsyncIterator[None]:
    runtime.features.put(EMULATOR, emulator_defaults(runtime.settings))
    yield
