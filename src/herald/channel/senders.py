"""The sender of a send: which of a user's channels a message goes from, decided here for every
send route (single, bulk, free-form; framework or fast path, v2 or v1).

A send may name its sender by ``channel_id`` or by ``from`` (the channel's display number, as
digits). A template send must go from a channel in the template's WABA (Meta's templates belong
to a WABA); naming none, it goes from the user's default channel when that is in the template's
WABA, else from the template's own channel. A free-form send naming none goes from the default.

The rules work on a ``UserChannels`` snapshot (plain tuples, no session) so that the intake can
remember it per user (``message/intake_cache.py``) and decide a send with a dict lookup; the
batch that stores the send reads the snapshot again in its transaction and drafts the send
again when it changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import repository
from herald.channel.service import ChannelMissing, ChannelNotFound
from herald.errors import HeraldError
from herald.kit.phone import digits_only
from herald.models import Channel


class ChannelWabaMismatch(HeraldError):
    code = "channel_waba_mismatch"
    message = "The sender is not in the template's WhatsApp Business Account."

    @classmethod
    def of(cls, template_waba_id: str | None, channel_waba_id: str) -> ChannelWabaMismatch:
        return cls(
            f"The template belongs to WABA {template_waba_id}; channel is in WABA "
            f"{channel_waba_id}. Send it from a channel of WABA {template_waba_id}.",
            data={"template_waba_id": template_waba_id, "channel_waba_id": channel_waba_id},
        )


@dataclass(frozen=True, slots=True)
class SenderChannel:
    """What the rules need of one channel (compared when a batch checks it again), and its
    messaging limit tier (``message/limit.py``), which chooses no sender: a batch takes the
    tiers from its own read, so a tier changed since the snapshot does not make a send stale."""

    id: int
    waba_id: str
    digits: str  # the display number's digits ("" without one)
    is_default: bool
    tier: str | None = field(default=None, compare=False)


UserChannels = tuple[SenderChannel, ...]
"""A user's channels in id order."""


@dataclass(frozen=True, slots=True)
class Named:
    """The sender a send names: by id, by display number, or neither (None, None)."""

    channel_id: int | None = None
    from_: str | None = None

    @property
    def given(self) -> bool:
        return self.channel_id is not None or self.from_ is not None


NONE = Named()


def snapshot(channels: Iterable[Channel]) -> UserChannels:
    return tuple(
        sorted(
            (
                SenderChannel(
                    c.id,
                    c.waba_id,
                    digits_only(c.display_number or ""),
                    c.is_default,
                    c.messaging_limit_tier,
                )
                for c in channels
            ),
            key=lambda c: c.id,
        )
    )


async def of_user(session: AsyncSession, user_id: int) -> UserChannels:
    """The user's channels, read now."""
    return snapshot(await repository.of_user(session, user_id))


def named_channel(channels: UserChannels, named: Named) -> SenderChannel:
    """The channel a send names, among the user's (another user's is not found)."""
    wanted = digits_only(named.from_) if named.from_ is not None else None
    for channel in channels:
        if named.channel_id is not None and channel.id != named.channel_id:
            continue
        if wanted is not None and channel.digits != wanted:
            continue
        return channel
    raise ChannelNotFound()


def default_channel(channels: UserChannels) -> SenderChannel | None:
    return next((c for c in channels if c.is_default), None)


def for_template(
    channels: UserChannels,
    named: Named,
    template_channel_id: int | None,
    template_waba_id: str | None,
) -> int:
    """The id of the channel a template send goes from."""
    if named.given:
        channel = named_channel(channels, named)
        if channel.waba_id != template_waba_id:
            raise ChannelWabaMismatch.of(template_waba_id, channel.waba_id)
        return channel.id
    default = default_channel(channels)
    if default is not None and default.waba_id == template_waba_id:
        return default.id
    # A deleted channel sets its templates' channel_id to NULL (the foreign key's ON DELETE).
    if template_channel_id is None:
        raise ChannelMissing()
    own = next((c for c in channels if c.id == template_channel_id), None)
    # Its number moved to another WABA since (``channels update --waba-id``): Meta would not
    # know the template there.
    if own is not None and template_waba_id is not None and own.waba_id != template_waba_id:
        raise ChannelWabaMismatch.of(template_waba_id, own.waba_id)
    return template_channel_id


def for_free_form(channels: UserChannels, named: Named) -> SenderChannel:
    """The channel a free-form send goes from: the one named, else the default."""
    if named.given:
        return named_channel(channels, named)
    default = default_channel(channels)
    if default is None:
        raise ChannelMissing()
    return default
