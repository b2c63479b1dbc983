"""Header files at the provider: uploaded once per sender number and reused by every message
until the provider's copy expires (30 days) or the provider says it is gone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.kit.clock import Clock
from herald.media import repository
from herald.media.storage import MediaStore
from herald.models import MediaAsset
from herald.provider.base import ChannelAccess, ErrorKind, HeaderMedia, Provider, ProviderError

log = structlog.get_logger("herald.media")

PROVIDER_COPY_LIFETIME = timedelta(days=30)
# Uploaded again a day early rather than sending with an id that expires in flight.
REUPLOAD_MARGIN = timedelta(days=1)

HeaderOrError = HeaderMedia | ProviderError


class ProviderCopies:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: MediaStore,
        provider: Provider,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.provider = provider
        self.clock = clock

    async def resolve(
        self, channel: ChannelAccess, media_ids: Iterable[int]
    ) -> dict[int, HeaderOrError]:
        """The provider header for each asset, uploading those without a live copy; a failure
        is returned in place of the header so only the messages needing that file are hit."""
        return {mid: await self._one(channel, mid) for mid in set(media_ids)}

    async def forget(self, channel: ChannelAccess, media_id: int) -> None:
        """The provider lost its copy: the next send uploads the file again."""
        async with self.sessions() as session:
            await repository.forget_provider_copy(session, media_id, channel.phone_number_id)
            await session.commit()

    async def _one(self, channel: ChannelAccess, media_id: int) -> HeaderOrError:
        fresh_after = self.clock.now() - PROVIDER_COPY_LIFETIME + REUPLOAD_MARGIN
        async with self.sessions() as session:
            asset = await repository.asset_by_id(session, media_id)
            cached = await repository.provider_copy(
                session, media_id, channel.phone_number_id, fresh_after
            )
        if asset is None:
            return _missing("was deleted before the message left")
        if cached is not None:
            return _header(asset, cached)
        try:
            async with self.store.local_copy(asset.storage_key) as path:
                provider_id = await self.provider.upload_media(
                    channel, path, asset.mime_type, asset.filename
                )
        except FileNotFoundError:
            return _missing("is missing from the media store")
        except ProviderError as error:
            log.warning("media.upload_failed", media_id=media_id, kind=error.kind.value)
            return error
        except Exception as exc:  # the media store itself (S3 down, disk error): try later
            log.warning("media.store_failed", media_id=media_id, error=type(exc).__name__)
            return ProviderError(ErrorKind.TRANSIENT, None, "the media store is unavailable")
        async with self.sessions() as session:
            await repository.save_provider_copy(
                session, media_id, channel.phone_number_id, provider_id, self.clock.now()
            )
            await session.commit()
        log.info("media.uploaded", media_id=media_id, size=asset.size)
        return _header(asset, provider_id)


def _header(asset: MediaAsset, provider_id: str) -> HeaderMedia:
    filename = asset.filename if asset.kind == "document" else None
    return HeaderMedia(kind=asset.kind, provider_media_id=provider_id, filename=filename)


def _missing(why: str) -> ProviderError:
    return ProviderError(ErrorKind.MEDIA_MISSING, None, f"The header file {why}.")
