"""Meta's error codes and what each means to Herald: the one table a new code is added to.

A refused send (the Graph API's error envelope) and a failed status (a webhook's
``statuses[].errors[]``) are read by the same ``error_from_meta`` and classified by the same
``classify``, so a code means the same thing however it reaches Herald.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    THROTTLED = "throttled"  # the sender or app is over a rate: retry later, slow the sender
    PAIR_RATE = "pair_rate"  # too many messages to one recipient: retry that recipient later
    TRANSIENT = "transient"  # retry with back-off, bounded
    PERMANENT = "permanent"  # this payload will never succeed: fail it
    TEMPLATE_UNAVAILABLE = "template_unavailable"  # template paused or disabled
    SENDER_LIMITED = "sender_limited"  # per-user marketing limit: fail, back off
    # The business reached its messaging limit (unique customers a rolling 24 h): hold the
    # message, and the account's other sends to new customers, until the window frees.
    MESSAGING_LIMIT = "messaging_limit"
    OPTED_OUT = "opted_out"  # the user stopped marketing messages: fail, add to opt-outs
    AUTH = "auth"  # token or permission: fail, pause the channel, alert the operator
    MEDIA_GONE = "media_gone"  # the provider lost the header file: upload it again, retry
    MEDIA_MISSING = "media_missing"  # Herald no longer has the header file: fail
    UNKNOWN_OUTCOME = "unknown_outcome"  # the request left; whether it took effect is unknown
    # Herald could not build the request from the stored message (a bug, a row it cannot
    # read): nothing left, and retrying cannot help. Herald's own, never Meta's.
    INTERNAL = "internal_error"


class TemplateProblem(StrEnum):
    """A refusal about the template itself: every message of it would get the same answer."""

    MISSING = "missing"  # not at the provider in this language (deleted, or not approved yet)
    PAUSED = "paused"  # paused for low quality: active again later
    DISABLED = "disabled"  # disabled for low quality: for good


# Herald's name for a failure whose Meta code has one: stored as the message's error code
# instead of Meta's number, so an integrator recognises it as the API's own refusal.
WINDOW_CLOSED = "window_closed"


@dataclass(frozen=True)
class MetaCode:
    kind: ErrorKind
    words: str | None = None  # for people reading the console
    template: TemplateProblem | None = None
    reason: str | None = None  # Herald's name for it (``WINDOW_CLOSED``), stored as the code


# Meta's codes (whatsapp-cloud-api.md, "Errors: what to do"). A new code is one line here.
CODES: dict[int, MetaCode] = {
    130429: MetaCode(ErrorKind.THROTTLED, "The number sent faster than its throughput allows."),
    80007: MetaCode(ErrorKind.THROTTLED),
    4: MetaCode(ErrorKind.THROTTLED),
    131056: MetaCode(
        ErrorKind.PAIR_RATE, "Too many messages to the same customer in a short time."
    ),
    131057: MetaCode(ErrorKind.TRANSIENT),
    2: MetaCode(ErrorKind.TRANSIENT),
    131016: MetaCode(ErrorKind.TRANSIENT),
    131000: MetaCode(ErrorKind.TRANSIENT),
    131026: MetaCode(
        ErrorKind.PERMANENT,
        "WhatsApp could not deliver it: the number may not be on WhatsApp, or the recipient's "
        "app is too old to receive it.",
    ),
    131047: MetaCode(
        ErrorKind.PERMANENT,
        "More than 24 hours have passed since the customer last replied; only a template can "
        "start a new conversation, and this one was refused.",
        reason=WINDOW_CLOSED,
    ),
    131051: MetaCode(ErrorKind.PERMANENT, "WhatsApp does not support this kind of message."),
    132000: MetaCode(
        ErrorKind.PERMANENT,
        "The number of parameters does not match the template's placeholders.",
    ),
    132001: MetaCode(
        ErrorKind.PERMANENT,
        "The template does not exist in this language at WhatsApp, or is not approved yet.",
        TemplateProblem.MISSING,
    ),
    132005: MetaCode(ErrorKind.PERMANENT, "A filled-in parameter made the text too long."),
    132007: MetaCode(
        ErrorKind.PERMANENT,
        "The text breaks WhatsApp's content policy for this template's category.",
    ),
    132008: MetaCode(ErrorKind.PERMANENT, "A parameter has the wrong format."),
    132012: MetaCode(ErrorKind.PERMANENT, "A parameter is not of the kind the template expects."),
    133010: MetaCode(
        ErrorKind.PERMANENT, "The business phone number is not registered with WhatsApp."
    ),
    100: MetaCode(ErrorKind.PERMANENT, "WhatsApp refused a parameter of the request."),
    131030: MetaCode(
        ErrorKind.PERMANENT, "The recipient is not on the test number's allowed list."
    ),
    132015: MetaCode(
        ErrorKind.TEMPLATE_UNAVAILABLE,
        "WhatsApp paused the template for low quality: customers blocked or reported it.",
        TemplateProblem.PAUSED,
    ),
    132016: MetaCode(
        ErrorKind.TEMPLATE_UNAVAILABLE,
        "WhatsApp disabled the template for low quality.",
        TemplateProblem.DISABLED,
    ),
    # Meta's "Spam rate limit hit": restrictions on how many messages the number may send,
    # what a business past its messaging limit (unique customers a rolling 24 h) is refused
    # with. Held, not failed: it goes once the window frees (message/limit.py).
    131048: MetaCode(
        ErrorKind.MESSAGING_LIMIT,
        "WhatsApp limited how many customers this business may reach in 24 hours (its "
        "messaging limit), or limited the number for spam; held until the window frees.",
    ),
    131049: MetaCode(
        ErrorKind.SENDER_LIMITED,
        "WhatsApp held it back to protect the customer's experience (too many marketing "
        "messages to this person lately). Try again later.",
    ),
    131050: MetaCode(
        ErrorKind.OPTED_OUT,
        "The customer has stopped marketing messages from this business; the number is now on "
        "your opt-out list.",
    ),
    # The header's media id is unknown or expired at the provider: upload again, then retry.
    131053: MetaCode(ErrorKind.MEDIA_GONE, "WhatsApp could not fetch the header file."),
    190: MetaCode(
        ErrorKind.AUTH,
        "The channel's access token expired or was revoked: the operator must set a new one.",
    ),
    # No token at all (Meta's "An access token is required"), a channel's credentials missing
    # as surely as 190's are refused.
    104: MetaCode(ErrorKind.AUTH),
    0: MetaCode(ErrorKind.AUTH, "WhatsApp refused the channel's credentials."),
    10: MetaCode(ErrorKind.AUTH, "The channel's access token lacks a permission this needs."),
}
# 200-299: a permission the token lacks.
_PERMISSIONS = MetaCode(ErrorKind.AUTH, "The channel's access token lacks a permission this needs.")


def _entry(code: int | None) -> MetaCode | None:
    if code is None:
        return None
    if code in CODES:
        return CODES[code]
    return _PERMISSIONS if 200 <= code <= 299 else None


def classify(code: int | None, http_status: int | None = None) -> ErrorKind:
    """Meta's error code decides (never the HTTP status or the text), as the provider table says.

    A code outside the table falls back on the HTTP status: 5xx is transient, anything else
    permanent, so an unknown failure is never retried forever.
    """
    entry = _entry(code)
    if entry is not None:
        return entry.kind
    if http_status is not None and http_status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def words_for(code: str) -> str | None:
    """Meta's code (as stored with a failed message) in words, when Herald has them."""
    entry = _entry(int(code)) if code.isdigit() and len(code) < 10 else _REASONS.get(code)
    return entry.words if entry is not None else None


def known_words() -> dict[str, str]:
    words = {str(code): entry.words for code, entry in CODES.items() if entry.words}
    return words | {reason: e.words for reason, e in _REASONS.items() if e.words}


_REASONS = {entry.reason: entry for entry in CODES.values() if entry.reason is not None}


def stored_code(code: int | None, kind: ErrorKind) -> str:
    """How a failed message's ``error_code`` names a failure: Herald's name for a Meta code
    that has one (131047: ``window_closed``), else Meta's code, else the kind."""
    entry = _entry(code)
    if entry is not None and entry.reason is not None:
        return entry.reason
    return str(code) if code is not None else kind.value


@dataclass
class ProviderError(Exception):
    kind: ErrorKind
    code: int | None
    title: str
    details: str | None = None
    subcode: int | None = None
    http_status: int | None = None
    trace_id: str | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.kind}: {self.code} {self.title}")

    @property
    def stored_code(self) -> str:
        return stored_code(self.code, self.kind)

    @property
    def template_problem(self) -> TemplateProblem | None:
        """What the refusal says of the template (for all its messages), if anything."""
        entry = _entry(self.code)
        return entry.template if entry is not None else None


def template_refusal(problem: TemplateProblem, title: str, details: str | None) -> ProviderError:
    """The error a template's messages fail with when the provider's verdict on the template
    settles them without a call each: stored as the provider's own refusal would be."""
    code = next(code for code, entry in CODES.items() if entry.template is problem)
    return ProviderError(classify(code), code, title, details)


def error_from_meta(
    error: dict[str, Any],
    http_status: int | None = None,
    title_keys: tuple[str, ...] = ("message", "title"),
    default_title: str = "provider error",
) -> ProviderError:
    """One of Meta's error objects, classified: a send's ``error`` envelope, or an entry of a
    failed status's ``errors`` (which puts its short text in ``title``)."""
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    subcode = error.get("error_subcode")
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    title = next((error[key] for key in title_keys if error.get(key)), default_title)
    trace_id = error.get("fbtrace_id")
    return ProviderError(
        kind=classify(code, http_status),
        code=code,
        title=str(title),
        details=str(details) if details is not None else None,
        subcode=subcode if isinstance(subcode, int) else None,
        http_status=http_status,
        trace_id=str(trace_id) if trace_id is not None else None,
    )
