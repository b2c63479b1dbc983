"""A bulk send writes its rows while it checks the next recipients (``message/bulk.py``): a
refusal found after rows went out leaves nothing behind, opted-out numbers found once the rows
are written are dropped again, and what is stored is what a single send would store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest, assert_error, count_rows
from tests.message.helpers import approved_template


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


def recipients(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"to": f"2169{start + n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(count)
    ]


async def stored_total(db: DatabaseUnderTest) -> int:
    async with db.engine.connect() as connection:
        total = await connection.execute(text("SELECT coalesce(sum(total), 0) FROM message_totals"))
        return int(total.scalar_one())


async def opt_out(client: httpx.AsyncClient, auth: dict[str, str], number: str) -> None:
    answer = await client.post(
        "/api/v2/opt-outs", json={"number": number, "country_code": "TN"}, headers=auth
    )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("where", [0, 4_321, 9_999])
async def test_a_refusal_after_rows_were_written_stores_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    where: int,
) -> None:
    sent = recipients(10_000)
    sent[where] = {**sent[where], "body_params": ["only one"]}
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": sent},
        headers=auth,
    )
    body = assert_error(answer, 400, "recipients_invalid")
    assert body["data"] == {
        "rejected": [
            {
                "index": where,
                "code": "body_params_mismatch",
                "message": "The template takes 2 body parameter(s); 1 given.",
            }
        ]
    }
    assert await count_rows(db, "messages") == 0
    assert await stored_total(db) == 0


async def test_an_opted_out_number_found_after_the_rows_refuses_the_whole_call(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, db: DatabaseUnderTest
) -> None:
    await opt_out(client, auth, "21690009998")
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": recipients(10_000)},
        headers=auth,
    )
    body = assert_error(answer, 400, "recipients_invalid")
    assert [(r["index"], r["code"]) for r in body["data"]["rejected"]] == [  # type: ignore[index]
        (9_998, "recipient_opted_out")
    ]
    assert await count_rows(db, "messages") == 0


async def test_with_skip_invalid_the_opted_out_rows_are_dropped_before_the_commit(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
) -> None:
    for number in ("21690000000", "21690005000", "21690009999"):
        await opt_out(client, auth, number)
    await opt_out(client, bob_auth, "21690000001")  # another user's: not this one's concern
    sent = recipients(10_000)
    sent[9_998] = sent[5_000]  # the same opted-out number twice: refused at each index
    sent[7] = {**sent[7], "to": "123"}
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": sent, "skip_invalid": True},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    assert [(r["index"], r["code"]) for r in data["rejected"]] == [
        (0, "recipient_opted_out"),
        (7, "invalid_phone_number"),
        (5_000, "recipient_opted_out"),
        (9_998, "recipient_opted_out"),
        (9_999, "recipient_opted_out"),
    ]
    assert data["queued"] == 9_995
    group = await client.get(
        f"/api/v2/whatsapp/bulk-groups/{data['whatsapp_bulk_group_id']}", headers=auth
    )
    assert group.json()["data"]["total"] == 9_995
    assert await count_rows(db, "messages") == 9_995
    assert await stored_total(db) == 9_995
    async with db.engine.connect() as connection:
        left = await connection.execute(
            text(
                "SELECT count(*) FROM messages WHERE phone_number IN ('21690000000', '21690005000')"
            )
        )
        assert left.scalar_one() == 0


async def test_numbers_are_stored_as_a_single_send_stores_them(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    spellings = ["+216 96 816 277", "0021696816278", "96816279", " 21696816280 ", "216-968-16281"]
    sent = [{"to": to, "country_code": "tn", "body_params": [" A ", "B"]} for to in spellings]
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": sent},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    group = answer.json()["data"]["whatsapp_bulk_group_id"]
    listed = await client.get(
        "/api/whatsapp/", params={"whatsapp_bulk_group_id": group}, headers=auth
    )
    bulk = sorted((m["phone_number"], m["country_code"]) for m in listed.json()["data"]["items"])
    singles = []
    for recipient in sent:
        single = await client.post(
            f"/api/v2/whatsapp/templates/{template.id}/send", json=recipient, headers=auth
        )
        assert single.status_code == 202, single.text
        message = single.json()["data"]["message"]
        singles.append((message["phone_number"], message["country_code"]))
    assert bulk == sorted(singles)
    assert bulk == [(f"2169681627{n}", "TN") for n in range(7, 10)] + [
        ("21696816280", "TN"),
        ("21696816281", "TN"),
    ]
