"""SQL for media assets and the provider's copies of them; assets are scoped to one user."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import MediaAsset, Message, ProviderMedia, Template
from herald.models.message import QUEUED, SENDING

UPLOAD, INBOUND = "upload", "inbound"  # media_assets.origin


async def get(
    session: AsyncSession, user_id: int, media_id: int, *, lock: bool = False
) -> MediaAsset | None:
    query = select(MediaAsset).where(MediaAsset.id == media_id, MediaAsset.user_id == user_id)
    if lock:  # PostgreSQL: a send referencing it and its deletion never interleave
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_many(
    session: AsyncSession, user_id: int, media_ids: Iterable[int]
) -> dict[int, MediaAsset]:
    wanted = set(media_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(MediaAsset)
        .where(MediaAsset.user_id == user_id, MediaAsset.id.in_(wanted))
        .with_for_update(read=True)
    )
    return {asset.id: asset for asset in rows.scalars()}


def list_query(user_id: int) -> Select[Any]:
    """The user's uploads (customers' files are reached through their messages)."""
    return (
        select(MediaAsset)
        .where(MediaAsset.user_id == user_id, MediaAsset.origin == UPLOAD)
        .order_by(MediaAsset.id.desc())
    )


async def add(session: AsyncSession, asset: MediaAsset) -> MediaAsset:
    session.add(asset)
    await session.flush()
    return asset


async def in_use(session: AsyncSession, media_id: int) -> bool:
    """A message that has not left yet (queued, scheduled, retrying or in flight) needs it, or
    a template not yet (or again to be) submitted needs it as its header's sample."""
    needed = exists().where(
        Message.header_media_id == media_id, Message.state.in_((QUEUED, SENDING))
    )
    sample = exists().where(
        Template.header_sample_media_id == media_id, Template.state.in_(("DRAFT", "REJECTED"))
    )
    return bool((await session.execute(select(needed | sample))).scalar())


async def remove(session: AsyncSession, asset: MediaAsset) -> None:
    await session.delete(asset)
    await session.flush()


# --- the provider's copies (dispatcher) ------------------------------------------------------


async def asset_by_id(session: AsyncSession, media_id: int) -> MediaAsset | None:
    return await session.get(MediaAsset, media_id)


async def provider_copy(
    session: AsyncSession, media_id: int, phone_number_id: str, uploaded_after: datetime
) -> str | None:
    row = await session.execute(
        select(ProviderMedia.provider_media_id).where(
            ProviderMedia.media_id == media_id,
            ProviderMedia.phone_number_id == phone_number_id,
            ProviderMedia.uploaded_at > uploaded_after,
        )
    )
    return row.scalar_one_or_none()


async def save_provider_copy(
    session: AsyncSession,
    media_id: int,
    phone_number_id: str,
    provider_media_id: str,
    uploaded_at: datetime,
) -> None:
    await forget_provider_copy(session, media_id, phone_number_id)
    session.add(
        ProviderMedia(
            media_id=media_id,
            phone_number_id=phone_number_id,
            provider_media_id=provider_media_id,
            uploaded_at=uploaded_at,
        )
    )
    await session.flush()


async def forget_provider_copy(session: AsyncSession, media_id: int, phone_number_id: str) -> None:
    await session.execute(
        delete(ProviderMedia).where(
            ProviderMedia.media_id == media_id, ProviderMedia.phone_number_id == phone_number_id
        )
    )
