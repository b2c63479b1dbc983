"""What message intake keeps for the process's life, made at start-up by the composition root
(``herald/features.py``) and read back with ``intake_state(runtime)``: the group-commit batcher,
what the process remembers of users and templates, and the idempotency keys being held."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from herald.kit.registry import Slot
from herald.message.idempotency import KeyLocks
from herald.message.intake import SendBatcher
from herald.message.intake_cache import IntakeCache
from herald.runtime import Runtime


@dataclass
class IntakeState:
    batcher: SendBatcher
    cache: IntakeCache
    locks: KeyLocks = field(default_factory=KeyLocks)


INTAKE: Slot[IntakeState] = Slot("message.intake")


def intake_state(runtime: Runtime) -> IntakeState:
    return runtime.features.get(INTAKE)


@asynccontextmanager
async def started(runtime: Runtime) -> AsyncIterator[None]:
    cache = IntakeCache()
    batcher = SendBatcher(runtime.sessions, cache)
    runtime.features.put(INTAKE, IntakeState(batcher, cache))
    try:
        yield
    finally:
        await batcher.aclose()
