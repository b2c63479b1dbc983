"""The older check of Herald's status callbacks: ``X-Herald-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw request body keyed with the callback's (newest) secret.

Herald still sends it for receivers written before, but it signs no timestamp, so a captured
delivery verifies forever: use ``construct_event`` (``herald_client.callbacks``) instead.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Herald-Signature"
_SCHEME = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value Herald sends for ``body`` (useful to test a receiver)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is Herald's signature of ``body`` with ``secret``.

    Pass the body exactly as received (bytes, before any JSON parsing: re-serialising changes
    it). The comparison takes the same time wherever the first difference is, so an attacker
    cannot guess a valid signature byte by byte.
    """
    if not header or not secret:
        return False
    scheme, _, given = header.strip().partition("=")
    if f"{scheme.lower()}=" != _SCHEME or not given:
        return False
    expected = sign(secret, body).removeprefix(_SCHEME)
    # compare_digest on str only takes ASCII; bytes accepts whatever the header carried.
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())
