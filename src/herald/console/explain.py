"""A failed message's error in words, for people reading the console rather than the docs."""

from __future__ import annotations

from herald.provider.errors import known_words as provider_words
from herald.provider.errors import words_for

# Herald's own codes; the provider's are described with its code table (provider/errors.py).
_WORDS: dict[str, str] = {
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


def known_words() -> dict[str, str]:
    """The table, for the pages' script to explain a failure that happens while it watches
    (``console.js`` applies the same fallbacks as ``explain``)."""
    return {**provider_words(), **_WORDS}


def explain(code: str | None, title: str | None = None) -> str | None:
    """Words for an error code Herald or WhatsApp gave, or the provider's own title."""
    if not code:
        return None
    if code in _WORDS:
        return _WORDS[code]
    words = words_for(code)
    if words is not None:
        return words
    if title:
        return f"WhatsApp said: {title}."
    return f"Failed with code {code}."
