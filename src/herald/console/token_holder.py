"""Whether a login token still stands: read by the API's caller check and the console's pages."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from herald.console import repository as ended_sessions
from herald.errors import TokenInvalid
from herald.kit.jwt import TokenClaims, credentials_version
from herald.models import User
from herald.user import repository as users


async def token_holder(
    session: AsyncSession, claims: TokenClaims, *, console_session: bool
) -> User:
    """The user a valid login token names, while the token still stands: the user exists and
    is enabled, the password has not changed since, and (console) the session was not ended."""
    if console_session and await ended_sessions.is_ended(session, claims.token_id):
        raise TokenInvalid("This console session was logged out.")
    user = await users.get(session, claims.user_id)
    if user is None or user.is_disabled:
        raise TokenInvalid()
    if claims.credentials_version != credentials_version(user.tokens_valid_after):
        raise TokenInvalid("The token was issued before the password changed; log in again.")
    return user
