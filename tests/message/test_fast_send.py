"""``POST /api/v2/whatsapp/templates/{id}/send`` as plain ASGI (``message/fast_send.py``): it
serves the sends the framework's route would store from memory, answers them as that route
does, and hands everything else to the framework, body included."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Message, Receive, Scope, Send

from herald.app import create_app
from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.message import service, single
from herald.message.fast_send import fast_send_v2
from herald.message.output import queued_json
from herald.message.schemas import SendV2
from herald.models import Message as MessageRow
from herald.models import OptOut, Template, User
from tests.conftest import (
    DatabaseUnderTest,
    add_user,
    app_client,
    count_rows,
    login,
    make_settings,
)
from tests.message.helpers import SAM


def _path(template_id: int) -> str:
    return f"/api/v2/whatsapp/templates/{template_id}/send"


class _Framework:
    """Stands in for the framework behind the fast route: records what it was handed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.bodies.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _serve(app: Any, path: str, token: str, body: bytes) -> tuple[_Framework, list[Message]]:
    framework, sent = _Framework(), []
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-length", b"1")],
        "app": app,
        "state": {},
    }
    chunks = [body[:5], body[5:]]  # in two parts, as a client may send it

    async def receive() -> Message:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    await fast_send_v2(scope, receive, send, framework)
    return framework, sent


async def test_a_remembered_send_is_stored_without_the_framework(
    settings: Settings, clock: FrozenClock, ana: User, template: Template, db: DatabaseUnderTest
) -> None:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            token = await login(c, ana.email)
            # The first send is the framework's: nothing about ana or the template is known yet.
            body = json.dumps(SAM).encode()
            framework, _ = await _serve(app, _path(template.id), token, body)
            assert framework.bodies == [body]
            assert await count_rows(db, "messages") == 0
            first = await c.post(
                _path(template.id), json=SAM, headers={"Authorization": f"Bearer {token}"}
            )
            assert first.status_code == 202, first.text

            framework, sent = await _serve(app, _path(template.id), token, body)
            assert framework.bodies == []
            assert sent[0]["status"] == 202
            answer = json.loads(sent[1]["body"])
            assert answer["data"]["message"]["phone_number"] == "21696816277"
            assert await count_rows(db, "messages") == 2
            assert dict(sent[0]["headers"])[b"content-type"] == b"application/json"

            # An unknown template and a body the model refuses go to the framework, whole.
            refused = json.dumps({**SAM, "country_code": "TUN"}).encode()
            for path, sent_body in ((_path(template.id + 1), body), (_path(template.id), refused)):
                framework, _ = await _serve(app, path, token, sent_body)
                assert framework.bodies == [sent_body]
            assert await count_rows(db, "messages") == 2


def test_the_queued_answer_is_what_the_model_renders(
    template: Template, clock: FrozenClock
) -> None:
    policy = service.SendPolicy(deadline=timedelta(hours=24))
    for send_at, contact_id in ((None, None), (clock.now() + timedelta(hours=2), 7)):
        body = SendV2.model_validate({**SAM, "send_at": send_at})
        drafted = service.draft_one(
            template.user_id,
            template,
            body,
            None,
            body.to,
            body.country_code,
            send_at,
            policy,
            clock.now(),
            contact_id,
        )
        message = MessageRow(id=41, **drafted.row)
        assert json.loads(single.accepted_json(41, drafted.row)) == single.accepted_body(message)
        assert queued_json(41, drafted.row)["scheduled_at"] == (
            None if send_at is None else send_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        )


def _comparable(answer: httpx.Response) -> tuple[int, Any, str | None, str]:
    body = answer.json()
    if answer.status_code == 202:
        message = body["data"]["message"]
        for volatile in ("id", "whatsapp_bulk_group_id", "created_at"):
            assert message.pop(volatile)
        body["data"].pop("whatsapp_bulk_group_id")
    if answer.status_code == 429:
        # Counted on the wall clock from the limiter's window: two runs a second apart differ
        # by a second (1,799 against 1,800 in a full run).
        retry_after = body["data"]["retry_after"]
        assert isinstance(retry_after, int)
        assert 0 < retry_after <= 1800, retry_after  # 18 requests at 0.01 a second
        body["data"]["retry_after"] = "a wait of up to 1,800 s"
    return (
        answer.status_code,
        body,
        answer.headers.get("x-ratelimit-limit"),
        answer.headers["content-type"],
    )


async def test_every_answer_is_the_frameworks(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock, ana: User, template: Template
) -> None:
    """The same requests, in the same order, to a process with the fast route and to one
    without it: the same answers (bar ids and times), headers and refusals."""
    await add_user(db, "nora@example.com", has_api_access=False, now=clock.now())
    async with db.engine.begin() as connection:
        await connection.execute(
            OptOut.__table__.insert().values(
                user_id=ana.id,
                phone_number="21696000001",
                country_code="TN",
                source="api",
                created_at=clock.now(),
            )
        )
    answers: dict[bool, list[tuple[int, Any, str | None, str]]] = {}
    for fast in (True, False):
        settings = make_settings(
            db,
            tmp_path / str(fast),
            fast_routes=fast,
            rate_limit_burst=18,
            rate_limit_per_second=0.01,
        )
        async with app_client(settings, clock) as client:
            token = {"Authorization": f"Bearer {await login(client, ana.email)}"}
            nora = {"Authorization": f"Bearer {await login(client, 'nora@example.com')}"}
            path = _path(template.id)
            requests: list[dict[str, Any]] = [
                {"json": SAM, "headers": token},  # the framework's: nothing remembered yet
                {"json": SAM, "headers": token},
                {"json": {**SAM, "to": "21696000001"}, "headers": token},  # opted out
                {"json": {**SAM, "to": "123"}, "headers": token},
                {"json": {**SAM, "body_params": ["Sam"]}, "headers": token},
                {"json": {**SAM, "body_params": ["Sam", "ORD\n1"]}, "headers": token},
                {"json": {**SAM, "country_code": 216}, "headers": token},
                {"json": {**SAM, "surplus": 1}, "headers": token},
                {"json": {**SAM, "send_at": "2020-01-01T00:00:00Z"}, "headers": token},
                {"json": [SAM], "headers": token},
                {"content": b'{"to": ', "headers": token},
                {"content": json.dumps(SAM), "headers": {**token, "content-type": "text/plain"}},
                {"content": b"", "headers": token},
                {"json": {**SAM, "idempotency_key": "k-1"}, "headers": token},
                {"json": {**SAM, "idempotency_key": "k-1"}, "headers": token},
                {"json": SAM, "headers": {**token, "Idempotency-Key": "k-2"}},
                {"json": SAM, "headers": {"Authorization": "Bearer not-a-token"}},
                {"json": SAM, "headers": {}},
                {"json": SAM, "headers": nora},
                {"json": SAM, "headers": token, "path": _path(template.id + 50)},
                {"json": SAM, "headers": token, "path": _path(2**63)},
                {"json": SAM, "headers": token},
                {"json": SAM, "headers": token},  # over the budget of 18 by now
            ]
            answers[fast] = []
            for request in requests:
                target = request.pop("path", path)
                answers[fast].append(_comparable(await client.post(target, **request)))
    assert answers[True] == answers[False]
    statuses = [status for status, *_ in answers[True]]
    assert statuses[:2] == [202, 202], statuses
    assert statuses[-2:] == [202, 429], statuses
