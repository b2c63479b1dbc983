"""Signing a delivery so that a receiver can tell it is Herald's, unaltered and fresh.

Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id`` (the event id, the same on
every retry so receivers can deduplicate), ``webhook-timestamp`` (this attempt, Unix seconds)
and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` for each
secret in force, space-separated, so a replay is refused once the timestamp is old and secrets
rotate with two valid at once. ``X-Herald-Signature`` (the body alone, newest secret) stays for
receivers written before, until they move (docs/callbacks.md).
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

from herald.kit.crypto import Cipher, hmac_sha256_hex
from herald.models import CallbackEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of the format, not a secret
LEGACY_SIGNATURE_HEADER = "X-Herald-Signature"
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def generate_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes: the form every Standard Webhooks library takes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: the bytes a ``whsec_<base64>`` secret encodes (decoded as the
    Standard Webhooks libraries decode it), else the secret's own UTF-8 bytes (secrets chosen by
    users, and ones generated before, which were not base64)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if secret.startswith(SECRET_PREFIX) and _BASE64.fullmatch(encoded):
        try:
            key = base64.b64decode(encoded + "==")  # padding optional, as in the libraries
        except ValueError:  # a length no base64 has (4n + 1 characters)
            key = b""
        if key:
            return key
    return secret.encode()


def secrets_in_force(endpoint: CallbackEndpoint, cipher: Cipher, now: datetime) -> list[str]:
    """The current secret, then the one a rotation replaced, until it expires."""
    in_force = [cipher.decrypt(endpoint.secret_encrypted)]
    expires_at = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires_at is not None and expires_at > now:
        in_force.append(cipher.decrypt(endpoint.previous_secret_encrypted))
    return in_force


def signed_headers(
    event_id: str, sent_at: datetime, body: bytes, secrets_in_force: Sequence[str]
) -> dict[str, str]:
    """The signature headers of one attempt; ``secrets_in_force`` newest first."""
    text = body.decode()
    signatures = [
        Webhook(signing_key(secret)).sign(event_id, sent_at, text) for secret in secrets_in_force
    ]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        LEGACY_SIGNATURE_HEADER: "sha256=" + hmac_sha256_hex(secrets_in_force[0], body),
    }
