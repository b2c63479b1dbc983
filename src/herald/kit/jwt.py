"""Access tokens: HS256 JWTs carrying sub, iat, exp and jti; nothing else is accepted."""

from __future__ import annotations

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


def issue_token(secret: str, user_id: int, now: datetime, ttl_seconds: int) -> str:
    issued_at = int(now.timestamp())
    claims = {
        "sub": str(user_id),
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": uuid.uuid4().hex,
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
    if not (isinstance(subject, str) and subject.isdigit()):
        raise TokenInvalid()
    moment = int(now.timestamp())
    if issued_at > moment + 5:  # a token from the future was not issued by this server's clock
        raise TokenInvalid("The token was issued in the future.")
    if expires_at <= moment:
        raise TokenExpired()
    return TokenClaims(int(subject), issued_at, expires_at, str(claims["jti"]))
