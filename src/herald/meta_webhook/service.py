"""Webhooks from Meta: verified over the raw body, stored once, acknowledged at once."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.errors import Forbidden, MalformedJson, Unauthenticated
from herald.kit.crypto import Cipher, sha256_hex, signature_matches
from herald.meta_webhook import repository


class SignatureInvalid(Unauthenticated):
    code = "signature_invalid"
    message = "X-Hub-Signature-256 is missing or does not match the body."


class VerifyTokenMismatch(Forbidden):
    code = "verify_token_mismatch"
    message = "hub.verify_token does not match any channel."


_WABA_ID = re.compile(r"[0-9]{1,20}")
MAX_ACCOUNTS_PER_DELIVERY = 100  # Meta sends one; a few are tolerated, thousands are an attack


def waba_ids(envelope: Any) -> set[str]:
    """The accounts a delivery speaks for; SignatureInvalid when one is not an account id."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("entry"), list):
        return set()
    ids = {str(e.get("id")) for e in envelope["entry"] if isinstance(e, dict)}
    if len(ids) > MAX_ACCOUNTS_PER_DELIVERY or not all(_WABA_ID.fullmatch(i) for i in ids):
        raise SignatureInvalid()
    return ids


async def ingest(
    session: AsyncSession, cipher: Cipher, raw: bytes, signature: str | None, now: datetime
) -> bool:
    """Verify and store one delivery; True when it is new, False for a repeated delivery."""
    if not signature:
        raise SignatureInvalid()
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedJson() from None
    accounts = waba_ids(envelope)
    if not accounts:
        raise SignatureInvalid()
    candidates = await channels.by_waba_ids(session, sorted(accounts))
    # Every account the delivery names must be vouched for by the secret of one of its own
    # channels: a user who knows their app secret must not sign entries for someone else's.
    for account in accounts:
        secrets = {
            channel_service.app_secret(c, cipher) for c in candidates if c.waba_id == account
        }
        if not any(signature_matches(secret, raw, signature) for secret in secrets):
            raise SignatureInvalid()
    return await repository.insert_once(session, sha256_hex(raw), raw.decode(), now)


async def verify_subscription(
    session: AsyncSession, mode: str | None, token: str | None, challenge: str | None
) -> str:
    """Meta's GET handshake: echo the challenge when the verify token is a channel's."""
    if mode != "subscribe" or not token or challenge is None:
        raise VerifyTokenMismatch()
    if await channels.by_verify_token_hash(session, sha256_hex(token)) is None:
        raise VerifyTokenMismatch()
    return challenge
