"""Bulk rows (COPY on PostgreSQL, executemany on SQLite) are the rows the ORM would write, and
belong to the session's transaction like any other statement."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.kit.phone import normalise
from herald.message import repository
from herald.message.service import SendPolicy, common_columns, new_row, recipient_columns
from herald.message.validation import Prepared
from herald.models import Message, MessageTotal, Template, User
from herald.models.message import BULK
from tests.conftest import DatabaseUnderTest, count_rows
from tests.message.helpers import approved_template

POLICY = SendPolicy(deadline=timedelta(hours=24))
RECIPIENTS = [
    Prepared(normalise("21696816277", "TN"), {"body_params": ["Sam", "A\u00e9\U0001f600"]}),
    Prepared(normalise("447400123456", "GB"), {"body_params": ["x", "y"], "header_media_id": 7}),
]


async def _raw_rows(db: DatabaseUnderTest) -> list[dict[str, Any]]:
    """Every column as the database holds it, without the ORM's conversions on the way out."""
    async with db.engine.connect() as connection:
        result = await connection.execute(text("SELECT * FROM messages ORDER BY id"))
        return [dict(row._mapping) for row in result]


async def test_bulk_rows_are_the_rows_the_orm_writes(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    now = clock.now()
    scheduled = now + timedelta(hours=2)
    group = str(uuid.uuid4())
    async with session_factory(db.engine)() as session:
        for prepared in RECIPIENTS:
            row = new_row(ana.id, template, prepared, group, BULK, scheduled, POLICY, now)
            session.add(Message(**row))  # the ORM's row, to compare the bulk rows with
            await session.flush()
            await repository.add_to_total(session, ana.id, 1)
        common = common_columns(ana.id, template, group, BULK, scheduled, POLICY, now)
        rows = [recipient_columns(prepared) for prepared in RECIPIENTS]
        await repository.insert_many(session, ana.id, common, rows)
        await session.commit()
    by_orm, by_bulk = (await _raw_rows(db))[:2], (await _raw_rows(db))[2:]
    for orm_row, bulk_row in zip(by_orm, by_bulk, strict=True):
        assert {**orm_row, "id": None} == {**bulk_row, "id": None}
    async with session_factory(db.engine)() as session:
        read = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
        assert [m.content for m in read[2:]] == [p.content for p in RECIPIENTS]
        assert {m.scheduled_at for m in read} == {scheduled}
        totals = await session.execute(select(MessageTotal.total))
        assert sum(totals.scalars()) == 4


async def test_bulk_rows_roll_back_with_their_transaction(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    common = common_columns(ana.id, template, "g", BULK, None, POLICY, clock.now())
    rows = [recipient_columns(prepared) for prepared in RECIPIENTS]
    async with session_factory(db.engine)() as session:
        # The first statement of the session's transaction: nothing has opened it before.
        await repository.insert_many(session, ana.id, common, rows)
        await session.rollback()
    assert await count_rows(db, "messages") == 0
    assert await count_rows(db, "message_totals") == 0


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


async def test_a_bulk_send_skips_exactly_the_users_opted_out_numbers(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    template: Template,
) -> None:
    for number, who in (("21690000003", auth), ("21690000007", auth), ("21690000005", bob_auth)):
        opted = await client.post(
            "/api/v2/opt-outs", json={"number": number, "country_code": "TN"}, headers=who
        )
        assert opted.status_code in (200, 201), opted.text
    recipients = [
        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in [*range(10), 3]  # a repeated opted-out number is refused at each index
    ]
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": recipients, "skip_invalid": True},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    assert data["queued"] == 8
    assert [(r["index"], r["code"]) for r in data["rejected"]] == [
        (3, "recipient_opted_out"),
        (7, "recipient_opted_out"),
        (10, "recipient_opted_out"),
    ]
