"""``construct_event``: Herald's real deliveries verify and come back typed; replays, other
secrets and altered bodies are refused; the Standard Webhooks reference library agrees. The
callback methods' old_named webhook names still work, and warn."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime

import pytest
from herald_client import (
    AsyncHeraldClient,
    HeraldClient,
    MessageStatusEvent,
    NotFound,
    SignatureVerificationError,
    WebhookCreated,
    construct_event,
    sign_event,
)
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live import serve_app
from tests.live_herald import eventually
from tests.sdk.test_sending import approve, live_sdk  # noqa: F401 - the fixture
from tests.sdk.transports import AsyncWrapping

Delivery = tuple[bytes, dict[str, str]]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"id":"evt_7_read","type":"message.status","created_at":"x","data":{"id":7}}'
NOW = 1_780_000_000


async def deliveries_of_one_send(sdk: AsyncHeraldClient) -> tuple[list[Delivery], str, str]:
    """What Herald POSTs for one message (sent, delivered, read), the secret it was made with,
    and the secret of a rotation made before the send."""
    received: list[Delivery] = []

    async def hook(request: Request) -> Response:
        received.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/herald", hook, methods=["POST"])])
    async with serve_app(receiver) as receiver_url:
        callback = await sdk.create_callback(f"{receiver_url}/herald", events=["message.status"])
        rotated = await sdk.rotate_callback_secret(callback["id"])
        assert rotated["previous_secret_expires_at"] is not None
        template_id = await approve(sdk)
        await sdk.send_template(template_id, "21696816277", "TN", body_params=["Sam", "A-1"])

        async def three() -> bool:
            return len(received) == 3

        await eventually(three, timeout=30, message="three callbacks arrive")
    return received, callback["secret"], rotated["secret"]


async def test_herald_s_deliveries_verify_and_replays_are_refused(
    live_sdk: AsyncHeraldClient,  # noqa: F811 - the fixture
) -> None:
    received, old, new = await deliveries_of_one_send(live_sdk)

    states = []
    for body, headers in received:
        event: MessageStatusEvent = construct_event(body, headers, new)
        assert event == json.loads(body)
        assert event["id"] == headers["webhook-id"]
        assert event["type"] == "message.status"
        states.append(event["data"]["state"])
        # Until the rotation's overlap ends, the replaced secret verifies too.
        assert construct_event(body, headers, old) == event
        assert construct_event(body, headers, ["whsec_bm90LXRoaXMtb25l", new]) == event

        sent_at = int(headers["webhook-timestamp"])
        assert construct_event(body, headers, new, now=sent_at + 299) == event
        with pytest.raises(SignatureVerificationError, match="tolerated"):
            construct_event(body, headers, new, now=sent_at + 301)  # a replay, 5 min later
        assert construct_event(body, headers, new, tolerance=600, now=sent_at + 301) == event
        with pytest.raises(SignatureVerificationError, match="no signature"):
            construct_event(body, headers, "whsec_bm90LXRoaXMtb25l")
        with pytest.raises(SignatureVerificationError, match="no signature"):
            construct_event(body.replace(b"21696816277", b"21696816278"), headers, new)
        with pytest.raises(SignatureVerificationError, match="no signature"):
            construct_event(body, {**headers, "webhook-id": "evt_999_read"}, new)
    assert states == ["sent", "delivered", "read"]


def test_what_the_reference_library_signs_verifies_and_the_other_way_round() -> None:
    at = datetime.fromtimestamp(NOW, UTC)
    by_library = {
        "webhook-id": "evt_7_read",
        "webhook-timestamp": str(NOW),
        "webhook-signature": Webhook(SECRET).sign("evt_7_read", at, BODY.decode()),
    }
    assert construct_event(BODY, by_library, SECRET, now=NOW)["id"] == "evt_7_read"

    by_sdk = sign_event(SECRET, "evt_7_read", NOW, BODY)
    assert by_sdk == by_library
    # A secret that is not base64 is its own bytes: the library takes them as bytes.
    text_secret = "callback-secret-0123456789"
    signed = sign_event(text_secret, "evt_7_read", NOW, BODY)
    assert signed["webhook-signature"] == Webhook(text_secret.encode()).sign(
        "evt_7_read", at, BODY.decode()
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"webhook-id": ""}, "missing", id="no id"),
        pytest.param({"webhook-timestamp": ""}, "missing", id="no timestamp"),
        pytest.param({"webhook-signature": ""}, "missing", id="no signature"),
        pytest.param({"webhook-timestamp": "17e8"}, "Unix seconds", id="timestamp not digits"),
        pytest.param({"webhook-timestamp": str(NOW + 301)}, "tolerated", id="from the future"),
        pytest.param({"webhook-signature": "v2,abc"}, "no signature", id="unknown version"),
        pytest.param({"webhook-signature": "v1,é"}, "no signature", id="non-ascii"),
    ],
)
def test_malformed_headers_are_refused(change: dict[str, str], reason: str) -> None:
    headers = {**sign_event(SECRET, "evt_7_read", NOW, BODY), **change}
    with pytest.raises(SignatureVerificationError, match=reason):
        construct_event(BODY, headers, SECRET, now=NOW)


def test_header_case_text_bodies_and_several_signatures_are_accepted() -> None:
    headers = sign_event(SECRET, "evt_7_read", NOW, BODY)
    shouting = {name.upper(): value for name, value in headers.items()}
    shouting["WEBHOOK-SIGNATURE"] = "v2,zzz v1,bm9wZQ== " + headers["webhook-signature"]
    assert construct_event(BODY.decode(), shouting, SECRET, now=NOW)["data"] == {"id": 7}
    with pytest.raises(ValueError, match="secret"):
        construct_event(BODY, headers, [], now=NOW)


async def test_the_webhook_names_still_work_and_warn(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping
) -> None:
    url = "http://127.0.0.1:9/herald"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the callback names never warn
        callback = await sdk.create_callback(url)
        assert (await sdk.list_callback_deliveries(callback["id"], outcome="dead"))["items"] == []
    assert recorder.requests[-1].url.path == f"/api/v2/webhooks/{callback['id']}/deliveries"
    assert recorder.requests[-1].url.params["outcome"] == "dead"

    with pytest.warns(
        DeprecationWarning, match="create_webhook is deprecated: use create_callback"
    ):
        old_named: WebhookCreated = await sdk.create_webhook(url + "/old")  # one per URL
    with pytest.warns(DeprecationWarning, match="use list_callbacks"):
        listed = await sdk.list_webhooks()
    assert [c["id"] for c in listed["items"]] == [old_named["id"], callback["id"]]
    with pytest.warns(DeprecationWarning, match="use get_callback"):
        assert await sdk.get_webhook(old_named["id"]) == await sdk.get_callback(old_named["id"])
    with pytest.warns(DeprecationWarning, match="use rotate_callback_secret"):
        rotated = await sdk.rotate_webhook_secret(old_named["id"], secret="s" * 16)
    assert rotated["secret"] == "s" * 16
    with pytest.warns(DeprecationWarning, match="use delete_callback") as caught:
        assert await sdk.delete_webhook(old_named["id"]) == {"id": old_named["id"]}
    assert caught[0].filename == __file__  # the warning points at the caller's line
    with pytest.raises(NotFound):
        await sdk.get_callback(old_named["id"])
    assert "use ``delete_callback``" in (HeraldClient.delete_webhook.__doc__ or "")
