"""Signing follows Standard Webhooks: the reference library verifies what Herald signs."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from herald.callback.signing import generate_secret, signed_headers, signing_key

BODY = b'{"id":"evt_7_read","type":"message.status","data":{"id":7,"state":"read"}}'


def test_a_generated_secret_is_what_standard_webhooks_libraries_take() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert len(key) == 32
    assert signing_key(secret) == key
    assert generate_secret() != secret


@pytest.mark.parametrize(
    ("secret", "key"),
    [
        pytest.param("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", None, id="whsec base64"),
        pytest.param("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", None, id="whsec unpadded"),
        # Generated before (token_urlsafe): not base64, so the text itself is the key.
        pytest.param("whsec_pK-3x_Qw9zLr0Tn8yVb2cD4eF6gH8iJ0kL2mN4oP6qR", b"", id="old generated"),
        pytest.param("my-own-secret-0123456789", b"", id="chosen by a user"),
        pytest.param("whsec_abcde", b"", id="4n+1 characters"),
    ],
)
def test_the_key_is_what_the_reference_library_decodes_else_the_text(
    secret: str, key: bytes | None
) -> None:
    expected = secret.encode() if key == b"" else Webhook(secret)._whsecret
    assert signing_key(secret) == expected


def test_the_reference_library_verifies_each_secret_in_force() -> None:
    current, previous = generate_secret(), "my-own-secret-0123456789"
    now = datetime.now(UTC).replace(microsecond=0)
    headers = signed_headers("evt_7_read", now, BODY, [current, previous])

    assert headers["webhook-id"] == "evt_7_read"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(current).verify(BODY, headers) == {
        "id": "evt_7_read",
        "type": "message.status",
        "data": {"id": 7, "state": "read"},
    }
    Webhook(previous.encode()).verify(BODY, headers)  # a text secret: its bytes are the key
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(current).verify(BODY.replace(b"read", b"sent"), headers)
    # The signature covers the id and the time: neither can be changed to replay it.
    with pytest.raises(WebhookVerificationError):
        Webhook(current).verify(BODY, {**headers, "webhook-id": "evt_8_read"})
    later = str(int((now + timedelta(seconds=1)).timestamp()))
    with pytest.raises(WebhookVerificationError):
        Webhook(current).verify(BODY, {**headers, "webhook-timestamp": later})


def test_an_old_delivery_is_refused_by_the_reference_library() -> None:
    secret = generate_secret()
    then = datetime.now(UTC) - timedelta(minutes=6)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, signed_headers("evt_7_read", then, BODY, [secret]))


def test_the_legacy_header_signs_the_body_with_the_newest_secret() -> None:
    current, previous = generate_secret(), "my-own-secret-0123456789"
    headers = signed_headers("evt_7_read", datetime.now(UTC), BODY, [current, previous])
    expected = hmac.new(current.encode(), BODY, hashlib.sha256).hexdigest()
    assert headers["X-Herald-Signature"] == f"sha256={expected}"
