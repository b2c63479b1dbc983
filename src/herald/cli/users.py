"""``herald users``: operators create users and manage their API access."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from herald.cli.common import (
    JsonOutput,
    command_group,
    database_session,
    emit,
    run,
    settings_or_exit,
)
from herald.kit.clock import SystemClock, iso_utc

if TYPE_CHECKING:
    from herald.models import User

app = command_group(help="Create users and manage their API access.", no_args_is_help=True)
clock = SystemClock()


def _as_json(user: User) -> dict[str, Any]:
    """What ``--json`` shows of a user: everything ``users list`` does, never the password."""
    return {
        "id": user.id,
        "email": user.email,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "has_api_access": user.has_api_access,
        "is_disabled": user.is_disabled,
        "created_at": iso_utc(user.created_at),
    }


def _ask_password() -> str:
    # On standard error, so that standard output under --json is the JSON alone.
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return value


@app.command("create")
def create(
    email: str,
    password: Annotated[
        str | None, typer.Option(help="Prompted for (hidden) when not given.")
    ] = None,
    api_access: Annotated[
        bool, typer.Option("--api-access/--no-api-access", help="Allow API calls.")
    ] = False,
    firstname: Annotated[str | None, typer.Option()] = None,
    lastname: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOutput = False,
) -> None:
    """Create a user (API access is off unless --api-access is given)."""
    from herald.user import service  # here, not on top: `herald --help` stays quick

    settings = settings_or_exit()
    secret = password if password is not None else _ask_password()

    async def work() -> User:
        async with database_session(settings) as session:
            user = await service.create(
                session,
                email=email,
                password=secret,
                now=clock.now(),
                has_api_access=api_access,
                firstname=firstname,
                lastname=lastname,
            )
            # No channel here: the server gives one on the built-in emulator at first need, with
            # its own address (this command may not know the port `herald serve` listens on).
            await session.commit()
            return user

    user = run(settings, work)
    access = "enabled" if user.has_api_access else "disabled (grant with `herald users grant-api`)"
    emit(_as_json(user), f"Created user {user.id} <{user.email}>; API access {access}.")


@app.command("list")
def list_users(as_json: JsonOutput = False) -> None:
    """List every user."""
    from herald.user import service  # here, not on top: `herald --help` stays quick

    settings = settings_or_exit()

    async def work() -> list[User]:
        async with database_session(settings) as session:
            return list(await service.list_users(session))

    users = run(settings, work)
    emit([_as_json(user) for user in users], lambda: _table(users))


def _table(users: list[User]) -> Table:
    table = Table("id", "email", "name", "api access", "disabled", "created")
    for user in users:
        name = " ".join(p for p in (user.firstname, user.lastname) if p)
        table.add_row(
            str(user.id),
            user.email,
            name,
            "yes" if user.has_api_access else "no",
            "yes" if user.is_disabled else "no",
            iso_utc(user.created_at),
        )
    return table


def _change(email: str, action: str, change: str) -> None:
    from herald.user import service

    settings = settings_or_exit()
    password = _ask_password() if action == "set-password" else ""

    async def work() -> User:
        async with database_session(settings) as session:
            now = clock.now()
            if action == "grant-api":
                user = await service.set_api_access(session, email, True, now)
            elif action == "revoke-api":
                user = await service.set_api_access(session, email, False, now)
            elif action == "set-password":
                user = await service.set_password(session, email, password, now)
            elif action == "enable":
                user = await service.enable(session, email, now)
            else:
                user = await service.disable(session, email, now)
            await session.commit()
            return user

    user = run(settings, work)
    emit(_as_json(user), f"{change} for <{user.email}>.")


@app.command("grant-api")
def grant_api(email: str, as_json: JsonOutput = False) -> None:
    """Allow the user to call the API."""
    _change(email, "grant-api", "API access granted")


@app.command("revoke-api")
def revoke_api(email: str, as_json: JsonOutput = False) -> None:
    """Refuse the user's API calls from the next request on."""
    _change(email, "revoke-api", "API access revoked")


@app.command("set-password")
def set_password(email: str, as_json: JsonOutput = False) -> None:
    """Set a new password (prompted); tokens issued before it stop working."""
    _change(email, "set-password", "Password changed; earlier tokens revoked")


@app.command("disable")
def disable(email: str, as_json: JsonOutput = False) -> None:
    """Disable the user: logins fail and existing tokens stop working."""
    _change(email, "disable", "User disabled")


@app.command("enable")
def enable(email: str, as_json: JsonOutput = False) -> None:
    """Undo `disable`: the user can log in again (tokens issued before the disable stay void)."""
    _change(email, "enable", "User enabled")
