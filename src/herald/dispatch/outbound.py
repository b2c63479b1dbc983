"""A queued message as the provider's request, and a send's answer as metrics."""

from __future__ import annotations

from herald.dispatch.policy import Decision, Outcome
from herald.dispatch.results import SendResult
from herald.kit.metrics import MESSAGES, PROVIDER_ERRORS, PROVIDER_SENDS
from herald.models import Message
from herald.provider.base import ButtonValue, HeaderMedia, OutboundMessage


def outbound(message: Message, header: HeaderMedia | None = None) -> OutboundMessage:
    content = message.content
    return OutboundMessage(
        to=message.phone_number,
        template_name=message.template_name,
        language=message.template_language,
        callback_data=str(message.id),
        body_params=tuple(content.get("body_params") or ()),
        header_params=tuple(content.get("header_params") or ()),
        buttons=tuple(
            ButtonValue(int(b["index"]), str(b["sub_type"]), str(b["value"]))
            for b in content.get("buttons") or ()
        ),
        header=header,
        otp_code=content.get("otp_code"),
    )


def count_result(channel_id: int, result: SendResult, decision: Decision) -> None:
    channel = str(channel_id)
    if result.error is None:
        PROVIDER_SENDS.labels(channel, "accepted").inc()
        MESSAGES.labels("sent").inc()
        return
    if result.called:  # a held template's other messages never reached the provider
        PROVIDER_SENDS.labels(channel, result.error.kind.value).inc()
        PROVIDER_ERRORS.labels(channel, str(result.error.code or result.error.kind.value)).inc()
    if decision.outcome is Outcome.FAILED:
        MESSAGES.labels("failed").inc()
