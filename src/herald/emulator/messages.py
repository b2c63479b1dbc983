"""``POST /{version}/{phone_number_id}/messages``: template and free-form sends, checked as Meta
checks them, answered with a wamid, followed by signed status webhooks."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.emulator import number_health, read_receipts
from herald.emulator.auth import check_token
from herald.emulator.errors import MESSAGES, MetaError
from herald.emulator.messaging_limit import SPAM_RATE_LIMIT
from herald.emulator.records import EmulatedMessage
from herald.emulator.send_free_form import check_window, is_free_form, read_free_form
from herald.emulator.send_shape import Refused, read_send
from herald.emulator.send_template import check_against_template, link_failure
from herald.emulator.state import EmulatorState
from herald.kit.plain_asgi import read_body

UNAVAILABLE = {"PAUSED": 132015, "DISABLED": 132016}
# Statuses Meta answers a send for as if the template did not exist (132001).
NOT_SENDABLE = ("PENDING", "REJECTED", "PENDING_DELETION", "DELETED")

_SEND_PATH = re.compile(r"/[^/]+/(?P<phone_number_id>[^/]+)/messages")


class GraphSends:
    """Serves the send route as plain ASGI, in front of the emulator's FastAPI app.

    The emulator plays Meta on the same machine as Herald in the benchmarks, where every
    millisecond it spends is taken from the worker it is measuring. Through FastAPI's routing,
    dependency solving and response encoding a send cost it about 1.1 ms of CPU, some 85% of it
    the framework's; the checks themselves are the same either way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = _SEND_PATH.fullmatch(_route_path(scope))
            if match is not None:
                state: EmulatorState = scope["app"].state.emulator
                body = await read_body(receive)
                if body is None:
                    return  # the client went away: no send, as Meta would see none
                try:
                    check_token(
                        state.config.access_token, Headers(scope=scope).get("authorization", "")
                    )
                    response = await answer_send(state, match["phone_number_id"], body)
                except MetaError as exc:
                    response = exc.response()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the mount point when the emulator is mounted inside Herald."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _refuse(state: EmulatorState, code: int, details: str, status: int = 400) -> MetaError:
    state.refuse(code)
    return MetaError(code, details, status=status)


async def answer_send(state: EmulatorState, phone_number_id: str, body: bytes) -> Response:
    config = state.config
    try:
        payload = json.loads(body)
    except ValueError:
        raise MetaError(100, "the body is not JSON") from None
    if read_receipts.is_receipt(payload):
        return read_receipts.answer_receipt(state, phone_number_id, payload)
    if config.latency_seconds:
        await asyncio.sleep(config.latency_seconds)
    if random.random() < config.error_rate:  # noqa: S311 - fault injection, not security
        raise _refuse(state, 131000, "injected server error", status=500)
    malformed = config.malformed_answers if random.random() < config.malformed_rate else None  # noqa: S311
    if malformed == "error_html":
        state.refuse(502)
        return HTMLResponse("<html><body>502 Bad Gateway</body></html>", status_code=502)
    if state.over_throughput(phone_number_id):
        raise _refuse(state, 130429, "throughput limit of this phone number reached")
    blocked = number_health.refusal(state, phone_number_id, not is_free_form(payload))
    if blocked is not None:
        raise _refuse(state, blocked, number_health.REFUSALS[blocked], status=403)
    if is_free_form(payload):
        to, name, language, waba_id, failure, category = _free_form(state, phone_number_id, payload)
    else:
        to, name, language, waba_id, failure, category = _template(state, phone_number_id, payload)

    callback = payload.get("biz_opaque_callback_data")
    message = EmulatedMessage(
        wamid=state.new_wamid(),
        phone_number_id=phone_number_id,
        to=to,
        template=name,
        language=language,
        callback_data=str(callback) if callback is not None else None,
        body=body,
        received_at=time.monotonic(),
    )
    state.messages.append(message)
    _schedule_statuses(state, message, waba_id, failure, category)
    await state.durable()  # an accepted send's statuses survive a restart, as at Meta
    if random.random() < config.timeout_rate:  # noqa: S311 - fault injection
        await asyncio.sleep(config.timeout_seconds)  # it was taken; the answer is just late
    if malformed == "accepted_html":  # taken, but the answer is unreadable
        return HTMLResponse("<html><body>OK</body></html>", status_code=200)
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": payload["to"], "wa_id": to}],
        "messages": [{"id": message.wamid, "message_status": "accepted"}],
    }
    return Response(json.dumps(answer, separators=(",", ":")), media_type="application/json")


Accepted = tuple[str, str, str, str, int | None, str]
"""The recipient, the template's name and language ("" for a free-form message), the account
whose webhooks carry the statuses, the code a delivery fails with later (or None), and the
pricing category Meta charges it under (the template's category; ``service`` for a free-form
message, which only the customer's open window lets through)."""

SERVICE = "service"


def _template(state: EmulatorState, phone_number_id: str, payload: Any) -> Accepted:
    config = state.config
    try:
        sent = read_send(payload)
    except Refused as exc:
        raise MetaError(exc.code, exc.details) from None
    to, name, language = sent.to, sent.name, sent.language
    if to in config.refusing_numbers:
        code = config.refusing_numbers[to]
        raise _refuse(state, code, MESSAGES.get(code, "refused"))
    known = state.find_template(name, language, state.waba_of(phone_number_id))
    if known is None or known.status in NOT_SENDABLE:
        raise _refuse(
            state, 132001, f"template {name} ({language}) does not exist or is not approved"
        )
    if known.status in UNAVAILABLE:
        raise _refuse(state, UNAVAILABLE[known.status], f"template {name} is {known.status}")
    try:
        check_against_template(state, known, sent, phone_number_id)
    except Refused as exc:
        raise _refuse(state, exc.code, exc.details) from None
    if not state.window_open(phone_number_id, to) and not state.messaging_limits.admits(
        known.waba_id, to
    ):
        raise _refuse(
            state,
            SPAM_RATE_LIMIT,
            "the business reached its messaging limit: too many unique customers in 24 hours",
        )
    if state.over_pair_rate(phone_number_id, to):
        raise _refuse(state, 131056, "too many messages to this recipient")
    return to, name, language, known.waba_id, link_failure(sent), known.category.lower()


def _free_form(state: EmulatorState, phone_number_id: str, payload: dict[str, Any]) -> Accepted:
    """A text, media or interactive message: its shape, then the customer's window."""
    config = state.config
    try:
        sent = read_free_form(state, payload, phone_number_id)
    except Refused as exc:
        raise _refuse(state, exc.code, exc.details) from None
    if sent.to in config.refusing_numbers:
        code = config.refusing_numbers[sent.to]
        raise _refuse(state, code, MESSAGES.get(code, "refused"))
    try:
        check_window(state, phone_number_id, sent)
    except Refused as exc:
        raise _refuse(state, exc.code, exc.details) from None
    if state.over_pair_rate(phone_number_id, sent.to):
        raise _refuse(state, 131056, "too many messages to this recipient")
    # A sandbox number's account has the number's id (the emulator's convention).
    waba_id = state.waba_of(phone_number_id) or phone_number_id
    return sent.to, "", "", waba_id, None, SERVICE


def _schedule_statuses(
    state: EmulatorState,
    message: EmulatedMessage,
    waba_id: str,
    failure: int | None,
    category: str,
) -> None:
    """sent, delivered, read; or sent, failed for a failing number or a header file Meta could
    not use (``failure``)."""
    config = state.config
    failing = config.failing_numbers.get(message.to, failure)
    sequence: list[tuple[str, int | None]] = [("sent", None)]
    if failing is not None:
        sequence.append(("failed", failing))
    elif config.reorder_statuses:
        sequence += [("read", None), ("delivered", None)]
    else:
        sequence += [("delivered", None), ("read", None)]
    delay = 0.0
    for position, (status, code) in enumerate(sequence):
        delay += config.status_delays[min(position, 2)]
        _send_status(state, message, waba_id, status, code, delay, category)


def _send_status(
    state: EmulatorState,
    message: EmulatedMessage,
    waba_id: str,
    status: str,
    code: int | None,
    delay: float,
    category: str,
) -> None:
    """Queue one status webhook, to leave in ``delay`` seconds (kept until delivered)."""
    item: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(time.time() + delay)),
        "recipient_id": message.to,
    }
    if message.callback_data is not None:
        item["biz_opaque_callback_data"] = message.callback_data
    if status in ("sent", "delivered"):
        # Per-message pricing (PMP): a template is charged by its category, a reply inside
        # the customer-service window is free.
        item["pricing"] = {
            "billable": category != SERVICE,
            "pricing_model": "PMP",
            "category": category,
        }
    if code is not None:
        item["errors"] = [
            {
                "code": code,
                "title": MESSAGES.get(code, "failed"),
                "message": MESSAGES.get(code, "failed"),
                "error_data": {"details": "injected by the emulator"},
            }
        ]
    change = {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550000000",
                "phone_number_id": message.phone_number_id,
            },
            "statuses": [item],
        },
    }
    copies = 2 if state.config.duplicate_statuses else 1
    for _ in range(copies):
        state.webhooks.enqueue(waba_id, change, delay)
