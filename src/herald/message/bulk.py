"""Accepting a bulk send: every recipient checked, the valid ones queued in one COPY (PostgreSQL)
or one executemany (SQLite), all or nothing unless ``skip_invalid``.

Each recipient is checked as its row is written: the rows go to PostgreSQL while the next ones
are checked, so the database's share of the call (its foreign-key checks and indexes, more CPU
than the checks themselves) runs beside Herald's instead of after it. The opt-outs are read
once the rows are written (they need the normalised numbers, and a connection busy with a COPY
takes no other query), in the same transaction: an opted-out number refuses the call, or, with
``skip_invalid``, its rows are deleted again before the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import senders
from herald.errors import HeraldError
from herald.kit import collector
from herald.kit.phone import normalise_uncached
from herald.media import service as media_service
from herald.message import limit, limit_repository, repository
from herald.message.schemas import BulkHeld, BulkRecipientFields, BulkSend, Rejected
from herald.message.service import (
    RECIPIENT_COLUMNS,
    RecipientsInvalid,
    SendPolicy,
    check_send_at,
    common_columns,
    recipient_values,
    sender_of,
)
from herald.message.validation import (
    MEDIA_HEADERS,
    RecipientOptedOut,
    TemplateRules,
    check_header_media,
    check_sendable,
    prepare_values,
)
from herald.models import MediaAsset, Template
from herald.models.message import BULK


@dataclass(frozen=True)
class Queued:
    group_id: str
    queued: int
    rejected: list[Rejected]
    held: BulkHeld | None  # the recipients past the messaging limit, held


async def send_bulk(
    session: AsyncSession,
    user_id: int,
    template: Template,
    body: BulkSend,
    policy: SendPolicy,
    now: datetime,
) -> Queued:
    """Queue the valid recipients; returns the group, how many were queued, the refused ones
    and the held ones."""
    check_sendable(template)
    scheduled_at = check_send_at(body.send_at, now)
    named = senders.Named(body.channel_id, body.from_)
    channel_id = sender_of(template, await senders.of_user(session, user_id), named)
    with collector.paused():
        return await _queue_all(
            session, user_id, template, body, scheduled_at, policy, now, channel_id
        )


class _Checked:
    """The recipients, checked one by one as ``rows`` is consumed."""

    def __init__(
        self, template: Template, assets: dict[int, MediaAsset], skip_invalid: bool
    ) -> None:
        self.template = TemplateRules.of(template)
        self.assets = assets
        self.skip_invalid = skip_invalid
        self.rejected: list[Rejected] = []
        self.accepted: list[tuple[int, str]] = []  # (index, number) of each valid recipient

    def rows(self, recipients: Sequence[BulkRecipientFields]) -> Iterator[tuple[Any, ...]]:
        """The valid recipients' rows (``RECIPIENT_COLUMNS``). Once one is refused without
        ``skip_invalid`` the call fails whatever follows, so the rest are only checked (their
        refusals are the answer)."""
        template, assets = self.template, self.assets
        for index, recipient in enumerate(recipients):
            try:
                prepared = prepare_values(
                    template,
                    recipient.get("body_params"),
                    recipient.get("buttons"),
                    recipient.get("header_media_id"),
                    None,
                    recipient["to"],
                    recipient["country_code"],
                    normalise_uncached,
                    header_params=recipient.get("header_params"),
                    header_media_url=recipient.get("header_media_url"),
                )
                check_header_media(template, prepared, assets)
            except HeraldError as exc:
                self.rejected.append(Rejected(index=index, code=exc.code, message=exc.message))
                continue
            self.accepted.append((index, prepared.phone.digits))
            if self.skip_invalid or not self.rejected:
                yield recipient_values(prepared)


async def _queue_all(
    session: AsyncSession,
    user_id: int,
    template: Template,
    body: BulkSend,
    scheduled_at: datetime | None,
    policy: SendPolicy,
    now: datetime,
    channel_id: int,
) -> Queued:
    checked = _Checked(
        template, await _header_assets(session, user_id, template, body), body.skip_invalid
    )
    group_id = str(uuid.uuid4())
    common = common_columns(
        user_id, template, group_id, BULK, scheduled_at, policy, now, channel_id=channel_id
    )
    await repository.insert_rows(session, common, RECIPIENT_COLUMNS, checked.rows(body.recipients))
    accepted, rejected = checked.accepted, checked.rejected
    opted = await repository.opted_out(session, user_id, [number for _, number in accepted])
    if opted:
        refused = RecipientOptedOut()
        rejected += [
            Rejected(index=index, code=refused.code, message=refused.message)
            for index, number in accepted
            if number in opted
        ]
    rejected.sort(key=lambda r: r.index)
    if rejected and not body.skip_invalid:
        raise RecipientsInvalid(
            f"{len(rejected)} of {len(body.recipients)} recipients are invalid; nothing was "
            "queued (send again without them, or with skip_invalid).",
            data={"rejected": [r.model_dump() for r in rejected]},
        )
    if opted:
        await repository.delete_numbers(session, user_id, group_id, opted)
    queued = sum(1 for _, number in accepted if number not in opted)
    held = await _hold_excess(
        session, user_id, group_id, [n for _, n in accepted if n not in opted], common
    )
    await repository.add_to_total(session, user_id, queued)
    return Queued(group_id, queued, rejected, held)


async def _hold_excess(
    session: AsyncSession,
    user_id: int,
    group_id: str,
    numbers: list[str],
    common: dict[str, Any],
) -> BulkHeld | None:
    """The recipients past their sender's messaging limit held, in the order they were given
    (``message/limit.py``); the rest go when due."""
    due: datetime = common["next_attempt_at"]
    answers = await limit.hold_channel_excess(
        session, user_id, common["channel_id"], [(number, due) for number in numbers]
    )
    until = {n: at for n, at in zip(numbers, answers, strict=True) if at is not None}
    if not until:
        return None
    keeps = common["deadline_at"] - due
    await limit_repository.move_group_numbers(
        session,
        user_id,
        group_id,
        [{"number": n, "until": at, "new_deadline_at": at + keeps} for n, at in until.items()],
    )
    held = sum(1 for n in numbers if n in until)
    return BulkHeld(count=held, until=max(until.values()))


async def _header_assets(
    session: AsyncSession, user_id: int, template: Template, body: BulkSend
) -> dict[int, MediaAsset]:
    """The caller's files that the recipients' headers name, in one query before the rows are
    written (and share-locked until the commit, as for a single send). Only a template with a
    media header takes one: any other refuses each recipient that names a file."""
    if template.header_format not in MEDIA_HEADERS:
        return {}
    wanted = {r.get("header_media_id") for r in body.recipients}
    wanted.discard(None)
    return await media_service.for_sending(session, user_id, cast(set[int], wanted))
