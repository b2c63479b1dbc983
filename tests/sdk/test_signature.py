"""``verify_signature``: Herald's ``X-Herald-Signature: sha256=<hex>`` over the raw body."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from herald_client import sign, verify_signature

SECRET = "whsec_0123456789abcdef"
BODY = b'{"id":"evt_1","type":"message.status","data":{"id":7,"state":"read"}}'
# Computed independently of the SDK, the way Herald's sender does.
GOOD = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()


def test_a_genuine_signature_verifies() -> None:
    assert verify_signature(SECRET, BODY, GOOD)
    assert sign(SECRET, BODY) == GOOD
    assert verify_signature(SECRET, BODY, GOOD.upper().replace("SHA256=", "sha256="))
    assert verify_signature(SECRET, BODY, f"  {GOOD} ")


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        pytest.param("another-secret-0123", BODY, GOOD, id="wrong secret"),
        pytest.param(SECRET, BODY.replace(b'"read"', b'"sent"'), GOOD, id="tampered body"),
        pytest.param(SECRET, BODY + b"\n", GOOD, id="body re-serialised"),
        pytest.param(SECRET, BODY, None, id="no header"),
        pytest.param(SECRET, BODY, "", id="empty header"),
        pytest.param(SECRET, BODY, GOOD.removeprefix("sha256="), id="no scheme"),
        pytest.param(SECRET, BODY, "sha1=" + GOOD.removeprefix("sha256="), id="other scheme"),
        pytest.param(SECRET, BODY, "sha256=", id="no digest"),
        pytest.param(SECRET, BODY, GOOD[:-1], id="truncated digest"),
        pytest.param(SECRET, BODY, GOOD + "00", id="longer digest"),
        pytest.param(SECRET, BODY, "sha256=é" + GOOD[8:], id="non-ascii"),
        pytest.param(
            "", BODY, "sha256=" + hmac.new(b"", BODY, "sha256").hexdigest(), id="no secret"
        ),
    ],
)
def test_anything_else_does_not(secret: str, body: bytes, header: str | None) -> None:
    assert verify_signature(secret, body, header) is False


def test_the_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module the SDK calls into
    assert verify_signature(SECRET, BODY, GOOD)
    assert compared == [(GOOD[7:].encode(), GOOD[7:].encode())]
