"""Users: created and managed by operators (CLI); the API only reads and edits the profile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import (
    Conflict,
    FieldNotEditable,
    InvalidCurrentPassword,
    NotFound,
    ValidationFailed,
)
from herald.kit.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from herald.models import User
from herald.user import repository
from herald.user.schemas import UserUpdate


class UserNotFound(NotFound):
    code = "user_not_found"


class EmailTaken(Conflict):
    code = "email_taken"


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed.single("email", str(exc)) from None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.single(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters"
        )


async def create(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    now: datetime,
    has_api_access: bool = True,
    firstname: str | None = None,
    lastname: str | None = None,
) -> User:
    email = normalise_email(email)
    check_password_strength(password)
    taken = EmailTaken(f"A user with email {email} already exists.")
    if await repository.get_by_email(session, email):
        raise taken  # before hashing: argon2 is slow on purpose
    user = User(
        email=email,
        password_hash=await hash_password(password),
        firstname=firstname,
        lastname=lastname,
        has_api_access=has_api_access,
        is_disabled=False,
        created_at=now,
        updated_at=now,
    )
    stored = await repository.add_unless_taken(session, user)
    if stored is None:
        raise taken
    return stored


async def require(session: AsyncSession, email: str) -> User:
    user = await repository.get_by_email(session, email)
    if user is None:
        raise UserNotFound(f"No user with email {email.strip().lower()}.")
    return user


async def list_users(session: AsyncSession) -> Sequence[User]:
    return await repository.list_all(session)


async def set_api_access(session: AsyncSession, email: str, granted: bool, now: datetime) -> User:
    user = await require(session, email)
    user.has_api_access = granted
    user.updated_at = now
    return user


async def set_password(session: AsyncSession, email: str, password: str, now: datetime) -> User:
    user = await require(session, email)
    await _change_password(user, password, now)
    return user


async def disable(session: AsyncSession, email: str, now: datetime) -> User:
    user = await require(session, email)
    user.is_disabled = True
    user.tokens_valid_after = now
    user.updated_at = now
    return user


async def enable(session: AsyncSession, email: str, now: datetime) -> User:
    """Undo ``disable``: the user can log in again; the tokens revoked then stay revoked."""
    user = await require(session, email)
    user.is_disabled = False
    user.updated_at = now
    return user


async def update_profile(user: User, change: UserUpdate, now: datetime) -> User:
    if change.has_api_access is not None:
        raise FieldNotEditable(
            "has_api_access cannot be changed through the API; ask your operator.",
            data={"field": "has_api_access"},
        )
    if change.password is not None:
        if not change.current_password:
            raise ValidationFailed.single("current_password", "is required to change the password")
        if not await verify_password(change.current_password, user.password_hash):
            raise InvalidCurrentPassword()
        await _change_password(user, change.password, now)
    elif change.current_password is not None:
        raise ValidationFailed.single("current_password", "is only used with password")
    fields = change.model_fields_set
    if "firstname" in fields:
        user.firstname = change.firstname or None
    if "lastname" in fields:
        user.lastname = change.lastname or None
    user.updated_at = now
    return user


async def _change_password(user: User, password: str, now: datetime) -> None:
    check_password_strength(password)
    user.password_hash = await hash_password(password)
    # Every token issued before now stops working: a changed password logs everyone out.
    user.tokens_valid_after = now
    user.updated_at = now
