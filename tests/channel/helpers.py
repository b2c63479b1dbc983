"""A user's extra channel on the built-in emulator, as an operator adds it (shared by the
sender tests in-process and over real HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from herald.channel import service as channels
from herald.channel.defaults import emulator_defaults
from herald.channel.service import ChannelFields
from herald.config import Settings
from herald.db import session_factory
from herald.kit.crypto import Cipher
from herald.models import Channel


async def add_emulator_channel(
    engine: AsyncEngine,
    settings: Settings,
    user_id: int,
    number_id: str,
    display_number: str,
    *,
    now: datetime | None = None,
    default: bool = False,
    waba_id: str | None = None,
) -> Channel:
    """A channel of number ``number_id`` in WABA ``waba_id``, by default the number's own (the
    emulator's sandbox convention: each such channel is in a WABA of its own)."""
    emulator = emulator_defaults(settings)
    assert emulator is not None
    fields = ChannelFields(
        base_url=emulator.base_url,
        api_version=emulator.api_version,
        phone_number_id=number_id,
        waba_id=waba_id or number_id,
        access_token=emulator.access_token,
        app_secret=emulator.app_secret,
        verify_token=emulator.verify_token,
        display_number=display_number,
        is_sandbox=True,
        app_id="100000000000000",
    )
    cipher = Cipher(settings.resolved_encryption_keys())
    async with session_factory(engine)() as session:
        channel = await channels.create(
            session, user_id, fields, cipher, now or datetime.now(UTC), default=default
        )
        await session.commit()
        return channel
