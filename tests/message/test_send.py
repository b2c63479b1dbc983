"""Accepting sends (spec/api.md §5): every check and its code, idempotency, scheduling, bulk."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from alembic import command

from herald import migrate
from herald.app import create_app
from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest, assert_error, count_rows, login
from tests.message.helpers import SAM, approved_template, send_path


async def test_a_v2_send_is_queued_and_answers_202(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, db: DatabaseUnderTest
) -> None:
    answer = await client.post(send_path(template), json=SAM, headers=auth)
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    message = data["message"]
    assert data["whatsapp_bulk_group_id"] == message["whatsapp_bulk_group_id"]
    assert message["state"] == "queued"
    assert message["phone_number"] == "21696816277"
    assert message["template_name"] == "order_confirmed"
    assert message["error"] is None
    assert message["sent_date"] is None
    assert await count_rows(db, "messages") == 1
    listed = await client.get(
        "/api/whatsapp/",
        params={"whatsapp_bulk_group_id": data["whatsapp_bulk_group_id"]},
        headers=auth,
    )
    assert [m["id"] for m in listed.json()["data"]["items"]] == [message["id"]]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"body_params": ["Sam"]}, 400, "body_params_mismatch"),
        ({"body_params": ["Sam", "ORD", "extra"]}, 400, "body_params_mismatch"),
        ({"body_params": ["Sam", "  "]}, 400, "validation_failed"),
        ({"body_params": ["Sam", "ORD\n1"]}, 400, "param_text_invalid"),
        ({"body_params": ["Sam\tLee", "ORD"]}, 400, "param_text_invalid"),
        ({"body_params": ["Sam", "ORD     1"]}, 400, "param_text_invalid"),
        ({"to": "2169681"}, 400, "invalid_phone_number"),
        ({"country_code": "FR"}, 400, "invalid_phone_number"),
        ({"otp_code": "123456"}, 400, "otp_code_invalid"),
        ({"buttons": [{"index": 0, "sub_type": "url", "value": "x"}]}, 400, "invalid_button"),
        ({"header_media_id": 1}, 400, "header_media_mismatch"),
        ({"colour": "red"}, 400, "validation_failed"),
        ({"send_at": "2020-01-01T00:00:00Z"}, 400, "validation_failed"),
    ],
)
async def test_each_check_has_its_code(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    assert_error(
        await client.post(send_path(template), json={**SAM, **change}, headers=auth), status, code
    )
    assert await count_rows(db, "messages") == 0


async def test_mismatch_names_expected_and_given(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    body = assert_error(
        await client.post(send_path(template), json={**SAM, "body_params": ["Sam"]}, headers=auth),
        400,
        "body_params_mismatch",
    )
    assert body["data"] == {"expected": 2, "given": 1}


@pytest.mark.parametrize("state", ["DRAFT", "PENDING", "REJECTED", "PAUSED", "DISABLED"])
async def test_only_approved_templates_send(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    state: str,
) -> None:
    pending = await approved_template(db, ana, settings, clock.now(), state=state)
    body = assert_error(
        await client.post(send_path(pending), json=SAM, headers=auth), 400, "template_not_approved"
    )
    assert body["data"] == {"state": state}
    assert state in str(body["message"])


async def test_a_template_deleted_at_meta_or_of_a_kind_herald_cannot_send_is_refused(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    deleted = await approved_template(db, ana, settings, clock.now(), state="DELETED")
    for path in (send_path(deleted), f"/api/v2/whatsapp/templates/{deleted.id}/send-bulk"):
        body = SAM if path.endswith("/send") else {"recipients": [SAM]}
        assert_error(await client.post(path, json=body, headers=auth), 400, "template_deleted")
    reason = "Herald cannot send this kind of template yet: it has a carousel."
    carousel = await approved_template(
        db, ana, settings, clock.now(), name="picks", sendable=False, unsendable_reason=reason
    )
    refused = assert_error(
        await client.post(send_path(carousel), json=SAM, headers=auth),
        400,
        "template_not_sendable",
    )
    assert refused["message"] == reason


async def test_a_value_for_an_imported_phone_number_button_is_refused(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """Meta's PHONE_NUMBER button takes nothing at send: a value for it is a 400, not a 500."""
    button = {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100"}
    called = await approved_template(db, ana, settings, clock.now(), buttons=[button])
    value = {"index": 0, "sub_type": "url", "value": "x"}
    answer = await client.post(send_path(called), json={**SAM, "buttons": [value]}, headers=auth)
    assert_error(answer, 400, "invalid_button")
    assert (await client.post(send_path(called), json=SAM, headers=auth)).status_code == 202


async def test_another_users_template_is_404(
    client: httpx.AsyncClient, bob_auth: dict[str, str], template: Template
) -> None:
    assert_error(
        await client.post(send_path(template), json=SAM, headers=bob_auth),
        404,
        "template_not_found",
    )


async def test_opted_out_recipients_are_409(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    added = await client.post(
        "/api/v2/opt-outs", json={"number": "+216 96 816 277", "country_code": "TN"}, headers=auth
    )
    assert added.status_code == 201
    assert added.json()["data"]["number"] == "21696816277"
    assert_error(
        await client.post(send_path(template), json=SAM, headers=auth), 409, "recipient_opted_out"
    )
    listed = await client.get("/api/v2/opt-outs", headers=auth)
    assert [o["number"] for o in listed.json()["data"]["items"]] == ["21696816277"]
    assert (await client.delete("/api/v2/opt-outs/21696816277", headers=auth)).status_code == 200
    assert (await client.post(send_path(template), json=SAM, headers=auth)).status_code == 202
    assert_error(
        await client.delete("/api/v2/opt-outs/21696816277", headers=auth), 404, "opt_out_not_found"
    )


async def test_buttons_are_checked_against_the_template(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    with_buttons = await approved_template(
        db,
        ana,
        settings,
        clock.now(),
        name="tracked",
        buttons=[
            {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
    )
    path = send_path(with_buttons)
    url = {"index": 0, "sub_type": "url", "value": "ORD-41"}
    assert (
        await client.post(path, json={**SAM, "buttons": [url]}, headers=auth)
    ).status_code == 202
    for buttons in (
        [],  # the URL's variable needs its value
        [{"index": 0, "sub_type": "quick_reply", "value": "x"}],
        [{"index": 5, "sub_type": "url", "value": "x"}],
        [url, url],
    ):
        assert_error(
            await client.post(path, json={**SAM, "buttons": buttons}, headers=auth),
            400,
            "invalid_button",
        )


async def test_authentication_templates_take_otp_code_only(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    otp = await approved_template(
        db,
        ana,
        settings,
        clock.now(),
        name="login_code",
        category="AUTHENTICATION",
        body="{{1}} is your verification code.",  # Meta's wording, as created in Meta's shape
        placeholder_count=0,
        authentication={"otp_type": "COPY_CODE", "add_security_recommendation": False},
    )
    to = {"to": SAM["to"], "country_code": "TN"}
    assert (
        await client.post(send_path(otp), json={**to, "otp_code": "482913"}, headers=auth)
    ).status_code == 202
    for bad in ({}, {"otp_code": "48-29"}, {"otp_code": "1", "body_params": ["x"]}):
        assert_error(
            await client.post(send_path(otp), json={**to, **bad}, headers=auth),
            400,
            "otp_code_invalid",
        )


async def test_a_text_header_variable_takes_its_one_value(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    template: Template,
) -> None:
    titled = await approved_template(
        db,
        ana,
        settings,
        clock.now(),
        name="titled",
        header_format="TEXT",
        header_text="Order {{1}}",
        header_example="A-1",
    )
    answer = await client.post(
        send_path(titled), json={**SAM, "header_params": ["A-2001"]}, headers=auth
    )
    assert answer.status_code == 202, answer.text
    body = assert_error(
        await client.post(send_path(titled), json=SAM, headers=auth), 400, "header_params_mismatch"
    )
    assert body["data"] == {"expected": 1, "given": 0}
    assert_error(  # a template without a header variable takes no header value
        await client.post(send_path(template), json={**SAM, "header_params": ["x"]}, headers=auth),
        400,
        "header_params_mismatch",
    )
    assert_error(
        await client.post(send_path(titled), json={**SAM, "header_params": [" "]}, headers=auth),
        400,
        "validation_failed",
    )
    refused = assert_error(  # Meta refuses a header value with a newline, as a body one
        await client.post(
            send_path(titled), json={**SAM, "header_params": ["A-1\n2"]}, headers=auth
        ),
        400,
        "param_text_invalid",
    )
    assert refused["data"] == {"field": "header_params.0"}
    bulk = await client.post(
        f"{send_path(titled)}-bulk",
        json={
            "recipients": [{**SAM, "header_params": ["A-2002"]}, SAM],
            "skip_invalid": True,
        },
        headers=auth,
    )
    assert bulk.status_code == 202, bulk.text
    assert bulk.json()["data"]["queued"] == 1
    assert [r["code"] for r in bulk.json()["data"]["rejected"]] == ["header_params_mismatch"]


async def test_media_headers_need_the_callers_media(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    invoice = await approved_template(
        db, ana, settings, clock.now(), name="invoice", header_format="DOCUMENT"
    )
    assert_error(
        await client.post(send_path(invoice), json=SAM, headers=auth), 400, "header_media_required"
    )
    assert_error(
        await client.post(send_path(invoice), json={**SAM, "header_media_id": 999}, headers=auth),
        404,
        "media_not_found",
    )


async def test_idempotency_replays_the_first_answer(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    keyed = {**auth, "Idempotency-Key": "order-41"}
    first = await client.post(send_path(template), json=SAM, headers=keyed)
    again = await client.post(send_path(template), json=SAM, headers=keyed)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    in_body = await client.post(
        send_path(template), json={**SAM, "idempotency_key": "order-41"}, headers=auth
    )
    assert in_body.json() == first.json()
    assert await count_rows(db, "messages") == 1
    other = {**SAM, "body_params": ["Sam", "ORD-2026-00042"]}
    body = assert_error(
        await client.post(send_path(template), json=other, headers=keyed),
        409,
        "idempotency_conflict",
    )
    assert body["data"] == {"idempotency_key": "order-41"}
    clock.advance(timedelta(hours=24, seconds=1))
    fresh = {"Authorization": f"Bearer {await login(client, 'ana@example.com')}"}
    later = await client.post(
        send_path(template), json=SAM, headers={**fresh, "Idempotency-Key": "order-41"}
    )
    assert later.status_code == 202
    assert later.json()["data"]["message"]["id"] != first.json()["data"]["message"]["id"]


async def test_keys_belong_to_one_user(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    await client.post(send_path(template), json=SAM, headers={**auth, "Idempotency-Key": "k"})
    bob_template = await approved_template(db, await _bob(db), settings, clock.now())
    answer = await client.post(
        send_path(bob_template), json=SAM, headers={**bob_auth, "Idempotency-Key": "k"}
    )
    assert answer.status_code == 202
    assert await count_rows(db, "messages") == 2


async def _bob(db: DatabaseUnderTest) -> User:
    from sqlalchemy import select

    from herald.db import session_factory

    async with session_factory(db.engine)() as session:
        return (
            await session.execute(select(User).where(User.email == "bob@example.com"))
        ).scalar_one()


async def test_scheduling_and_cancelling(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, clock: FrozenClock
) -> None:
    at = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = await client.post(send_path(template), json={**SAM, "send_at": at}, headers=auth)
    message = answer.json()["data"]["message"]
    assert message["scheduled_at"] == at
    assert message["state"] == "queued"
    cancelled = await client.delete(f"/api/whatsapp/{message['id']}/", headers=auth)
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["state"] == "cancelled"
    again = await client.delete(f"/api/whatsapp/{message['id']}/", headers=auth)
    assert assert_error(again, 409, "invalid_state")["data"] == {"state": "cancelled"}
    too_far = (clock.now() + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_error(
        await client.post(send_path(template), json={**SAM, "send_at": too_far}, headers=auth),
        400,
        "validation_failed",
    )
    # The document says a date-time string; seconds since 1970 were taken for one.
    in_two_hours = (clock.now() + timedelta(hours=2)).timestamp()
    for number in (in_two_hours, int(in_two_hours)):
        for path, body in (
            (send_path(template), {**SAM, "send_at": number}),
            (f"{send_path(template)}-bulk", {"recipients": [SAM], "send_at": number}),
        ):
            refused = await client.post(path, json=body, headers=auth)
            errors = assert_error(refused, 400, "validation_failed")["data"]
            assert errors == {
                "errors": [
                    {
                        "field": "send_at",
                        "message": "must be an ISO 8601 date-time string, "
                        "such as 2026-12-01T09:00:00Z",
                    }
                ]
            }


async def test_v1_sends_by_contact_or_number(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    contact = (
        await client.post(
            "/api/contacts/", json={"number": "21696816277", "country_code": "TN"}, headers=auth
        )
    ).json()["data"]
    params = {"body_params": ["Sam", "ORD-1"]}
    by_contact = await client.post(
        "/api/whatsapp/",
        json={"template_id": template.id, "contact_id": contact["id"], **params},
        headers=auth,
    )
    assert by_contact.status_code == 202, by_contact.text
    assert by_contact.json()["data"]["message"]["contact_id"] == contact["id"]
    by_number = await client.post(
        "/api/whatsapp/",
        json={
            "template_id": template.id,
            "phone_number": "+21696816277",
            "country_code": "TN",
            **params,
        },
        headers=auth,
    )
    assert by_number.status_code == 202
    v1_template = await client.post(
        f"/api/whatsapp/templates/{template.id}/send/",
        json={"contact_id": contact["id"], **params},
        headers=auth,
    )
    assert v1_template.status_code == 202
    for wrong in (
        {"contact_id": contact["id"], "phone_number": "21696816277", "country_code": "TN"},
        {},
        {"phone_number": "21696816277"},
    ):
        assert_error(
            await client.post(
                "/api/whatsapp/", json={"template_id": template.id, **params, **wrong}, headers=auth
            ),
            400,
            "validation_failed",
        )
    assert_error(
        await client.post(
            "/api/whatsapp/",
            json={"template_id": template.id, "contact_id": 99999, **params},
            headers=auth,
        ),
        404,
        "contact_not_found",
    )
    multiline = {"body_params": ["Sam", "ORD-1\nORD-2"]}
    for path, body in (
        ("/api/whatsapp/", {"template_id": template.id, "contact_id": contact["id"]}),
        (f"/api/whatsapp/templates/{template.id}/send/", {"contact_id": contact["id"]}),
    ):
        refused = assert_error(
            await client.post(path, json={**body, **multiline}, headers=auth),
            400,
            "param_text_invalid",
        )
        assert refused["data"] == {"field": "body_params.1"}


async def test_bulk_validates_as_a_whole(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, db: DatabaseUnderTest
) -> None:
    good = {"to": "21696816277", "country_code": "TN", "body_params": ["A", "B"]}
    bad_number = {**good, "to": "123"}
    bad_params = {**good, "to": "21696816278", "body_params": ["A"]}
    tabbed = {**good, "to": "21696816279", "body_params": ["A\tB", "C"]}
    sent = [good, bad_number, bad_params, tabbed]
    path = f"/api/v2/whatsapp/templates/{template.id}/send-bulk"
    body = assert_error(
        await client.post(path, json={"recipients": sent}, headers=auth),
        400,
        "recipients_invalid",
    )
    rejected = body["data"]["rejected"]  # type: ignore[index]
    assert [(r["index"], r["code"]) for r in rejected] == [
        (1, "invalid_phone_number"),
        (2, "body_params_mismatch"),
        (3, "param_text_invalid"),
    ]
    assert await count_rows(db, "messages") == 0
    skipped = await client.post(path, json={"recipients": sent, "skip_invalid": True}, headers=auth)
    assert skipped.status_code == 202
    assert skipped.json()["data"]["queued"] == 1
    assert [r["index"] for r in skipped.json()["data"]["rejected"]] == [1, 2, 3]


async def test_bulk_of_ten_thousand_shares_one_group(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    recipients = [
        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(10_000)
    ]
    path = f"/api/v2/whatsapp/templates/{template.id}/send-bulk"
    answer = await client.post(path, json={"recipients": recipients}, headers=auth)
    assert answer.status_code == 202, answer.text[:500]
    data = answer.json()["data"]
    assert (data["queued"], data["rejected"]) == (10_000, [])
    group = await client.get(
        f"/api/v2/whatsapp/bulk-groups/{data['whatsapp_bulk_group_id']}", headers=auth
    )
    assert group.json()["data"]["total"] == 10_000
    assert group.json()["data"]["counts"]["queued"] == 10_000
    too_many = await client.post(
        path, json={"recipients": recipients + recipients[:1]}, headers=auth
    )
    assert_error(too_many, 400, "validation_failed")


async def test_history_filters(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    first = (await client.post(send_path(template), json=SAM, headers=auth)).json()["data"]
    other = {**SAM, "to": "21696816278"}
    await client.post(send_path(template), json=other, headers=auth)
    everything = (await client.get("/api/whatsapp/", headers=auth)).json()["data"]
    assert everything["pagination"]["total"] == 2
    assert everything["items"][0]["phone_number"] == "21696816278"  # newest first
    by_number = await client.get(
        "/api/whatsapp/", params={"phone_number": "21696816277"}, headers=auth
    )
    assert [m["id"] for m in by_number.json()["data"]["items"]] == [first["message"]["id"]]
    for params, total in (
        ({"state": "queued"}, 2),
        ({"state": "read"}, 0),
        ({"template_id": template.id}, 2),
        ({"template_id": 999}, 0),
    ):
        listed = await client.get("/api/whatsapp/", params=params, headers=auth)
        assert listed.json()["data"]["pagination"]["total"] == total, params
    one = await client.get(f"/api/whatsapp/{first['message']['id']}/", headers=auth)
    assert one.json()["data"] == first["message"]
    assert_error(
        await client.get("/api/whatsapp/?state=lost", headers=auth), 400, "validation_failed"
    )


async def test_history_time_filters_without_an_offset_are_utc_and_extremes_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    await client.post(send_path(template), json=SAM, headers=auth)
    for params, total in (
        ({"from": "2000-01-01T00:00"}, 1),  # no offset: UTC
        ({"to": "2000-01-01"}, 0),
        ({"from": "2000-01-01T00:00:00+02:00", "to": "9999-12-31T00:00:00Z"}, 1),
    ):
        listed = await client.get("/api/whatsapp/", params=params, headers=auth)
        assert listed.status_code == 200, (params, listed.text)
        assert listed.json()["data"]["pagination"]["total"] == total, params
    for field, value in (
        ("from", "0001-01-01T00:00:00+01:00"),
        ("to", "9999-12-31T23:59:59-01:00"),
        ("to", "0.5"),  # a number of seconds since 1970: no caller means that
        ("from", "1700000000"),
        ("from", "2000-01-01T00:00+0200"),  # not what the document's pattern says
        ("to", "yesterday"),
    ):
        refused = await client.get("/api/whatsapp/", params={field: value}, headers=auth)
        assert_error(refused, 400, "validation_failed")
        assert refused.json()["data"]["errors"][0]["field"] == field


async def test_the_unfiltered_total_counts_single_and_bulk_sends_and_survives_a_migration(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
) -> None:
    for number in ("21696816277", "21696816278"):
        answer = await client.post(send_path(template), json={**SAM, "to": number}, headers=auth)
        assert answer.status_code == 202, answer.text
    recipients = [{**SAM, "to": f"2169681{n:04d}"} for n in range(5)]
    bulk = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": recipients},
        headers=auth,
    )
    assert bulk.status_code == 202, bulk.text

    async def totals() -> tuple[int, int]:
        mine = (await client.get("/api/whatsapp/?limit=3", headers=auth)).json()["data"]
        bobs = (await client.get("/api/whatsapp/", headers=bob_auth)).json()["data"]
        assert len(mine["items"]) == 3
        return mine["pagination"]["total"], bobs["pagination"]["total"]

    assert await totals() == (7, 0)
    assert await count_rows(db, "messages") == 7
    # Installed before the totals existed: the migration starts them from the messages.
    async with db.engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.downgrade(migrate.alembic_config(sync), "0007")
        )
    await migrate.upgrade(db.engine)
    assert await totals() == (7, 0)


async def test_concurrent_retries_with_one_key_queue_one_message_and_all_get_its_answer(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, db: DatabaseUnderTest
) -> None:
    """A client that retries while its first request is still running: every attempt answers
    202 with the same message, never a 500, and one message is queued."""
    headers = {**auth, "Idempotency-Key": "order-41"}
    answers = await asyncio.gather(
        *(client.post(send_path(template), json=SAM, headers=headers) for _ in range(6))
    )
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    assert len({a.json()["data"]["message"]["id"] for a in answers}) == 1
    assert await count_rows(db, "messages") == 1


async def test_retries_with_one_key_racing_across_processes_queue_one_message(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """Two Herald processes (two apps, each with its own engine and key locks) receive the same
    retried send at once: the key's row decides, the loser replays the winner's answer."""
    other_app = create_app(settings, clock=clock)
    async with (
        other_app.router.lifespan_context(other_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other_app, raise_app_exceptions=False),
            base_url="http://herald.test",
        ) as other,
    ):
        for attempt in range(5):
            headers = {**auth, "Idempotency-Key": f"order-{attempt}"}
            answers = await asyncio.gather(
                *(
                    (client if n % 2 else other).post(
                        send_path(template), json=SAM, headers=headers
                    )
                    for n in range(4)
                )
            )
            # SQLite has one writer: a loser that read before the winner committed may be told
            # to retry (503), which then replays. PostgreSQL always replays at once.
            retried = [
                await client.post(send_path(template), json=SAM, headers=headers)
                if a.status_code == 503 and db.kind == "sqlite"
                else a
                for a in answers
            ]
            assert [a.status_code for a in retried] == [202] * 4, [a.text for a in retried]
            assert len({a.json()["data"]["message"]["id"] for a in retried}) == 1
    assert await count_rows(db, "messages") == 5


async def test_another_users_message_and_group_are_404(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str], template: Template
) -> None:
    data = (await client.post(send_path(template), json=SAM, headers=auth)).json()["data"]
    message_id = data["message"]["id"]
    assert_error(
        await client.get(f"/api/whatsapp/{message_id}/", headers=bob_auth), 404, "message_not_found"
    )
    assert_error(
        await client.delete(f"/api/whatsapp/{message_id}/", headers=bob_auth),
        404,
        "message_not_found",
    )
    assert_error(
        await client.get(
            f"/api/v2/whatsapp/bulk-groups/{data['whatsapp_bulk_group_id']}", headers=bob_auth
        ),
        404,
        "bulk_group_not_found",
    )
    assert (await client.get("/api/whatsapp/", headers=bob_auth)).json()["data"]["items"] == []


async def test_deleting_a_contact_keeps_its_messages(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    contact = (
        await client.post(
            "/api/contacts/", json={"number": "21696816277", "country_code": "TN"}, headers=auth
        )
    ).json()["data"]
    sent = await client.post(
        "/api/whatsapp/",
        json={"template_id": template.id, "contact_id": contact["id"], "body_params": ["Sam", "1"]},
        headers=auth,
    )
    message_id = sent.json()["data"]["message"]["id"]
    assert (await client.delete(f"/api/contacts/{contact['id']}/", headers=auth)).status_code == 200
    kept = (await client.get(f"/api/whatsapp/{message_id}/", headers=auth)).json()["data"]
    assert kept["contact_id"] is None
    assert kept["phone_number"] == "21696816277"
