"""Template-level refusals: one answer about a template stands for all its messages.

When the provider refuses a send for its template (missing, paused or disabled:
``ProviderError.template_problem``), every other message of that template would get the same
answer. So the channel's runner stops sending the template at once, asks the provider about it
(one list call), and settles every message of the template from that one verdict, none of them
with a call of its own: missing or disabled, they fail with the template's reason; paused,
they wait in the queue until the template is active again (its REINSTATED webhook, or the next
look after ``recheck``), within their send deadline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import template_events
from herald.callback.repository import record_states
from herald.models import Message, Template
from herald.models.message import FAILED, QUEUED
from herald.provider.base import (
    ChannelAccess,
    ErrorKind,
    Provider,
    ProviderError,
    TemplateProblem,
)
from herald.provider.errors import template_refusal

log = structlog.get_logger("herald.dispatch")

MISSING, PAUSED, DISABLED = (
    TemplateProblem.MISSING,
    TemplateProblem.PAUSED,
    TemplateProblem.DISABLED,
)
# A recorded verdict is kept this long for messages of the template still in the runner's
# pipeline; the queue's rows were settled in the database with the verdict itself.
HOLD_KEPT_SECONDS = 60.0

_TITLES = {
    MISSING: (
        "Template does not exist at the provider",
        "The provider no longer has this template in this language (deleted there, or never "
        "approved): its queued messages failed without a provider call each. Submit the "
        "template again to send it.",
    ),
    DISABLED: (
        "Template disabled by the provider",
        "The provider disabled this template: its queued messages failed without a provider "
        "call each.",
    ),
    PAUSED: (
        "Template paused by the provider",
        "The provider paused this template and it was not active again before the message's "
        "send deadline.",
    ),
}
# The template's state in Herald for each verdict; a template missing at the provider goes
# back to DRAFT (submitting it again creates it there anew).
_STATE = {MISSING: "DRAFT", PAUSED: "PAUSED", DISABLED: "DISABLED"}
_PROVIDER_STATUS = {"PAUSED": PAUSED, "DISABLED": DISABLED}

TemplateKey = tuple[str, str]  # name, language


def key_of(message: Message) -> TemplateKey:
    return message.template_name, message.template_language


def is_template_level(message: Message, error: ProviderError) -> bool:
    """A refusal about the message's template (a free-form message has none)."""
    return (
        not message.is_free_form
        and error.template_problem is not None
        and error.kind
        in (
            ErrorKind.PERMANENT,
            ErrorKind.TEMPLATE_UNAVAILABLE,
        )
    )


@dataclass
class Verdict:
    """What the provider says of one template, for all its messages on this channel."""

    key: TemplateKey
    problem: TemplateProblem  # MISSING, PAUSED or DISABLED
    holds: bool  # the messages wait (paused, or unconfirmed); else they fail with ``error``
    template_state: str | None  # to record in Herald; None: the provider did not confirm it
    template_ids: set[int] = field(default_factory=set)
    recorded: bool = False
    # Held: messages claimed up to this claim (their rows were not in the queue when the
    # verdict was recorded); those claimed later are sent, to learn if it still holds.
    up_to_claim: int | None = None

    @property
    def error(self) -> ProviderError:
        """What the template's messages fail with: the provider's own code for the problem."""
        title, detail = _TITLES[self.problem]
        return template_refusal(self.problem, title, detail)

    @property
    def code(self) -> int | None:
        return self.error.code


class TemplateHolds:
    """One channel runner's held templates and the verdicts on them."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self._verdicts: dict[TemplateKey, asyncio.Future[Verdict]] = {}
        self._expires: dict[TemplateKey, float] = {}

    def held(self, message: Message, claim: int) -> asyncio.Future[Verdict] | None:
        """The verdict (maybe still coming) on the template of ``message``, of claim number
        ``claim``, if it is held."""
        if not self._verdicts or message.is_free_form:  # the usual case; no template
            return None
        key = key_of(message)
        expires = self._expires.get(key)
        if expires is not None and time.monotonic() > expires:
            self.release(key)
        verdict = self._verdicts.get(key)
        if verdict is not None and verdict.done():
            up_to = verdict.result().up_to_claim
            if up_to is not None and claim > up_to:
                return None
        return verdict

    def refused(
        self, access: ChannelAccess, claim: int, message: Message, error: ProviderError
    ) -> asyncio.Future[Verdict]:
        """The provider refused ``message`` for its template: hold the template (its other
        messages wait for the verdict rather than being sent) and ask the provider about it,
        unless a look already under way (or one whose hold still covers the claim) answers."""
        key = key_of(message)
        verdict = self.held(message, claim)
        if verdict is None:
            verdict = asyncio.ensure_future(self._look_up(access, key, error))
            self._verdicts[key] = verdict
            self._expires.pop(key, None)
        return verdict

    def release(self, key: TemplateKey) -> None:
        self._verdicts.pop(key, None)
        self._expires.pop(key, None)

    def recorded(self, verdict: Verdict, last_claim: int) -> None:
        """The verdict is in the database, with the queue's messages of the template: a
        paused template's wait there, and only those claimed by then stay held here."""
        verdict.recorded = True
        if verdict.holds:
            verdict.up_to_claim = last_claim
        self._expires[verdict.key] = time.monotonic() + HOLD_KEPT_SECONDS

    async def _look_up(
        self, access: ChannelAccess, key: TemplateKey, error: ProviderError
    ) -> Verdict:
        name, language = key
        refused_with = error.template_problem or MISSING
        try:
            listed = [t async for t in self.provider.list_templates(access, name)]
        except Exception as exc:  # any failure: the refusal alone decides, sending goes on
            log.warning("dispatch.template_lookup_failed", error=type(exc).__name__)
            listed = None
        found = [t for t in listed or () if t.language == language]
        if listed is not None and not found:
            problem = MISSING
        elif found and found[0].status in _PROVIDER_STATUS:
            problem = _PROVIDER_STATUS[found[0].status]
        else:
            # Unconfirmed (the look failed, or the provider lists the template as usable): only
            # a disabled template is given up on; the rest wait and are tried again later, as
            # a "missing" just after an approval, before it reached every server, deserves.
            return Verdict(key, refused_with, refused_with != DISABLED, None)
        verdict = Verdict(key, problem, problem == PAUSED, _STATE[problem])
        log.warning("dispatch.template_held", provider_code=verdict.code)
        return verdict


async def _record_template_state(
    session: AsyncSession, verdict: Verdict, state: str, now: datetime
) -> None:
    """The verdict's state on its templates, each change told to the owner's callbacks. A
    template Meta said it deleted stays DELETED (missing is what Meta answers for it)."""
    found = await session.execute(select(Template).where(Template.id.in_(verdict.template_ids)))
    for template in found.scalars():
        before = template_events.snapshot(template)
        if verdict.problem == MISSING:
            template.provider_template_id = None
        if not (verdict.problem == MISSING and template.state == "DELETED"):
            template.state = state
        template.updated_at = now
        await template_events.announce(session, template, before, "SEND_REFUSED", None, now)


async def record_verdict(
    session: AsyncSession,
    channel_id: int,
    verdict: Verdict,
    now: datetime,
    recheck: timedelta,
) -> None:
    """The template's state, and every queued message of it on the channel settled at once:
    failed with the template's reason, or (paused) due again only after ``recheck``."""
    if verdict.template_state is not None and verdict.template_ids:
        await _record_template_state(session, verdict, verdict.template_state, now)
    name, language = verdict.key
    of_template = (
        Message.channel_id == channel_id,
        Message.template_name == name,
        Message.template_language == language,
        Message.state == QUEUED,
    )
    if verdict.holds:
        # Past its deadline, a message is failed by its next claim's refusal (policy.decide).
        await session.execute(
            update(Message)
            .where(*of_template, Message.next_attempt_at < bindparam("until"))
            .values(next_attempt_at=bindparam("until"), updated_at=now)
            .execution_options(synchronize_session=False),
            {"until": now + recheck},
        )
        return
    error = verdict.error
    failed = await session.execute(
        update(Message)
        .where(*of_template)
        .values(
            state=FAILED,
            failed_at=now,
            updated_at=now,
            error_code=str(error.code),
            error_title=error.title,
            error_detail=error.details,
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(failed.scalars())
    await record_states(session, ids, now)
    log.warning("dispatch.template_messages_failed", provider_code=error.code, count=len(ids))
