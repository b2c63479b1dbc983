"""Users, channels and APPROVED templates, written straight into the database under test and
registered at the emulator, so scenarios start sending at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.procs import EMULATOR_SECRET, EMULATOR_TOKEN, VERIFY_TOKEN, Stack
from herald.channel import service as channel_service
from herald.channel.service import ChannelFields
from herald.config import Settings
from herald.db import create_engine, session_factory
from herald.kit.crypto import Cipher
from herald.kit.passwords import hash_password_sync
from herald.models import Template, User

PASSWORD = "bench-password-1"
BODY = "Hello {{1}}, your order {{2}} is confirmed."


@dataclass
class Account:
    email: str
    user_id: int
    channel_id: int
    template_id: int
    phone_number_id: str


def cipher_for(data_dir: Path, database_url: str) -> Cipher:
    settings = Settings(data_dir=data_dir, database_url=database_url)
    return Cipher(settings.resolved_encryption_keys())


async def _prepare(stack: Stack, users: int, throughput: int) -> list[Account]:
    assert stack.emulator.url is not None
    engine = create_engine(stack.database_url)
    cipher = cipher_for(stack.data_dir, stack.database_url)
    now = datetime.now(UTC)
    accounts = []
    password_hash = hash_password_sync(PASSWORD)
    async with (
        session_factory(engine)() as session,
        httpx.AsyncClient(
            base_url=stack.emulator.url, headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"}
        ) as emulator,
    ):
        for n in range(users):
            user = User(
                email=f"bench{n}@example.com",
                password_hash=password_hash,
                has_api_access=True,
                is_disabled=False,
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            await session.flush()
            number = str(100_000_000_000 + user.id)
            channel = await channel_service.create(
                session,
                user.id,
                ChannelFields(
                    base_url=stack.emulator.url,
                    api_version="v23.0",
                    phone_number_id=number,
                    waba_id=number,
                    access_token=EMULATOR_TOKEN,
                    app_secret=EMULATOR_SECRET,
                    verify_token=VERIFY_TOKEN,
                    throughput_per_second=throughput,
                    is_sandbox=True,
                ),
                cipher,
                now,
            )
            created = await emulator.post(
                f"/v23.0/{number}/message_templates",
                json={
                    "name": "order_confirmed",
                    "language": "en",
                    "category": "UTILITY",
                    "components": [
                        {"type": "BODY", "text": BODY, "example": {"body_text": [["A", "B"]]}}
                    ],
                },
            )
            provider_id = created.json()["id"]
            await emulator.post(f"/_emulator/templates/{provider_id}/approve")
            template = Template(
                user_id=user.id,
                channel_id=channel.id,
                name="order_confirmed",
                language="en",
                category="UTILITY",
                state="APPROVED",
                body=BODY,
                buttons=[],
                placeholder_count=2,
                provider_template_id=provider_id,
                created_at=now,
                updated_at=now,
            )
            session.add(template)
            await session.flush()
            accounts.append(Account(user.email, user.id, channel.id, template.id, number))
        await session.commit()
    await engine.dispose()
    return accounts


def prepare(stack: Stack, users: int = 1, throughput: int = 1000) -> list[Account]:
    return asyncio.run(_prepare(stack, users, throughput))


def token(api_url: str, email: str) -> str:
    answer = httpx.post(
        f"{api_url}/api/login_check", json={"username": email, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    value: str = answer.json()["data"]["token"]
    return value
