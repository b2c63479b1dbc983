"""Webhooks from Meta: verified over the raw body, stored once, acknowledged at once."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.errors import Forbidden, MalformedJson, Unauthenticated
from herald.kit.crypto import Cipher, sha256_hex, signature_matches
from herald.meta_webhook.inbox import WebhookInbox
from herald.provider.events import webhook_accounts


class SignatureInvalid(Unauthenticated):
    code = "signature_invalid"
    message = "X-Hub-Signature-256 is missing or does not match the body."


class VerifyTokenMismatch(Forbidden):
    code = "verify_token_mismatch"
    message = "hub.verify_token does not match any channel."


_WABA_ID = re.compile(r"[0-9]{1,20}")
MAX_ACCOUNTS_PER_DELIVERY = 100  # Meta sends one; a few are tolerated, thousands are an attack
SECRETS_TTL_SECONDS = 5.0
MAX_KEPT_ACCOUNTS = 10_000


def waba_ids(envelope: Any) -> set[str]:
    """The accounts a delivery speaks for; SignatureInvalid when one is not an account id."""
    ids = set(webhook_accounts(envelope))
    if len(ids) > MAX_ACCOUNTS_PER_DELIVERY or not all(_WABA_ID.fullmatch(i) for i in ids):
        raise SignatureInvalid()
    return ids


class AccountSecrets:
    """The app secrets that may sign for each business account, read from the channels and
    kept for a few seconds, so that checking a delivery reads nothing from the database.

    A channel's new app secret (or a removed channel) takes effect within ``ttl`` seconds.
    Accounts no channel has are not kept: made-up ids cannot fill the memory.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        ttl: float = SECRETS_TTL_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._ttl = ttl
        self._known: dict[str, tuple[float, frozenset[str]]] = {}

    async def of(self, accounts: set[str]) -> dict[str, frozenset[str]]:
        now = time.monotonic()
        missing = [a for a in accounts if a not in self._known or self._known[a][0] <= now]
        if missing:
            async with self._sessions() as session:
                found = await channels.by_waba_ids(session, sorted(missing))
            if len(self._known) > MAX_KEPT_ACCOUNTS:
                self._known.clear()
            for account in missing:
                secrets = frozenset(
                    channel_service.app_secret(c, self._cipher)
                    for c in found
                    if c.waba_id == account
                )
                if secrets:
                    self._known[account] = (now + self._ttl, secrets)
                else:
                    self._known.pop(account, None)
        return {a: self._known[a][1] if a in self._known else frozenset() for a in accounts}


async def ingest(
    secrets: AccountSecrets,
    inbox: WebhookInbox,
    raw: bytes,
    signature: str | None,
    now: datetime,
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
    # Every account the delivery names must be vouched for by the secret of one of its own
    # channels: a user who knows their app secret must not sign entries for someone else's.
    for account_secrets in (await secrets.of(accounts)).values():
        if not any(signature_matches(secret, raw, signature) for secret in account_secrets):
            raise SignatureInvalid()
    return await inbox.store(sha256_hex(raw), raw.decode(), now)


async def verify_subscription(
    session: AsyncSession, mode: str | None, token: str | None, challenge: str | None
) -> str:
    """Meta's GET handshake: echo the challenge when the verify token is a channel's."""
    if mode != "subscribe" or not token or challenge is None:
        raise VerifyTokenMismatch()
    if await channels.by_verify_token_hash(session, sha256_hex(token)) is None:
        raise VerifyTokenMismatch()
    return challenge
