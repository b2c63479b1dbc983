"""A queued message as the provider's request, its sending, and the answers as metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import structlog

from herald.dispatch.deps import DispatchDeps
from herald.dispatch.policy import Decision, Outcome
from herald.dispatch.results import SendResult
from herald.dispatch.template_holds import TemplateHolds, is_template_level
from herald.kit.metrics import ITEM_FAILURES, MESSAGES, PROVIDER_ERRORS, PROVIDER_SENDS
from herald.media.provider_copies import HeaderOrError
from herald.models import Message
from herald.models.lifecycle import FAILED, SENT
from herald.provider.base import (
    ButtonValue,
    ChannelAccess,
    ErrorKind,
    FreeForm,
    FreeFormMedia,
    HeaderMedia,
    Interactive,
    ListRow,
    ListSection,
    OutboundMessage,
    ProviderError,
    ReplyButton,
)

log = structlog.get_logger("herald.dispatch")


def outbound(message: Message, header: HeaderMedia | None = None) -> OutboundMessage:
    content = message.content
    if message.is_free_form:
        return OutboundMessage(
            to=message.phone_number,
            template_name="",
            language="",
            callback_data=str(message.id),
            free_form=free_form(message.kind, content, header),
        )
    body, body_names = _values(content.get("body_params"))
    header_values, header_names = _values(content.get("header_params"))
    if header is None and content.get("header_media_url"):
        header = HeaderMedia(kind=content["header_media_kind"], link=content["header_media_url"])
    return OutboundMessage(
        to=message.phone_number,
        template_name=message.template_name,
        language=message.template_language,
        callback_data=str(message.id),
        body_params=body,
        header_params=header_values,
        body_param_names=body_names,
        header_param_names=header_names,
        buttons=tuple(
            ButtonValue(int(b["index"]), str(b["sub_type"]), str(b["value"]))
            for b in content.get("buttons") or ()
        ),
        header=header,
        otp_code=content.get("otp_code"),
    )


def free_form(kind: str, content: dict[str, Any], header: HeaderMedia | None) -> FreeForm:
    """A free-form message's parts as stored (``message/free_form.py``); ``header``: its
    uploaded file's copy at the provider (``media/provider_copies.py``), when it has one."""
    media = None
    if "media" in content:
        stored = content["media"]
        media = FreeFormMedia(
            provider_media_id=header.provider_media_id if header is not None else None,
            link=None if header is not None else stored["link"],
            caption=stored.get("caption"),
            filename=stored.get("filename"),
        )
    interactive = None
    if "interactive" in content:
        parts = content["interactive"]
        action = parts["action"]
        interactive = Interactive(
            type=parts["type"],
            body=parts["body"],
            header=parts.get("header"),
            footer=parts.get("footer"),
            buttons=tuple(ReplyButton(b["id"], b["title"]) for b in action.get("buttons", ())),
            list_button=action.get("button"),
            sections=tuple(
                ListSection(
                    section.get("title"),
                    tuple(
                        ListRow(row["id"], row["title"], row.get("description"))
                        for row in section["rows"]
                    ),
                )
                for section in action.get("sections", ())
            ),
        )
    text = content.get("text")
    return FreeForm(
        type=kind,
        text=text["body"] if text is not None else None,
        preview_url=bool(text.get("preview_url")) if text is not None else False,
        media=media,
        interactive=interactive,
        reply_to=content.get("context_message_id"),
    )


def _values(params: list[str] | dict[str, str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stored parameters as values and, for a NAMED template's (an object), their names."""
    if isinstance(params, dict):
        return tuple(params.values()), tuple(params)
    return tuple(params or ()), ()


def outbound_or_error(
    message: Message, header: HeaderMedia | ProviderError | None
) -> OutboundMessage | ProviderError:
    """The request to send, or why there is none: the header file's error, or the row itself
    cannot be read (written by an older version, or by hand). That message fails with
    ``internal_error``; the rest of its chunk goes out."""
    if isinstance(header, ProviderError):
        return header
    try:
        return outbound(message, header)
    except Exception as exc:
        ITEM_FAILURES.labels("dispatch").inc()
        log.error("dispatch.message_unusable", message_id=message.id, error=type(exc).__name__)
        return ProviderError(
            ErrorKind.INTERNAL,
            None,
            "Herald could not build this message's request",
            f"{type(exc).__name__} while reading the stored message; nothing was sent.",
        )


def unexpected(exc: Exception) -> ProviderError:
    """A send that raised something no provider error covers: it may have left, so its
    outcome is unknown (the status webhook settles it; it is never sent twice)."""
    ITEM_FAILURES.labels("dispatch").inc()
    log.error("dispatch.send_raised", error=type(exc).__name__)
    return ProviderError(ErrorKind.UNKNOWN_OUTCOME, None, f"unexpected {type(exc).__name__}")


def count_results(channel_id: int, decisions: Sequence[tuple[SendResult, Decision]]) -> None:
    """A chunk's answers as metrics, each counter moved once per chunk rather than once per
    message (a labelled counter's look-up and lock were a share of each send's CPU)."""
    channel = str(channel_id)
    accepted, failed = 0, 0
    errors: Counter[tuple[str, str]] = Counter()
    for result, decision in decisions:
        if result.error is None:
            accepted += 1
            continue
        if result.called:  # a held template's other messages never reached the provider
            error = result.error
            errors[error.kind.value, str(error.code or error.kind.value)] += 1
        if decision.outcome is Outcome.FAILED:
            failed += 1
    if accepted:
        PROVIDER_SENDS.labels(channel, "accepted").inc(accepted)
        MESSAGES.labels(SENT).inc(accepted)
    for (kind, code), count in errors.items():
        PROVIDER_SENDS.labels(channel, kind).inc(count)
        PROVIDER_ERRORS.labels(channel, code).inc(count)
    if failed:
        MESSAGES.labels(FAILED).inc(failed)


async def send_one(
    deps: DispatchDeps,
    holds: TemplateHolds,
    access: ChannelAccess,
    claim: int,
    message: Message,
    header: HeaderOrError | None,
) -> SendResult:
    """One message's request at the provider, and what came of it (never raises)."""
    started = deps.clock.now()
    held = holds.held(message, claim)
    if held is not None:  # its template was refused: the verdict settles it, no call
        verdict = await held
        return SendResult(message, started, deps.clock.now(), verdict=verdict, called=False)
    request = outbound_or_error(message, header)
    if isinstance(request, ProviderError):  # nothing leaves: no file, or a row unusable
        return SendResult(message, started, started, error=request)
    try:
        receipt = await deps.provider.send_template(access, request)
        return SendResult(message, started, deps.clock.now(), receipt=receipt)
    except ProviderError as error:
        if not is_template_level(message, error):
            return SendResult(message, started, deps.clock.now(), error=error)
        verdict = await holds.refused(access, claim, message, error)
        return SendResult(message, started, deps.clock.now(), error=error, verdict=verdict)
    except Exception as exc:  # it may have left: the status webhook settles it, never a resend
        return SendResult(message, started, deps.clock.now(), error=unexpected(exc))
