"""A failed message's error in words, for people reading the console rather than the docs."""

from __future__ import annotations

_WORDS: dict[str, str] = {
    "131026": "WhatsApp could not deliver it: the number may not be on WhatsApp, or the "
    "recipient's app is too old to receive it.",
    "131047": "More than 24 hours have passed since the customer last replied; only a template "
    "can start a new conversation, and this one was refused.",
    "131050": "The customer has stopped marketing messages from this business; the number is "
    "now on your opt-out list.",
    "131051": "WhatsApp does not support this kind of message.",
    "131048": "WhatsApp limited this number for spam: too many customers blocked or reported it.",
    "131049": "WhatsApp held it back to protect the customer's experience (too many marketing "
    "messages to this person lately). Try again later.",
    "131030": "The recipient is not on the test number's allowed list.",
    "131053": "WhatsApp could not fetch the header file.",
    "131056": "Too many messages to the same customer in a short time.",
    "130429": "The number sent faster than its throughput allows.",
    "132000": "The number of parameters does not match the template's placeholders.",
    "132001": "The template does not exist in this language at WhatsApp, or is not approved yet.",
    "132005": "A filled-in parameter made the text too long.",
    "132007": "The text breaks WhatsApp's content policy for this template's category.",
    "132008": "A parameter has the wrong format.",
    "132012": "A parameter is not of the kind the template expects.",
    "132015": "WhatsApp paused the template for low quality: customers blocked or reported it.",
    "132016": "WhatsApp disabled the template for low quality.",
    "133010": "The business phone number is not registered with WhatsApp.",
    "100": "WhatsApp refused a parameter of the request.",
    "190": "The channel's access token expired or was revoked: the operator must set a new one.",
    "10": "The channel's access token lacks a permission this needs.",
    "0": "WhatsApp refused the channel's credentials.",
    "outcome_unknown": "The request to WhatsApp timed out after it left, so Herald does not "
    "know whether it was sent. Herald does not send it again blindly; a late status from "
    "WhatsApp settles it.",
    "deadline": "Herald kept retrying a temporary error until the send deadline passed.",
    "transient": "WhatsApp kept answering with a temporary error until the send deadline passed.",
    "media_missing": "The header file was deleted from Herald before the message was sent.",
    "media_gone": "WhatsApp lost the header file and it could not be uploaded again.",
    "auth": "WhatsApp refused the channel's credentials: the operator must fix the channel.",
    "internal_error": "Herald could not read this message as stored, so nothing was sent; the "
    "other messages went on. Send it again, and tell the operator (the log names the message).",
}

_BY_RANGE = "The channel's access token lacks a permission this needs."


def known_words() -> dict[str, str]:
    """The table, for the pages' script to explain a failure that happens while it watches
    (``console.js`` applies the same fallbacks as ``explain``)."""
    return dict(_WORDS)


def explain(code: str | None, title: str | None = None) -> str | None:
    """Words for an error code Herald or WhatsApp gave, or the provider's own title."""
    if not code:
        return None
    if code in _WORDS:
        return _WORDS[code]
    if code.isdigit() and 200 <= int(code) <= 299:
        return _BY_RANGE
    if title:
        return f"WhatsApp said: {title}."
    return f"Failed with code {code}."
