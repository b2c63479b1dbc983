"""Channels: a user's WhatsApp senders. Operators manage them; the emulator gives one by default.

A user may have several channels, in one or more WABAs; exactly one is the user's default (the
sender of a send that names none, ``senders.py``): the first channel a user gets, or the one an
operator or the user makes it. Removing the default makes the user's oldest other channel the
default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import repository
from herald.errors import Conflict, NotFound, ValidationFailed
from herald.kit.crypto import Cipher, sha256_hex
from herald.kit.pagination import PageParams, fetch_page
from herald.models import Channel
from herald.provider.base import ChannelAccess

MAX_THROUGHPUT = 1000
# The Meta app id of channels on an emulator (which takes any): media-header samples are
# uploaded through an app, as at Meta.
SANDBOX_APP_ID = "100000000000000"


class ChannelNotFound(NotFound):
    code = "channel_not_found"
    message = "Channel not found."


class ChannelMissing(Conflict):
    code = "channel_missing"
    message = (
        "No WhatsApp channel is configured for this user; "
        "an operator adds one with `herald channels add`."
    )


class DefaultTaken(Conflict):
    code = "channel_default_taken"
    message = "Another channel of this user became its default at the same time; retry."


class PhoneNumberIdTaken(Conflict):
    code = "phone_number_id_taken"
    message = "Another channel already uses this phone number id."


@dataclass(frozen=True)
class EmulatorDefaults:
    """Where the built-in emulator lives and the credentials it expects."""

    base_url: str
    api_version: str
    access_token: str
    app_secret: str
    verify_token: str


@dataclass
class ChannelFields:
    base_url: str
    api_version: str
    phone_number_id: str
    waba_id: str
    access_token: str
    app_secret: str
    verify_token: str
    throughput_per_second: int = 80
    display_number: str | None = None
    is_sandbox: bool = False
    app_id: str | None = None


def app_id_of(channel: Channel) -> str | None:
    """The channel's Meta app id (an emulator channel made before it had one gets the sandbox's)."""
    return channel.app_id or (SANDBOX_APP_ID if channel.is_sandbox else None)


def access(channel: Channel, cipher: Cipher) -> ChannelAccess:
    return ChannelAccess(
        base_url=channel.base_url,
        api_version=channel.api_version,
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        access_token=cipher.decrypt(channel.access_token_encrypted),
        app_id=app_id_of(channel),
    )


def app_secret(channel: Channel, cipher: Cipher) -> str:
    return cipher.decrypt(channel.app_secret_encrypted)


async def create(
    session: AsyncSession,
    user_id: int,
    fields: ChannelFields,
    cipher: Cipher,
    now: datetime,
    *,
    default: bool = False,
) -> Channel:
    """A new channel of the user; the default when ``default`` or when it is the user's first."""
    _check_throughput(fields.throughput_per_second)
    _check_app_id(fields.app_id)
    if await repository.by_phone_number_id(session, fields.phone_number_id):
        raise PhoneNumberIdTaken()
    first = await repository.default_for(session, user_id) is None
    if default and not first:
        await repository.clear_default(session, user_id)
    channel = Channel(
        user_id=user_id,
        is_default=default or first,
        provider="cloud",
        base_url=fields.base_url.rstrip("/"),
        api_version=fields.api_version,
        phone_number_id=fields.phone_number_id,
        waba_id=fields.waba_id,
        display_number=fields.display_number,
        app_id=fields.app_id,
        access_token_encrypted=cipher.encrypt(fields.access_token),
        app_secret_encrypted=cipher.encrypt(fields.app_secret),
        verify_token_hash=sha256_hex(fields.verify_token),
        throughput_per_second=fields.throughput_per_second,
        is_sandbox=fields.is_sandbox,
        created_at=now,
        updated_at=now,
    )
    stored = await repository.add_unless_taken(session, channel)
    if stored is not None:
        return stored
    if await repository.by_phone_number_id(session, fields.phone_number_id):
        raise PhoneNumberIdTaken()
    raise DefaultTaken()


async def ensure_default(
    session: AsyncSession,
    user_id: int,
    emulator: EmulatorDefaults | None,
    cipher: Cipher,
    now: datetime,
) -> Channel:
    """The user's default channel; with the built-in emulator on, one is created on first
    need."""
    channel = await repository.default_for(session, user_id)
    if channel is not None:
        return channel
    if emulator is None:
        raise ChannelMissing()
    fields = ChannelFields(
        base_url=emulator.base_url,
        api_version=emulator.api_version,
        # Numeric ids like Meta's, derived from the user so they are stable and unique. The
        # account id equals the number id: the emulator's convention for sandbox numbers.
        phone_number_id=str(100_000_000_000 + user_id),
        waba_id=str(100_000_000_000 + user_id),
        access_token=emulator.access_token,
        app_secret=emulator.app_secret,
        verify_token=emulator.verify_token,
        display_number=f"+1 555 {user_id % 10_000_000:07d}",
        is_sandbox=True,
        app_id=SANDBOX_APP_ID,
    )
    try:
        return await create(session, user_id, fields, cipher, now)
    except (PhoneNumberIdTaken, DefaultTaken):  # a concurrent request made it first
        made = await repository.default_for(session, user_id)
        if made is None:
            raise
        return made


async def update(
    session: AsyncSession,
    channel: Channel,
    cipher: Cipher,
    now: datetime,
    *,
    base_url: str | None = None,
    api_version: str | None = None,
    waba_id: str | None = None,
    access_token: str | None = None,
    app_secret: str | None = None,
    verify_token: str | None = None,
    throughput_per_second: int | None = None,
    display_number: str | None = None,
    app_id: str | None = None,
) -> Channel:
    if app_id is not None:
        _check_app_id(app_id)
        channel.app_id = app_id
    if throughput_per_second is not None:
        _check_throughput(throughput_per_second)
        channel.throughput_per_second = throughput_per_second
    if base_url is not None:
        channel.base_url = base_url.rstrip("/")
    if api_version is not None:
        channel.api_version = api_version
    if waba_id is not None:
        channel.waba_id = waba_id
    if display_number is not None:
        channel.display_number = display_number
    if access_token is not None:
        channel.access_token_encrypted = cipher.encrypt(access_token)
    if app_secret is not None:
        channel.app_secret_encrypted = cipher.encrypt(app_secret)
    if verify_token is not None:
        channel.verify_token_hash = sha256_hex(verify_token)
    channel.updated_at = now
    await session.flush()
    return channel


async def require(session: AsyncSession, channel_id: int) -> Channel:
    channel = await repository.get(session, channel_id)
    if channel is None:
        raise ChannelNotFound()
    return channel


async def list_channels(session: AsyncSession) -> Sequence[Channel]:
    return await repository.list_all(session)


async def of_user(session: AsyncSession, user_id: int) -> Sequence[Channel]:
    return await repository.of_user(session, user_id)


async def list_page(
    session: AsyncSession, user_id: int, params: PageParams
) -> tuple[Sequence[Channel], int]:
    return await fetch_page(session, repository.of_user_query(user_id), params)


async def get_for_user(session: AsyncSession, user_id: int, channel_id: int) -> Channel:
    """One of the user's channels (another user's is not found)."""
    channel = await repository.get_for_user(session, user_id, channel_id)
    if channel is None:
        raise ChannelNotFound()
    return channel


async def make_default(session: AsyncSession, channel: Channel, now: datetime) -> Channel:
    """``channel`` becomes its user's default (sends naming no sender go from it)."""
    if not channel.is_default:
        await repository.clear_default(session, channel.user_id)
        # Two requests making two channels the default at once: one wins, the other is a 409
        # (the partial unique index on the default), never a 500.
        if not await repository.become_default(session, channel, now):
            raise DefaultTaken()
    return channel


async def remove(session: AsyncSession, channel_id: int, now: datetime) -> Channel | None:
    """Remove a channel; removing the default makes the user's oldest other channel the
    default, which is returned (None: the removed one was not the default, or the last)."""
    channel = await require(session, channel_id)
    user_id, was_default = channel.user_id, channel.is_default
    await repository.delete(session, channel)
    if not was_default:
        return None
    others = await repository.of_user(session, user_id)
    return await make_default(session, others[0], now) if others else None


def _check_app_id(value: str | None) -> None:
    if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 64):
        raise ValidationFailed.single(
            "app_id", "is the Meta app's numeric id (App Dashboard, App settings > Basic)"
        )


def _check_throughput(value: int) -> None:
    if not 1 <= value <= MAX_THROUGHPUT:
        raise ValidationFailed.single(
            "throughput_per_second", f"must be between 1 and {MAX_THROUGHPUT} messages a second"
        )
