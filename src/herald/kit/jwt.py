"""Access tokens: HS256 JWTs carrying sub, iat, exp and jti; nothing else is accepted."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import jwt

from herald.errors import TokenExpired, TokenInvalid

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    issued_at: int
    expires_at: int
    token_id: str
    # Which credentials it was issued under: the user's tokens_valid_after, in microseconds
    # (0 before any password change). Whole-second ``iat`` cannot order a token and a password
    # change within the same second; this can.
    credentials_version: int


_USER_ID = re.compile(r"[1-9][0-9]{0,18}")
MAX_USER_ID = 2**63 - 1


def credentials_version(tokens_valid_after: datetime | None) -> int:
    if tokens_valid_after is None:
        return 0
    return int(tokens_valid_after.timestamp() * 1_000_000)


def issue_token(
    secret: str, user_id: int, now: datetime, ttl_seconds: int, credentials: int = 0
) -> str:
    issued_at = int(now.timestamp())
    claims = {
        "sub": str(user_id),
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "cv": credentials,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str, now: datetime) -> TokenClaims:
    """Verify signature, algorithm and times against ``now`` (the injected clock)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # never "none", never whatever the header asks for
            options={
                "require": ["sub", "iat", "exp", "jti"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        raise TokenInvalid() from None
    issued_at, expires_at, subject = claims["iat"], claims["exp"], claims["sub"]
    if not (isinstance(issued_at, int) and isinstance(expires_at, int)):
        raise TokenInvalid()
    if not (isinstance(subject, str) and _USER_ID.fullmatch(subject)):
        raise TokenInvalid()
    if int(subject) > MAX_USER_ID:
        raise TokenInvalid()
    version = claims.get("cv", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise TokenInvalid()
    return check_times(
        TokenClaims(int(subject), issued_at, expires_at, str(claims["jti"]), version), now
    )


def check_times(claims: TokenClaims, now: datetime) -> TokenClaims:
    """The claims, if they are valid at ``now`` (also for claims verified earlier)."""
    moment = int(now.timestamp())
    if claims.issued_at > moment + 5:  # a token from the future was not issued by this clock
        raise TokenInvalid("The token was issued in the future.")
    if claims.expires_at <= moment:
        raise TokenExpired()
    return claims


MAX_VERIFIED = 10_000  # tokens remembered; cleared when full (a miss only costs a verification)


class VerifiedTokens:
    """Bearer tokens whose signature this process verified, by the token itself (held only in
    memory, as every request's headers are): HMAC and JSON decoding were a twentieth of a send,
    so a token seen again has only its times checked."""

    def __init__(self) -> None:
        self._claims: dict[str, TokenClaims] = {}

    def read(self, secret: str, token: str, now: datetime) -> TokenClaims:
        known = self._claims.get(token)
        if known is not None:
            return check_times(known, now)
        claims = read_token(secret, token, now)
        if len(self._claims) >= MAX_VERIFIED:
            self._claims.clear()
        self._claims[token] = claims
        return claims
