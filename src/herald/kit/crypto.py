"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation, and HMAC checks."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from herald.config import ConfigError


class Cipher:
    """Encrypts with the first key; decrypts with any, so keys rotate without downtime."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise _config_error("at least one encryption key is required")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            raise _config_error(
                "HERALD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes)"
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise _config_error(
                "a stored secret cannot be decrypted with HERALD_ENCRYPTION_KEYS "
                "(was a key removed before re-encryption?)"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the newest key."""
        return self._fernet.rotate(ciphertext.encode()).decode()


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, signature_header: str | None) -> bool:
    """``sha256=<hex>`` over the raw body, compared in constant time."""
    if not signature_header or not signature_header.startswith("sha256="):
        return False
    if not signature_header.isascii():  # compare_digest refuses non-ASCII text
        return False
    expected = hmac_sha256_hex(secret, body)
    return hmac.compare_digest(expected, signature_header.removeprefix("sha256=").lower())


def _config_error(message: str) -> ConfigError:
    # Imported when raised: the settings module loads pydantic, which `herald callbacks verify`
    # (HMAC checks only) would otherwise pay for at every start.
    from herald.config import ConfigError

    return ConfigError(message)
