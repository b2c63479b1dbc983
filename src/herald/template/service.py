"""Templates: validated on create, reviewed by the provider, state kept in step with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.channel.service import EmulatorDefaults
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
from herald.template import authentication, preview, repository
from herald.template.provider_news import PROVIDER_EVENTS
from herald.template.rules import check_template
from herald.template.schemas import TemplateCreate

log = structlog.get_logger("herald.template")

SUBMITTABLE = ("DRAFT", "REJECTED")


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
