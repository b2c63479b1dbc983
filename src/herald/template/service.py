"""Templates: validated on create, reviewed by the provider, state kept in step with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import template_events
from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.channel.service import EmulatorDefaults
from herald.dispatch.repository import release_held
from herald.errors import Conflict, NotFound
from herald.kit.crypto import Cipher
from herald.kit.pagination import PageParams, fetch_page
from herald.media import service as media
from herald.media.storage import MediaStore
from herald.models import Channel, MediaAsset, Template
from herald.provider.base import (
    HeaderSample,
    OtpOptions,
    Provider,
    ProviderError,
    TemplateButton,
    TemplateDefinition,
    as_api_error,
)
from herald.provider.events import (
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
)
from herald.template import authentication, preview, repository
from herald.template.rules import check_template
from herald.template.schemas import TemplateCreate

log = structlog.get_logger("herald.template")

SUBMITTABLE = ("DRAFT", "REJECTED")
# The provider's template statuses and the state each puts a template in; others change nothing.
PROVIDER_EVENTS = {
    "APPROVED": "APPROVED",
    "REJECTED": "REJECTED",
    "PAUSED": "PAUSED",
    "DISABLED": "DISABLED",
    "PENDING": "PENDING",
    # Deleted at Meta, or being deleted (PENDING_DELETION): never to be sent again.
    "DELETED": "DELETED",
    "PENDING_DELETION": "DELETED",
    "IN_APPEAL": "PENDING",  # a rejection appealed: in review again
}
# Meta's categories and quality ratings as Herald keeps them; anything else is not recorded.
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
QUALITIES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
ProviderTemplateEvent = TemplateStatusUpdate | TemplateQualityUpdate | TemplateCategoryUpdate


class TemplateNotFound(NotFound):
    code = "template_not_found"
    message = "Template not found."


class TemplateExists(Conflict):
    code = "template_exists"
    message = "A template with this name and language already exists."


class InvalidState(Conflict):
    code = "invalid_state"


class HeaderSampleMissing(Conflict):
    code = "header_sample_missing"
    message = (
        "The template's media header has no sample file (it was created without one, or the "
        "file was deleted); Meta's review needs one. Create the template again with "
        "header.example_media_id."
    )


class ChannelAppIdMissing(Conflict):
    code = "channel_app_id_missing"
    message = (
        "A media header's sample is uploaded to Meta through the app; this channel has no Meta "
        "app id. An operator sets it with `herald channels update <id> --app-id`."
    )


@dataclass(frozen=True)
class ProviderContext:
    """What talking to a user's provider needs, passed in by the caller."""

    provider: Provider
    cipher: Cipher
    emulator: EmulatorDefaults | None


async def create(
    session: AsyncSession, user_id: int, body: TemplateCreate, now: datetime
) -> Template:
    placeholder_count = check_template(body)
    header = body.header
    if header is not None and header.example_media_id is not None:
        sample = await media.get(session, user_id, header.example_media_id)
        media.check_header_asset(header.format, sample)
    options = authentication.options(body) if body.category == "AUTHENTICATION" else None
    text, footer = authentication.wording(options) if options else (body.body, body.footer)
    # The channel (and so the WABA) it is created in: the one named, else the user's default;
    # none yet for a user whose first channel the emulator makes on submission.
    channel = (
        await channel_service.get_for_user(session, user_id, body.channel_id)
        if body.channel_id is not None
        else await channels.default_for(session, user_id)
    )
    waba_id = channel.waba_id if channel is not None else None
    template = Template(
        user_id=user_id,
        channel_id=channel.id if channel is not None else None,
        waba_id=waba_id,
        name=body.name,
        language=body.language,
        category=body.category,
        parameter_format=body.parameter_format,
        state="DRAFT",
        header_format=header.format if header else None,
        header_text=header.text if header else None,
        header_example=header.example if header else None,
        header_sample_media_id=header.example_media_id if header else None,
        body=text,
        footer=footer,
        buttons=[b.model_dump(exclude_none=True) for b in body.buttons],
        authentication=options,
        placeholder_count=placeholder_count,
        created_at=now,
        updated_at=now,
    )
    stored = await repository.add_unless_taken(session, template)
    if stored is None:
        existing = await repository.get_by_name(session, user_id, waba_id, body.name, body.language)
        raise TemplateExists(data={"id": existing.id} if existing else None)
    return stored


async def get(session: AsyncSession, user_id: int, template_id: int) -> Template:
    template = await repository.get(session, user_id, template_id)
    if template is None:
        raise TemplateNotFound()
    return template


async def list_page(
    session: AsyncSession,
    user_id: int,
    params: PageParams,
    state: str | None,
    category: str | None,
    name: str | None,
) -> tuple[Sequence[Template], int]:
    return await fetch_page(session, repository.list_query(user_id, state, category, name), params)


async def submit(
    session: AsyncSession,
    user_id: int,
    template_id: int,
    ctx: ProviderContext,
    store: MediaStore,
    now: datetime,
) -> Template:
    """DRAFT or REJECTED → PENDING, by sending the template to the user's provider for review."""
    template = await get(session, user_id, template_id)
    if template.state not in SUBMITTABLE:
        raise InvalidState(
            f"Only DRAFT or REJECTED templates can be submitted; this one is {template.state}.",
            data={"state": template.state},
        )
    channel = await _channel_of(session, template, ctx, now)
    sample = await _sample_of(session, template, channel)
    access = channel_service.access(channel, ctx.cipher)
    try:
        if template.provider_template_id:  # a rejected template is replaced, not duplicated
            await ctx.provider.delete_template(access, template.name, template.provider_template_id)
        if sample is None:
            created = await ctx.provider.create_template(access, definition(template))
        else:
            async with store.local_copy(sample.storage_key) as path:
                header_sample = HeaderSample(path, sample.mime_type, sample.size, sample.filename)
                created = await ctx.provider.create_template(
                    access, definition(template, header_sample)
                )
    except ProviderError as exc:
        log.warning(
            "template.submit_failed",
            template_id=template.id,
            kind=exc.kind,
            provider_code=exc.code,
            title=exc.title,
        )
        raise as_api_error(exc) from None
    except FileNotFoundError:
        raise HeaderSampleMissing() from None
    template.channel_id = channel.id
    template.waba_id = channel.waba_id
    template.provider_template_id = created.id
    template.state = PROVIDER_EVENTS.get(created.status, "PENDING")
    template.rejection_reason = None
    template.submitted_at = now
    template.updated_at = now
    await session.flush()
    return template


async def _channel_of(
    session: AsyncSession, template: Template, ctx: ProviderContext, now: datetime
) -> Channel:
    """The channel a template is submitted through: its own, else the user's default (made on
    first need with the built-in emulator). A template of the same name and language already
    in that WABA refuses it (the WABA holds one)."""
    channel = await channels.get(session, template.channel_id) if template.channel_id else None
    if channel is None:
        channel = await channel_service.ensure_default(
            session, template.user_id, ctx.emulator, ctx.cipher, now
        )
    if template.waba_id != channel.waba_id:
        other = await repository.get_by_name(
            session, template.user_id, channel.waba_id, template.name, template.language
        )
        if other is not None and other.id != template.id:
            raise TemplateExists(data={"id": other.id})
    return channel


async def delete(
    session: AsyncSession, user_id: int, template_id: int, ctx: ProviderContext
) -> None:
    """Delete here and at the provider; sent messages keep their history."""
    template = await get(session, user_id, template_id)
    if template.provider_template_id and template.channel_id:
        channel = await channels.get(session, template.channel_id)
        if channel is not None:
            try:
                await ctx.provider.delete_template(
                    channel_service.access(channel, ctx.cipher),
                    template.name,
                    template.provider_template_id,
                )
            except ProviderError as exc:
                raise as_api_error(exc) from None
    await repository.delete(session, template)


async def _sample_of(
    session: AsyncSession, template: Template, channel: Channel
) -> MediaAsset | None:
    """A media header's sample file, checked before anything is asked of the provider."""
    if template.header_format in (None, "TEXT"):
        return None
    if template.header_sample_media_id is None:
        raise HeaderSampleMissing()
    if not channel_service.app_id_of(channel):
        raise ChannelAppIdMissing(data={"channel_id": channel.id})
    try:
        return await media.get(session, template.user_id, template.header_sample_media_id)
    except media.MediaNotFound:
        raise HeaderSampleMissing() from None


def definition(template: Template, sample: HeaderSample | None = None) -> TemplateDefinition:
    options = template.authentication
    return TemplateDefinition(
        name=template.name,
        language=template.language,
        category=template.category,
        body=template.body,
        placeholder_count=template.placeholder_count,
        header_format=template.header_format,
        header_text=template.header_text,
        header_example=template.header_example,
        header_sample=sample,
        footer=template.footer,
        buttons=tuple(
            TemplateButton(
                type=b["type"],
                text=b.get("text"),
                url=b.get("url"),
                example=b.get("example"),
                phone_number=b.get("phone_number"),
            )
            for b in template.buttons
        ),
        otp=OtpOptions(**options) if options else _legacy_otp(template),
        parameter_format=template.parameter_format,
        body_examples=tuple(preview.body_samples(template.body, template.parameter_format)),
    )


def _legacy_otp(template: Template) -> OtpOptions | None:
    """An AUTHENTICATION template stored before Herald took Meta's options (it kept a body and
    a COPY_CODE button of its own) is submitted in Meta's shape: a copy-code OTP button."""
    return OtpOptions(otp_type="COPY_CODE") if template.category == "AUTHENTICATION" else None


async def apply_provider_event(
    session: AsyncSession, update: ProviderTemplateEvent, now: datetime
) -> int:
    """Apply one template event from the provider (status, quality or category); returns how
    many templates changed. Each change is told to the owner's callbacks.

    Idempotent: the same event twice leaves the same template, and announces nothing twice.
    """
    # A WABA may hold several channels (of one user or more): the event is about the template
    # in that WABA, whichever of its numbers it was created through.
    in_waba = await channels.by_waba_ids(session, [update.waba_id])
    if not in_waba:
        return 0
    templates = await repository.for_provider_event(
        session, in_waba, update.provider_template_id, update.name, update.language
    )
    changed = 0
    for template in templates:
        if isinstance(update, TemplateStatusUpdate):
            state = PROVIDER_EVENTS[update.status] if update.status else None
            changed += await apply_state(
                session,
                template,
                state,
                update.reason if state == "REJECTED" else None,
                now,
                flagged=update.event == "FLAGGED",  # and any other status event clears it
                cause=update.event or str(update.status),
                detail=update.detail or (None if state == "REJECTED" else update.reason),
            )
        elif isinstance(update, TemplateQualityUpdate):
            changed += await apply_state(
                session, template, None, None, now, quality=update.new_score, cause="QUALITY"
            )
        else:
            changed += await apply_state(
                session, template, None, None, now, category=update.new_category, cause="CATEGORY"
            )
    return changed


async def apply_state(
    session: AsyncSession,
    template: Template,
    state: str | None,
    reason: Any,
    now: datetime,
    *,
    category: str | None = None,
    quality: str | None = None,
    flagged: bool | None = None,
    cause: str = "SYNC",
    detail: str | None = None,
) -> int:
    """``set_state`` (None: the state as it is) and what else the provider says of the
    template (its category, quality rating, flag; None: not said); a paused template active
    again sends the messages held for it, and any change is told to the owner's callbacks as
    a ``template.updated`` event (``cause``: Meta's event, or how Herald found out)."""
    was_paused = template.state == "PAUSED"
    before = template_events.snapshot(template)
    changed = set_state(template, state, reason, now) if state else 0
    changed |= set_details(template, now, category=category, quality=quality, flagged=flagged)
    if was_paused and template.state == "APPROVED":
        await release_held(session, [template.id], now)
    await template_events.announce(session, template, before, cause, detail, now)
    return changed


def set_details(
    template: Template,
    now: datetime,
    *,
    category: str | None = None,
    quality: str | None = None,
    flagged: bool | None = None,
) -> int:
    """The category (the one it replaces kept), quality rating and flag the provider gives;
    a value Herald does not know is not recorded. 1 if anything changed."""
    if template.state == "DRAFT":  # never submitted (or replaced): provider news is stale
        return 0
    before = (template.category, template.quality, template.flagged_at)
    category, quality = (category or "").upper(), (quality or "").upper()
    if category in CATEGORIES and category != template.category:
        template.previous_category, template.category = template.category, category
    if quality in QUALITIES:
        template.quality = quality
    if flagged is not None and flagged != (template.flagged_at is not None):
        template.flagged_at = now if flagged else None
    if (template.category, template.quality, template.flagged_at) == before:
        return 0
    template.updated_at = now
    return 1


def set_state(template: Template, state: str, reason: Any, now: datetime) -> int:
    if template.state == "DRAFT":  # never submitted (or replaced): provider news is stale
        return 0
    rejection = str(reason) if reason and str(reason).upper() != "NONE" else None
    if template.state == state and template.rejection_reason == rejection:
        return 0
    template.state = state
    template.rejection_reason = rejection
    template.updated_at = now
    return 1
