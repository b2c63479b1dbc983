"""``herald channels``: operators attach WhatsApp senders to users. Secrets are never printed."""

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
    from herald.models import Channel

app = command_group(help="Manage users' WhatsApp channels (senders).", no_args_is_help=True)
clock = SystemClock()

Secret = Annotated[str | None, typer.Option(help="Prompted for (hidden) when not given.")]
AppId = Annotated[
    str | None,
    typer.Option(
        help="The Meta app's id (App Dashboard > App settings > Basic), needed to create "
        "templates with an image, video or document header."
    ),
]


def _as_json(channel: Channel, email: str) -> dict[str, Any]:
    """What ``--json`` shows of a channel: what ``channels list`` does, never a secret."""
    return {
        "id": channel.id,
        "user": email,
        "phone_number_id": channel.phone_number_id,
        "waba_id": channel.waba_id,
        "is_default": channel.is_default,
        "app_id": channel.app_id,
        "display_number": channel.display_number,
        "throughput_per_second": channel.throughput_per_second,
        "base_url": channel.base_url,
        "api_version": channel.api_version,
        "is_sandbox": channel.is_sandbox,
        "created_at": iso_utc(channel.created_at),
    }


def _secret(value: str | None, label: str) -> str:
    if value is not None:
        return value
    answer: str = typer.prompt(label, hide_input=True, err=True)  # stdout is --json's alone
    return answer


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The user the channel sends for.")],
    phone_number_id: Annotated[str, typer.Option(help="Meta's phone number id.")],
    waba_id: Annotated[str, typer.Option(help="WhatsApp Business Account id.")],
    access_token: Secret = None,
    app_secret: Secret = None,
    verify_token: Secret = None,
    base_url: Annotated[str | None, typer.Option(help="Default HERALD_GRAPH_BASE_URL.")] = None,
    api_version: Annotated[
        str | None, typer.Option(help="Default HERALD_GRAPH_API_VERSION.")
    ] = None,
    throughput: Annotated[int, typer.Option(help="Messages a second, 1 to 1000.")] = 80,
    display_number: Annotated[str | None, typer.Option()] = None,
    app_id: AppId = None,
    default: Annotated[
        bool,
        typer.Option(
            "--default", help="Make it the user's default sender (a user's first channel is)."
        ),
    ] = False,
    as_json: JsonOutput = False,
) -> None:
    """Attach a Cloud API sender to a user (a user may have several, in one or more WABAs)."""
    # Imported here, not on top: `herald --help` stays quick.
    from herald.channel import service
    from herald.channel.service import ChannelFields
    from herald.kit.crypto import Cipher
    from herald.user.service import require as require_user

    settings = settings_or_exit()
    fields = ChannelFields(
        base_url=base_url or settings.graph_base_url,
        api_version=api_version or settings.graph_api_version,
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        access_token=_secret(access_token, "Access token"),
        app_secret=_secret(app_secret, "App secret"),
        verify_token=_secret(verify_token, "Webhook verify token"),
        throughput_per_second=throughput,
        display_number=display_number,
        app_id=app_id,
    )

    async def work() -> Channel:
        async with database_session(settings) as session:
            user = await require_user(session, email)
            cipher = Cipher(settings.resolved_encryption_keys())
            channel = await service.create(
                session, user.id, fields, cipher, clock.now(), default=default
            )
            await session.commit()
            return channel

    channel = run(settings, work)
    emit(_as_json(channel, email), f"Added channel {channel.id} for <{email}>.")


@app.command("list")
def list_channels(as_json: JsonOutput = False) -> None:
    """List every channel (without secrets)."""
    from herald.channel import service
    from herald.user import repository as users

    settings = settings_or_exit()

    async def work() -> list[tuple[Channel, str]]:
        async with database_session(settings) as session:
            rows = []
            for channel in await service.list_channels(session):
                user = await users.get(session, channel.user_id)
                rows.append((channel, user.email if user else "?"))
            return rows

    rows = run(settings, work)
    emit([_as_json(channel, email) for channel, email in rows], lambda: _table(rows))


def _table(rows: list[tuple[Channel, str]]) -> Table:
    table = Table(
        "id",
        "user",
        "default",
        "phone number id",
        "waba id",
        "app id",
        "number",
        "throughput/s",
        "base url",
        "emulator",
    )
    for channel, email in rows:
        table.add_row(
            str(channel.id),
            email,
            "yes" if channel.is_default else "",
            channel.phone_number_id,
            channel.waba_id,
            channel.app_id or "",
            channel.display_number or "",
            str(channel.throughput_per_second),
            f"{channel.base_url} ({channel.api_version})",
            "yes" if channel.is_sandbox else "no",
        )
    return table


@app.command("update")
def update(
    channel_id: int,
    access_token: Annotated[str | None, typer.Option()] = None,
    app_secret: Annotated[str | None, typer.Option()] = None,
    verify_token: Annotated[str | None, typer.Option()] = None,
    waba_id: Annotated[str | None, typer.Option()] = None,
    base_url: Annotated[str | None, typer.Option()] = None,
    api_version: Annotated[str | None, typer.Option()] = None,
    throughput: Annotated[int | None, typer.Option(help="Messages a second, 1 to 1000.")] = None,
    display_number: Annotated[str | None, typer.Option()] = None,
    app_id: AppId = None,
    as_json: JsonOutput = False,
) -> None:
    """Change a channel's settings or rotate its secrets."""
    from herald.channel import service
    from herald.kit.crypto import Cipher
    from herald.user import repository as users

    settings = settings_or_exit()

    async def work() -> tuple[Channel, str]:
        async with database_session(settings) as session:
            channel = await service.require(session, channel_id)
            await service.update(
                session,
                channel,
                Cipher(settings.resolved_encryption_keys()),
                clock.now(),
                base_url=base_url,
                api_version=api_version,
                waba_id=waba_id,
                access_token=access_token,
                app_secret=app_secret,
                verify_token=verify_token,
                throughput_per_second=throughput,
                display_number=display_number,
                app_id=app_id,
            )
            await session.commit()
            user = await users.get(session, channel.user_id)
            return channel, user.email if user else "?"

    channel, email = run(settings, work)
    emit(_as_json(channel, email), f"Updated channel {channel.id}.")


@app.command("default")
def make_default(channel_id: int, as_json: JsonOutput = False) -> None:
    """Make a channel its user's default sender (sends that name no sender go from it)."""
    from herald.channel import service
    from herald.user import repository as users

    settings = settings_or_exit()

    async def work() -> tuple[Channel, str]:
        async with database_session(settings) as session:
            channel = await service.require(session, channel_id)
            await service.make_default(session, channel, clock.now())
            await session.commit()
            user = await users.get(session, channel.user_id)
            return channel, user.email if user else "?"

    channel, email = run(settings, work)
    emit(_as_json(channel, email), f"Channel {channel.id} is now the default of <{email}>.")


@app.command("remove")
def remove(channel_id: int, as_json: JsonOutput = False) -> None:
    """Remove a channel; its templates stay, detached, and messages keep their history. When it
    was its user's default, the user's oldest other channel becomes the default."""
    from herald.channel import service

    settings = settings_or_exit()

    async def work() -> int | None:
        async with database_session(settings) as session:
            successor = await service.remove(session, channel_id, clock.now())
            await session.commit()
            return successor.id if successor is not None else None

    successor = run(settings, work)
    then = f" Channel {successor} is now the user's default." if successor is not None else ""
    emit(
        {"id": channel_id, "removed": True, "new_default_id": successor},
        f"Removed channel {channel_id}.{then}",
    )
