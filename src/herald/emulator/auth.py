from __future__ import annotations

import hmac

from fastapi import Request

from herald.emulator.errors import MetaError


async def require_token(request: Request) -> None:
    """Every Graph route needs the configured access token, as Meta's does."""
    check_token(
        request.app.state.emulator.config.access_token, request.headers.get("authorization", "")
    )


def check_token(expected: object, header: str) -> None:
    """Graph takes the token as ``Bearer <token>`` or ``OAuth <token>`` (its older scheme, the
    one Meta's Resumable Upload guide shows). No token at all is code 104, a wrong one 190: the
    two examples of Meta's ``Unauthorized`` response."""
    if not header.strip():
        raise MetaError(104, "An access token is required to request this resource", status=401)
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme in ("Bearer", "OAuth") else ""
    if not token or not hmac.compare_digest(token.encode(), str(expected).encode()):
        raise MetaError(190, "Invalid OAuth access token", status=401)
