"""Single sends through the intake batcher: group commit, and what a process remembers about
users and templates never outlives a change committed elsewhere (another process, the CLI)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event, select

from herald.channel import senders
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.message import service
from herald.message.intake import SendBatcher
from herald.message.intake_cache import Checks, IntakeCache, Stale, template_fields
from herald.message.schemas import SendV2
from herald.models import Message, MessageTotal, Template, User
from tests.conftest import DatabaseUnderTest, add_user, assert_error, count_rows, login
from tests.message.helpers import SAM, approved_template, send_path


async def change(db: DatabaseUnderTest, table: Any, row_id: int, **values: Any) -> None:
    """A change committed outside the API process's sessions, as `herald users disable` does."""
    async with db.engine.begin() as connection:
        await connection.execute(table.update().where(table.c.id == row_id).values(**values))


async def test_revocation_holds_for_a_user_the_process_remembers(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    ana: User,
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    users, path = User.__table__, send_path(template)
    assert (await client.post(path, json=SAM, headers=auth)).status_code == 202
    await change(db, users, ana.id, is_disabled=True)
    assert_error(await client.post(path, json=SAM, headers=auth), 401, "token_invalid")
    await change(db, users, ana.id, is_disabled=False, has_api_access=False)
    assert_error(await client.post(path, json=SAM, headers=auth), 403, "api_access_disabled")
    await change(db, users, ana.id, has_api_access=True)
    assert (await client.post(path, json=SAM, headers=auth)).status_code == 202
    # A password change: tokens issued before it are refused, new ones work at once.
    await change(db, users, ana.id, tokens_valid_after=clock.now() + timedelta(seconds=1))
    assert_error(await client.post(path, json=SAM, headers=auth), 401, "token_invalid")
    clock.advance(timedelta(seconds=2))
    fresh = {"Authorization": f"Bearer {await login(client, ana.email)}"}
    assert (await client.post(path, json=SAM, headers=fresh)).status_code == 202
    assert await count_rows(db, "messages") == 3


async def test_a_template_changed_or_deleted_elsewhere_is_read_again(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, db: DatabaseUnderTest
) -> None:
    templates, path = Template.__table__, send_path(template)
    assert (await client.post(path, json=SAM, headers=auth)).status_code == 202
    await change(db, templates, template.id, state="PAUSED")
    assert_error(await client.post(path, json=SAM, headers=auth), 400, "template_not_approved")
    await change(db, templates, template.id, state="APPROVED", placeholder_count=1)
    assert_error(await client.post(path, json=SAM, headers=auth), 400, "body_params_mismatch")
    await change(db, templates, template.id, placeholder_count=2, channel_id=None)
    assert_error(await client.post(path, json=SAM, headers=auth), 409, "channel_missing")
    async with db.engine.begin() as connection:
        await connection.execute(templates.delete().where(templates.c.id == template.id))
    assert_error(await client.post(path, json=SAM, headers=auth), 404, "template_not_found")
    assert await count_rows(db, "messages") == 1


def _draft(ana: User, template: Template, clock: FrozenClock, to: str) -> service.Draft:
    body = SendV2.model_validate({**SAM, "to": to})
    policy = service.SendPolicy(deadline=timedelta(hours=1))
    return service.draft_one(
        ana.id, template, body, None, body.to, body.country_code, None, policy, clock.now()
    )


async def _checks(db: DatabaseUnderTest, user: User, template: Template) -> Checks:
    """What the send was drafted under: its template, and its user's channels as they are."""
    async with session_factory(db.engine)() as session:
        channels = await senders.of_user(session, user.id)
    return Checks(user.id, 0, template.id, template_fields(template), channels)


NUMBERS = [f"2169681{n:04d}" for n in range(20)]


async def test_sends_that_arrive_together_share_one_commit(
    ana: User, template: Template, db: DatabaseUnderTest, clock: FrozenClock
) -> None:
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(db.engine.sync_engine, "commit", committed)
    try:
        batcher = SendBatcher(session_factory(db.engine), IntakeCache())
        drafts = [_draft(ana, template, clock, number) for number in NUMBERS]
        checks = await _checks(db, ana, template)
        ids = await asyncio.gather(*(batcher.store(d.row, checks) for d in drafts))
    finally:
        event.remove(db.engine.sync_engine, "commit", committed)
    assert len(commits) == 1
    async with session_factory(db.engine)() as session:
        stored = (await session.execute(select(Message.id, Message.phone_number))).all()
        total = (await session.execute(select(MessageTotal.total))).scalars().all()
    assert dict(stored) == dict(zip(ids, NUMBERS, strict=True))
    assert sum(total) == len(NUMBERS)


async def test_one_failing_send_does_not_fail_its_batch(
    ana: User,
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bobs = await approved_template(db, bob, settings, clock.now())
    batcher = SendBatcher(session_factory(db.engine), IntakeCache())
    good = [_draft(ana, template, clock, number) for number in NUMBERS[:5]]
    dangling = _draft(ana, template, clock, NUMBERS[5])
    dangling.row["contact_id"] = 999_999  # a contact deleted meanwhile: its foreign key refuses it
    bobs_send = service.draft_one(
        bob.id,
        bobs,
        SendV2.model_validate(SAM),
        None,
        SAM["to"],
        "TN",
        None,
        service.SendPolicy(deadline=timedelta(hours=1)),
        clock.now(),
    )
    anas, bobs_checks = await _checks(db, ana, template), await _checks(db, bob, bobs)
    await change(db, User.__table__, bob.id, is_disabled=True)  # after bob's send was authorised
    results = await asyncio.gather(
        *(batcher.store(d.row, anas) for d in good),
        batcher.store(dangling.row, anas),
        batcher.store(bobs_send.row, bobs_checks),
        return_exceptions=True,
    )
    assert all(isinstance(r, int) for r in results[:5]), results
    assert getattr(results[5], "status", None) == 503, results[5]  # retryable, never a 500
    assert isinstance(results[6], Stale)
    assert await count_rows(db, "messages") == 5


async def test_a_token_verified_before_still_expires(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, clock: FrozenClock
) -> None:
    path = send_path(template)
    assert (await client.post(path, json=SAM, headers=auth)).status_code == 202
    clock.advance(timedelta(hours=2))
    assert_error(await client.post(path, json=SAM, headers=auth), 401, "token_expired")
