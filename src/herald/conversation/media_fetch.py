"""Customers' files, fetched from the provider into Herald's media store, off the webhook path.

A message with a file is stored with ``media_status`` pending (inbound.py). This loop asks the
provider where each file is, downloads it with the channel's token (its size limited while it
streams, its SHA-256 checked), stores it as the user's (``origin`` inbound) and announces the
message (``message.received``) with Herald's URL for the file. A transient failure is tried
again later, each time twice as late (``retry_after``); a permanent one, or the ``MAX_ATTEMPTS``-th
transient one, marks the file failed, and the message is announced without it. Each file is
fetched on its own: one that fails, hangs or breaks never holds up the others.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.callback import inbound_events
from herald.channel import repository as channels
from herald.channel.service import access
from herald.conversation import repository
from herald.conversation.window import CUSTOMER_WINDOW
from herald.kit.clock import Clock
from herald.kit.crypto import Cipher
from herald.kit.metrics import ITEM_FAILURES, SET_ASIDE
from herald.media import service as media
from herald.media.kinds import INBOUND_MAX_SIZE
from herald.media.storage import MediaStore
from herald.models import InboundMessage, MediaAsset
from herald.models.inbound import MEDIA_FAILED, MEDIA_PENDING, MEDIA_STORED
from herald.provider.base import ErrorKind, Provider, ProviderError

log = structlog.get_logger("herald.conversation")

MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=5)
BATCH = 50  # candidates looked at a round
CONCURRENCY = 4  # files downloaded at once


def retry_after(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure a file is tried again: 5 s, 10 s, 20 s ..."""
    return RETRY_BASE * (1 << max(0, attempts - 1))


@dataclass
class MediaFetcher:
    sessions: async_sessionmaker[AsyncSession]
    provider: Provider
    store: MediaStore
    cipher: Cipher
    clock: Clock
    work_dir: Path  # where downloads stream to (the media store's upload folder)
    max_sizes: Mapping[str, int] = field(default_factory=lambda: INBOUND_MAX_SIZE)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._busy: set[int] = set()  # fetched by this process right now
        # When each file that failed is due again. Kept by the process: the attempts are in the
        # row, so a restart (or another process) only tries a file sooner, never more often
        # than MAX_ATTEMPTS times.
        self._due: dict[int, datetime] = {}

    async def run_once(self) -> int:
        """Fetch the files that are due; how many were tried."""
        now = self.clock.now()
        async with self.sessions() as session:
            candidates = await repository.pending_media(session, BATCH)
            due = [
                (row.id, row.media_attempts)
                for row in candidates
                if row.id not in self._busy and self._due.get(row.id, now) <= now
            ]
        await asyncio.gather(*(self._guarded(inbound_id, tries) for inbound_id, tries in due))
        return len(due)

    async def _guarded(self, inbound_id: int, attempts: int) -> None:
        self._busy.add(inbound_id)
        try:
            async with self._slots:
                await self._fetch(inbound_id, attempts)
        except Exception as exc:  # a bug on one file costs that file an attempt, nothing more
            log.warning("inbound.media_failed", inbound_id=inbound_id, error=type(exc).__name__)
            ITEM_FAILURES.labels("inbound_media").inc()
            await self._settle(inbound_id, attempts + 1, permanent=False)
        finally:
            self._busy.discard(inbound_id)

    async def _fetch(self, inbound_id: int, attempts: int) -> None:
        async with self.sessions() as session:
            row = await repository.inbound_by_id(session, inbound_id)
            if row is None or row.media_status != MEDIA_PENDING or not row.provider_media_id:
                return
            channel = await channels.get(session, row.channel_id)
            if channel is None:
                return
            channel_access = access(channel, self.cipher)
            kind, user_id, media_id = row.kind, row.user_id, row.provider_media_id
            given = (row.details or {}).get(kind) or {}
        download = await asyncio.to_thread(_temporary, self.work_dir)
        try:
            info = await self.provider.media_info(channel_access, media_id)
            if info.sha256 is None and given.get("sha256"):
                info = replace(info, sha256=str(given["sha256"]))
            max_size = self.max_sizes.get(kind, self.max_sizes["document"])
            got = await self.provider.download_media(channel_access, info, download, max_size)
            mime_type = info.mime_type or given.get("mime_type") or "application/octet-stream"
            async with self.sessions() as session:
                asset = await media.create_inbound(
                    session,
                    self.store,
                    user_id,
                    download,
                    kind if kind in INBOUND_MAX_SIZE else "document",
                    mime_type,
                    got.size,
                    got.sha256,
                    given.get("filename"),
                    self.clock.now(),
                )
                try:
                    if await self._record(session, inbound_id, MEDIA_STORED, asset, attempts + 1):
                        await session.commit()
                        return
                    await session.rollback()  # another process stored it first
                except BaseException:
                    await session.rollback()
                    await self.store.delete(asset.storage_key)
                    raise
                await self.store.delete(asset.storage_key)
        except ProviderError as exc:
            permanent = exc.kind is ErrorKind.PERMANENT
            log.warning(
                "inbound.media_not_fetched",
                inbound_id=inbound_id,
                kind=exc.kind.value,
                http_status=exc.http_status,
                attempts=attempts + 1,
            )
            await self._settle(inbound_id, attempts + 1, permanent=permanent)
        finally:
            await asyncio.to_thread(download.unlink, missing_ok=True)

    async def _settle(self, inbound_id: int, attempts: int, *, permanent: bool) -> None:
        """A failed attempt: pending again, or failed (and announced) for good."""
        given_up = permanent or attempts >= MAX_ATTEMPTS
        if given_up:
            self._due.pop(inbound_id, None)
        else:
            self._due[inbound_id] = self.clock.now() + retry_after(attempts)
        async with self.sessions() as session:
            if await self._record(
                session, inbound_id, MEDIA_FAILED if given_up else MEDIA_PENDING, None, attempts
            ):
                if given_up:
                    SET_ASIDE.labels("inbound_media").inc()
                await session.commit()

    async def _record(
        self,
        session: AsyncSession,
        inbound_id: int,
        status: str,
        asset: MediaAsset | None,
        attempts: int,
    ) -> bool:
        asset_id = asset.id if asset is not None else None
        if not await repository.settle_media(session, inbound_id, status, asset_id, attempts):
            return False
        if status == MEDIA_PENDING:
            return True
        row = await repository.inbound_by_id(session, inbound_id)
        assert row is not None
        last = await repository.last_inbound_at(
            session, row.user_id, row.channel_id, row.phone_number
        )
        expires = (last or row.received_at) + CUSTOMER_WINDOW
        await inbound_events.announce(session, _columns(row), expires, asset, self.clock.now())
        return True


def _columns(row: InboundMessage) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in InboundMessage.__table__.columns}


def _temporary(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="inbound-", dir=folder)
    os.close(handle)
    return Path(name)
