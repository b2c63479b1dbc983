"""``herald templates approve|reject``: drive review on emulator channels, never on Meta's."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from herald.channel import repository as channels
from herald.cli.common import EXIT_INVALID, database_session, fail, out, run, settings_or_exit
from herald.errors import Conflict, NotFound
from herald.kit.clock import SystemClock
from herald.models import Template
from herald.template.service import set_state

app = typer.Typer(help="Review templates on emulator channels.", no_args_is_help=True)
clock = SystemClock()


class NotOnEmulator(Exception):
    pass


def _review(template_id: int, action: str, reason: str | None) -> Template:
    settings = settings_or_exit()

    async def work() -> Template:
        async with database_session(settings) as session:
            template = await session.get(Template, template_id)
            if template is None:
                raise NotFound(f"No template {template_id}.")
            if template.state != "PENDING":
                raise Conflict(f"Template {template_id} is {template.state}, not PENDING.")
            channel = await channels.get(session, template.channel_id or 0)
            if channel is None or not channel.is_sandbox:
                raise NotOnEmulator()
            url = f"{channel.base_url}/_emulator/templates/{template.provider_template_id}/{action}"
            async with httpx.AsyncClient(timeout=10) as http:
                try:
                    answer = await http.post(url, json={"reason": reason} if reason else None)
                except httpx.TransportError as exc:
                    raise NotFound(
                        f"cannot reach the emulator at {channel.base_url} ({exc!r}); "
                        "is Herald (or `herald emulator`) running?"
                    ) from None
            if answer.status_code != 200:
                raise NotFound(f"the emulator does not know this template ({answer.text}).")
            # The emulator's webhook brings the same news; applying it now makes this answer true.
            set_state(
                template, "APPROVED" if action == "approve" else "REJECTED", reason, clock.now()
            )
            await session.commit()
            return template

    try:
        return run(settings, work)
    except NotOnEmulator:
        fail(
            f"template {template_id} is on a Cloud API channel: Meta reviews it. "
            "approve/reject only work on emulator channels.",
            EXIT_INVALID,
        )


@app.command("approve")
def approve(template_id: int) -> None:
    """Approve a PENDING template on an emulator channel."""
    template = _review(template_id, "approve", None)
    out.print(f"Template {template.id} ({template.name}) is {template.state}.", highlight=False)


@app.command("reject")
def reject(
    template_id: int,
    reason: Annotated[str, typer.Option(help="Why; shown as rejection_reason.")],
) -> None:
    """Reject a PENDING template on an emulator channel, with a reason."""
    template = _review(template_id, "reject", reason)
    out.print(
        f"Template {template.id} ({template.name}) is {template.state}: {reason}", highlight=False
    )
