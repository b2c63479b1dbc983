"""Idempotency keys: the same key and body replay the first answer for 24 h; another body is 409."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import Conflict
from herald.kit.crypto import sha256_hex
from herald.message import idempotency_repository as repository

KEPT_FOR = timedelta(hours=24)


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message = "This idempotency key was used with a different request."


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


def request_hash(route: str, body: dict[str, Any]) -> str:
    """What makes two requests "the same": the route and the body, key left out."""
    canonical = {k: v for k, v in body.items() if k != "idempotency_key"}
    return sha256_hex(route.encode() + b"\n" + orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS))


@dataclass
class KeyLocks:
    """Requests of one process with the same key run one after the other, so a client retrying
    while its first request still runs gets that request's stored answer. Across processes the
    key's primary key decides (``remember`` raises IntegrityError for the loser, which replays).
    On SQLite this also spares the loser a write that could only fail."""

    _held: dict[tuple[int, str], tuple[asyncio.Lock, int]] = field(default_factory=dict)

    @asynccontextmanager
    async def hold(self, user_id: int, key: str) -> AsyncIterator[None]:
        name = (user_id, key)
        lock, holders = self._held.get(name, (asyncio.Lock(), 0))
        self._held[name] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self._held[name]
            if holders == 1:
                del self._held[name]
            else:
                self._held[name] = (lock, holders - 1)


async def replay(
    session: AsyncSession, user_id: int, key: str, fingerprint: str, now: datetime
) -> StoredAnswer | None:
    row = await repository.get(session, user_id, key)
    if row is None:
        return None
    if row.created_at <= now - KEPT_FOR:
        await repository.delete(session, row)
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(data={"idempotency_key": key})
    return StoredAnswer(row.response_status, row.response_body)


async def remember(
    session: AsyncSession,
    user_id: int,
    key: str,
    fingerprint: str,
    answer: StoredAnswer,
    now: datetime,
) -> None:
    """Stored in the transaction that accepts the send, so the two commit together."""
    await repository.add(
        session,
        user_id=user_id,
        key=key,
        request_hash=fingerprint,
        response_status=answer.status,
        response_body=answer.body,
        created_at=now,
    )
