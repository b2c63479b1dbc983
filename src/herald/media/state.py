"""The process's media store, opened at start-up by the composition root
(``herald/features.py``) and read back with ``media_store(runtime)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from herald.kit.registry import Slot
from herald.media.storage import MediaStore, open_store
from herald.runtime import Runtime

MEDIA_STORE: Slot[MediaStore] = Slot("media.store")


def media_store(runtime: Runtime) -> MediaStore:
    return runtime.features.get(MEDIA_STORE)


@asynccontextmanager
async def started(runtime: Runtime) -> AsyncIterator[None]:
    runtime.features.put(MEDIA_STORE, open_store(runtime.settings))
    yield
