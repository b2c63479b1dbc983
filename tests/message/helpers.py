"""Approved templates for send tests, stored the way a finished review leaves them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from herald.channel import service as channels
from herald.channel.defaults import emulator_defaults
from herald.config import Settings
from herald.db import session_factory
from herald.kit.crypto import Cipher
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest

ORDER_BODY = "Hello {{1}}, your order {{2}} is confirmed."
SAM = {"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "ORD-2026-00041"]}


def send_path(template: Template) -> str:
    return f"/api/v2/whatsapp/templates/{template.id}/send"


async def approved_template(
    db: DatabaseUnderTest,
    user: User,
    settings: Settings,
    now: datetime,
    state: str = "APPROVED",
    **fields: Any,
) -> Template:
    async with session_factory(db.engine)() as session:
        channel = await channels.ensure_default(
            session,
            user.id,
            emulator_defaults(settings),
            Cipher(settings.resolved_encryption_keys()),
            now,
        )
        values: dict[str, Any] = {
            "name": "order_confirmed",
            "language": "en",
            "category": "UTILITY",
            "body": ORDER_BODY,
            "buttons": [],
            "placeholder_count": 2,
        }
        values.update(fields)
        template = Template(
            user_id=user.id,
            channel_id=channel.id,
            state=state,
            provider_template_id="1",
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(template)
        await session.commit()
        return template
