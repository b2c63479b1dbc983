"""Accepting sends: validate, then store as queued rows before answering 202."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback.repository import record_states
from herald.channel import senders
from herald.channel.senders import Named, UserChannels
from herald.errors import Conflict, HeraldError, NotFound, ValidationFailed
from herald.kit.pagination import PageParams
from herald.media import service as media_service
from herald.message import intake_repository, limit, repository
from herald.message.intake_cache import UserState
from herald.message.schemas import RecipientFields
from herald.message.validation import (
    Prepared,
    RecipientOptedOut,
    check_header_media,
    check_sendable,
    prepare,
)
from herald.models import MediaAsset, Message, Template
from herald.models.message import QUEUED, TRANSACTIONAL

MAX_SCHEDULE_AHEAD = timedelta(days=30)
SCHEDULE_GRACE = timedelta(seconds=60)


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = "Message not found."


class GroupNotFound(NotFound):
    code = "bulk_group_not_found"
    message = "Bulk group not found."


class NotCancellable(Conflict):
    code = "invalid_state"


class RecipientsInvalid(HeraldError):
    code = "recipients_invalid"


@dataclass(frozen=True)
class SendPolicy:
    """How long Herald keeps trying a message before it is failed for good."""

    deadline: timedelta


def check_send_at(send_at: datetime | None, now: datetime) -> datetime | None:
    if send_at is None:
        return None
    if send_at.tzinfo is None:
        raise ValidationFailed.single("send_at", "needs a time zone (ISO 8601 with Z or an offset)")
    if send_at < now - SCHEDULE_GRACE:
        raise ValidationFailed.single("send_at", "is in the past")
    if send_at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationFailed.single("send_at", "is more than 30 days ahead")
    return send_at if send_at > now else None


async def header_assets(
    session: AsyncSession, user_id: int, prepared: Sequence[Prepared]
) -> dict[int, MediaAsset]:
    """The caller's files that these recipients' headers name, fetched in one query."""
    wanted = {p.content["header_media_id"] for p in prepared if "header_media_id" in p.content}
    return await media_service.for_sending(session, user_id, wanted)


def new_row(
    user_id: int,
    template: Template,
    prepared: Prepared,
    group_id: str,
    priority: int,
    scheduled_at: datetime | None,
    policy: SendPolicy,
    now: datetime,
    contact_id: int | None = None,
    channel_id: int | None = None,
) -> dict[str, Any]:
    common = common_columns(
        user_id, template, group_id, priority, scheduled_at, policy, now, contact_id, channel_id
    )
    return {**common, **recipient_columns(prepared)}


def common_columns(
    user_id: int,
    template: Template,
    group_id: str,
    priority: int,
    scheduled_at: datetime | None,
    policy: SendPolicy,
    now: datetime,
    contact_id: int | None = None,
    channel_id: int | None = None,
) -> dict[str, Any]:
    """A new template message's columns that every recipient of one send shares;
    ``channel_id``: its sender (``sender_of``), else the template's own channel."""
    sender = channel_id if channel_id is not None else template.channel_id
    return {
        **queued_columns(user_id, sender, priority, scheduled_at, policy, now),
        "template_id": template.id,
        "template_name": template.name,
        "template_language": template.language,
        "contact_id": contact_id,
        "whatsapp_bulk_group_id": group_id,
    }


def queued_columns(
    user_id: int,
    channel_id: int | None,
    priority: int,
    scheduled_at: datetime | None,
    policy: SendPolicy,
    now: datetime,
) -> dict[str, Any]:
    """A new message's columns as the queue needs them, whatever the message (template or
    free-form)."""
    due = scheduled_at or now
    return {
        "user_id": user_id,
        "channel_id": channel_id,
        "priority": priority,
        "state": QUEUED,
        "created_at": now,
        "scheduled_at": scheduled_at,
        "next_attempt_at": due,
        "deadline_at": due + policy.deadline,
        "attempts": 0,
        "pair_rate_hits": 0,
        "updated_at": now,
        "held_reason": None,
        "held_from": None,
    }


RECIPIENT_COLUMNS = ("phone_number", "country_code", "content", "header_media_id")


def recipient_columns(prepared: Prepared) -> dict[str, Any]:
    return dict(zip(RECIPIENT_COLUMNS, recipient_values(prepared), strict=True))


def recipient_values(prepared: Prepared) -> tuple[Any, ...]:
    """A new message's own columns (``RECIPIENT_COLUMNS``)."""
    phone, content = prepared
    return phone.digits, phone.country_code, content, content.get("header_media_id")


def sender_of(template: Template, channels: UserChannels, named: Named) -> int:
    """The channel a template send goes from, by the rules of ``channel/senders.py``: every
    template send (single, bulk; any route) is decided here."""
    return senders.for_template(channels, named, template.channel_id, template.waba_id)


@dataclass(frozen=True)
class Draft:
    """A single send that passed every check that needs no database: its row, ready to store."""

    template: Template
    prepared: Prepared
    row: dict[str, Any]
    channels: UserChannels = ()  # the user's channels its sender was chosen among

    @property
    def needs_media(self) -> bool:
        return "header_media_id" in self.prepared.content


def draft_one(
    user_id: int,
    template: Template,
    fields: RecipientFields,
    otp_code: str | None,
    to: str,
    country: str,
    send_at: datetime | None,
    policy: SendPolicy,
    now: datetime,
    contact_id: int | None = None,
    channels: UserChannels = (),
    named: Named = senders.NONE,
) -> Draft:
    """``channels``: the user's (``senders.snapshot``); ``named``: the sender the send names."""
    check_sendable(template)
    scheduled_at = check_send_at(send_at, now)
    prepared = prepare(template, fields, otp_code, to, country)
    channel_id = sender_of(template, channels, named)
    row = new_row(
        user_id,
        template,
        prepared,
        str(uuid.uuid4()),
        TRANSACTIONAL,
        scheduled_at,
        policy,
        now,
        contact_id,
        channel_id,
    )
    return Draft(template, prepared, row, channels)


async def send_one(session: AsyncSession, user_id: int, draft: Draft) -> Message:
    """Store a drafted send in the caller's transaction (idempotent sends, header media: the
    file stays share-locked until the send commits). Other sends go through ``intake``."""
    check_header_media(
        draft.template, draft.prepared, await header_assets(session, user_id, [draft.prepared])
    )
    if await repository.opted_out(session, user_id, [draft.prepared.phone.digits]):
        raise RecipientOptedOut()
    row = draft.row
    [until] = await limit.hold_channel_excess(
        session, user_id, row["channel_id"], [(row["phone_number"], row["next_attempt_at"])]
    )
    if until is not None:
        limit.held_row(row, until)
    # Written as the batcher writes a batch (one way to insert a single send's row).
    [message_id] = await intake_repository.insert_rows(session, [draft.row])
    await repository.add_to_total(session, user_id, 1)
    return Message(id=message_id, **draft.row)


async def get(session: AsyncSession, user_id: int, message_id: int) -> Message:
    message = await repository.get(session, user_id, message_id)
    if message is None:
        raise MessageNotFound()
    return message


def history_bound(moment: datetime | None, field: str) -> datetime | None:
    """A ``from``/``to`` filter in UTC: a time without an offset is taken as UTC, and one that
    leaves the representable range once in UTC is refused rather than failing the query."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed.single(field, "is outside the range of dates") from None


async def history(
    session: AsyncSession,
    user_id: int,
    params: PageParams,
    filters: dict[str, Any],
    before_id: int | None = None,
    with_caller: bool = False,
) -> tuple[Sequence[Row[Any]], int, UserState | None]:
    """A page by number, or with ``before_id`` the ``limit`` newest messages older than it
    (``params.page`` is then 1: the endpoint refuses both at once); with ``with_caller`` the
    user's authorising state as the same statement saw it."""
    return await repository.history_page(
        session, user_id, filters, params.limit, params.offset, before_id, with_caller
    )


async def cancel(session: AsyncSession, user_id: int, message_id: int, now: datetime) -> Message:
    """Cancel a message that has not left yet (a scheduled one, typically)."""
    message = await get(session, user_id, message_id)
    # Conditional on the state, so a dispatcher claiming it at the same moment wins or loses
    # cleanly: a message is never both cancelled and sent.
    if message.state != QUEUED or not await repository.cancel_if_queued(session, message.id, now):
        await session.refresh(message)
        raise NotCancellable(
            f"Only queued messages can be cancelled; this one is {message.state}.",
            data={"state": message.state},
        )
    await record_states(session, [message.id], now)
    await session.refresh(message)
    return message


async def group_counts(session: AsyncSession, user_id: int, group_id: str) -> dict[str, int]:
    counts = await repository.count_by_state(session, user_id, group_id)
    if not counts:
        raise GroupNotFound()
    return counts
