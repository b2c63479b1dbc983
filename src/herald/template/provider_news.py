"""The provider's news about a template (its status, quality, category, flag) applied to
Herald's copy, from a webhook event or a sync, and told to the owner's callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import template_events
from herald.channel import repository as channels
from herald.dispatch.repository import release_held
from herald.models import Template
from herald.provider.events import (
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
)
from herald.template import repository

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
