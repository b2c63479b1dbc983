"""``herald webhook-events``: Meta webhooks the processing loop set aside, listed with their
error and applied again once the cause is fixed. They belong to no one user, so this is the
operator's view of them (the API and the console are per user)."""

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

if TYPE_CHECKING:
    from herald.models import WebhookEvent

app = command_group(
    help="Meta webhook events: list those set aside, apply one again.", no_args_is_help=True
)


def _shown(event: WebhookEvent) -> dict[str, Any]:
    from herald.kit.clock import iso_utc
    from herald.meta_webhook.set_aside import state

    def moment(value: Any) -> str | None:
        return iso_utc(value) if value is not None else None

    return {
        "id": event.id,
        "state": state(event),
        "received_at": iso_utc(event.received_at),
        "processed_at": moment(event.processed_at),
        "set_aside_at": moment(event.dead_at),
        "attempts": event.attempts,
        "last_error": event.last_error,
    }


@app.command("list")
def list_events(
    dead: Annotated[bool, typer.Option("--dead", help="Only the events set aside.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    as_json: JsonOutput = False,
) -> None:
    """The latest stored events, newest first, with their state and last error."""
    from herald.meta_webhook import set_aside

    settings = settings_or_exit()

    async def work() -> list[dict[str, Any]]:
        async with database_session(settings) as session:
            return [_shown(e) for e in await set_aside.recent(session, dead, limit)]

    events = run(settings, work)

    def table() -> Table:
        shown = Table("id", "state", "received", "attempts", "last error")
        for event in events:
            shown.add_row(
                str(event["id"]),
                event["state"],
                event["received_at"],
                str(event["attempts"]),
                event["last_error"] or "",
            )
        return shown

    emit(events, table)


@app.command("retry")
def retry(
    event_id: Annotated[int, typer.Argument(metavar="ID", help="The event's id (from `list`).")],
    as_json: JsonOutput = False,
) -> None:
    """Apply a set-aside event again: the processing loop takes it with fresh attempts."""
    from herald.meta_webhook import set_aside

    settings = settings_or_exit()

    async def work() -> dict[str, Any]:
        async with database_session(settings) as session:
            event = await set_aside.retry(session, event_id)
            await session.commit()
            return _shown(event)

    event = run(settings, work)
    emit(event, f"Webhook event {event['id']} is queued to be applied again.")
