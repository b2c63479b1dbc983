"""Password hashing with argon2 (pwdlib), off the event loop: a hash costs tens of milliseconds."""

from __future__ import annotations

import anyio.to_thread
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the user does not exist, so that both answers take the same time.
_DUMMY_HASH = _hasher.hash("herald-timing-equaliser")

MIN_PASSWORD_LENGTH = 8


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not there is a hash to check against."""
    ok = await anyio.to_thread.run_sync(_hasher.verify, password, password_hash or _DUMMY_HASH)
    return bool(ok) and password_hash is not None
