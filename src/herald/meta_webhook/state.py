"""What webhook intake keeps for the process's life, made at start-up by the composition root
(``herald/features.py``) and read back with ``webhook_state(runtime)``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from herald.kit.registry import Slot
from herald.meta_webhook.inbox import WebhookInbox
from herald.meta_webhook.service import AccountSecrets
from herald.runtime import Runtime


@dataclass
class WebhookState:
    secrets: AccountSecrets
    inbox: WebhookInbox
    # Set when a new webhook event is stored, so the processor wakes before its next poll.
    pending: asyncio.Event = field(default_factory=asyncio.Event)


WEBHOOKS: Slot[WebhookState] = Slot("meta_webhook.state")


def webhook_state(runtime: Runtime) -> WebhookState:
    return runtime.features.get(WEBHOOKS)


@asynccontextmanager
async def started(runtime: Runtime) -> AsyncIterator[None]:
    inbox = WebhookInbox(runtime.sessions)
    runtime.features.put(
        WEBHOOKS, WebhookState(AccountSecrets(runtime.sessions, runtime.cipher), inbox)
    )
    try:
        yield
    finally:
        await inbox.aclose()
