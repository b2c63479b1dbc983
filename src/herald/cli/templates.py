"""``herald templates``: create, submit, list and wait for templates through a running Herald
(as an integrator); approve or reject them on emulator channels (as the operator, on the
database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from herald.cli.common import (
    EXIT_CONFLICT,
    EXIT_INVALID,
    EXIT_TIMEOUT,
    JsonOutput,
    command_group,
    database_session,
    emit,
    fail,
    run,
    settings_or_exit,
)
from herald.cli.remote import DEFAULT_URL, Credentials, Email, Password, Remote, Token, Url

if TYPE_CHECKING:
    from rich.table import Table

    from herald.models import Template

app = command_group(
    help="Create, submit, list and wait for templates; review them on emulator channels.",
    no_args_is_help=True,
)
TEMPLATES = "/api/v2/whatsapp/templates"


def _remote(url: str, email: str | None, password: str | None, token: str | None) -> Remote:
    return Remote(Credentials(url, email, password, token))


def _describe(template: dict[str, Any]) -> str:
    reason = f": {template['rejection_reason']}" if template.get("rejection_reason") else ""
    return (
        f"Template {template['id']} ({template['name']}, {template['language']}, "
        f"{template['category']}) is {template['state']}{reason}."
    )


def _read_json_file(source: str) -> dict[str, Any]:
    import sys

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        loaded = json.loads(text)
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror or exc}", EXIT_INVALID)
    except ValueError as exc:
        fail(f"{source} is not valid JSON: {exc}", EXIT_INVALID)
    if not isinstance(loaded, dict):
        fail(f"{source} must hold one JSON object: the template's fields", EXIT_INVALID)
    return loaded


def _pair(option: str, value: str, example: str) -> tuple[str, str]:
    key, separator, rest = value.partition("=")
    if not separator or not key.strip() or not rest:
        fail(f"{option} takes {example}: {value!r}", EXIT_INVALID)
    return key.strip(), rest


def _field_value(text: str) -> Any:
    """A ``--field`` value: JSON when it parses as JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@app.command("create")
def create(
    json_file: Annotated[
        str | None,
        typer.Option(
            help="A JSON object with the template's fields, as the API takes them "
            "(POST /api/v2/whatsapp/templates); '-' reads standard input. Options override it."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Lower case, digits, underscores.")] = None,
    language: Annotated[str | None, typer.Option(help="e.g. en, en_US.")] = None,
    category: Annotated[
        str | None, typer.Option(help="MARKETING, UTILITY or AUTHENTICATION.")
    ] = None,
    body: Annotated[str | None, typer.Option(help="The text, with {{1}}..{{n}}.")] = None,
    header_text: Annotated[str | None, typer.Option(help="A TEXT header.")] = None,
    footer: Annotated[str | None, typer.Option()] = None,
    url_button: Annotated[
        list[str] | None,
        typer.Option(help="TEXT=URL, e.g. 'Track=https://shop.example/t/{{1}}' (repeat)."),
    ] = None,
    quick_reply: Annotated[list[str] | None, typer.Option(help="A quick-reply button.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=VALUE for any other field of the API's body; VALUE is read as JSON when "
            'it is JSON, e.g. --field \'header={"format": "IMAGE"}\' (repeat).'
        ),
    ] = None,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Create a template (DRAFT) through a running Herald; then `herald templates submit`."""
    fields = _read_json_file(json_file) if json_file else {}
    for option in field or []:
        key, value = _pair("--field", option, "KEY=VALUE")
        fields[key] = _field_value(value)
    named = {"name": name, "language": language, "category": category, "body": body}
    fields |= {key: value for key, value in named.items() if value is not None}
    if footer is not None:
        fields["footer"] = footer
    if header_text is not None:
        fields["header"] = {"format": "TEXT", "text": header_text}
    buttons = [
        {"type": "URL", "text": text, "url": link}
        for text, link in (_pair("--url-button", b, "TEXT=URL") for b in url_button or [])
    ] + [{"type": "QUICK_REPLY", "text": text} for text in quick_reply or []]
    if buttons:
        fields["buttons"] = [*fields.get("buttons", []), *buttons]
    with _remote(url, email, password, token) as remote:
        template = remote.post(TEMPLATES, fields)
    emit(
        template,
        f"Created template {template['id']} ({template['name']}, {template['state']}); submit "
        f"it for review with `herald templates submit {template['id']}`.",
    )


@app.command("submit")
def submit(
    template_id: int,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Send a DRAFT or REJECTED template for review (then `herald templates wait`)."""
    with _remote(url, email, password, token) as remote:
        template = remote.post(f"{TEMPLATES}/{template_id}/submit")
    emit(template, _describe(template))


@app.command("list")
def list_templates(
    state: Annotated[str | None, typer.Option(help="e.g. APPROVED.")] = None,
    category: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """List your templates (every page), through a running Herald."""
    filters = {"state": state, "category": category, "name": name}
    params: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    items: list[dict[str, Any]] = []
    with _remote(url, email, password, token) as remote:
        page = 1
        while True:
            data = remote.get(TEMPLATES, {**params, "page": page, "limit": 100})
            items += data["items"]
            if page >= data["pagination"]["pages"]:
                break
            page += 1
    emit(items, lambda: _table(items))


def _table(items: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(
        "id", "name", "language", "category", "state", "sendable", "buttons", "rejection reason"
    )
    for t in items:
        buttons = ", ".join(f"{i}:{b['type']}" for i, b in enumerate(t["buttons"]))
        table.add_row(
            str(t["id"]),
            t["name"],
            t["language"],
            t["category"],
            t["state"],
            "yes" if t.get("sendable", True) else "no",
            buttons,
            t["rejection_reason"] or "",
        )
    return table


@app.command("wait")
def wait(
    template_id: int,
    timeout: Annotated[float, typer.Option(help="Seconds to wait at most.")] = 600,
    interval: Annotated[float, typer.Option(help="Seconds between two looks.")] = 2,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Wait while a template is PENDING: exit 0 once APPROVED, 4 when refused or not
    submitted, 9 when still PENDING after --timeout."""
    import time

    deadline = time.monotonic() + timeout
    with _remote(url, email, password, token) as remote:
        while True:
            template = remote.get(f"{TEMPLATES}/{template_id}")
            if template["state"] != "PENDING" or time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, min(interval, deadline - time.monotonic())))
    state = template["state"]
    if state == "APPROVED":
        emit(template, _describe(template))
        return
    if state == "PENDING":
        fail(f"template {template_id} is still PENDING after {timeout:g} s", EXIT_TIMEOUT)
    if state == "DRAFT":
        message = f"{_describe(template)} Submit it first: `herald templates submit {template_id}`."
        fail(message, EXIT_CONFLICT, "template_not_submitted", template)
    fail(_describe(template), EXIT_CONFLICT, f"template_{state.lower()}", template)


@app.command("sync")
def sync(
    user: Annotated[
        str | None,
        typer.Argument(
            help="A user's email: sync that user's channel on the database (as the operator). "
            "Without it, your own templates through a running Herald (as an integrator)."
        ),
    ] = None,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Import every template of the WhatsApp Business Account and bring Herald's copies in
    step: created, updated, unchanged, and removed (deleted at Meta, now DELETED)."""
    if user is None:
        with _remote(url, email, password, token) as remote:
            counts = remote.post(f"{TEMPLATES}/sync")
    else:
        counts = _sync_on_database(user)
    emit(
        counts,
        f"Synced with Meta: {counts['created']} imported, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['removed']} deleted at Meta.",
    )


def _sync_on_database(email: str) -> dict[str, int]:
    settings = settings_or_exit()

    async def work() -> dict[str, int]:
        from dataclasses import asdict

        from herald.channel.defaults import emulator_defaults
        from herald.kit.clock import SystemClock
        from herald.kit.crypto import Cipher
        from herald.provider.cloud_api import CloudApiProvider, new_session
        from herald.template.service import ProviderContext
        from herald.template.sync import sync_user
        from herald.user.service import require as require_user

        async with (
            database_session(settings) as session,
            new_session(settings.provider_timeout_seconds) as http,
        ):
            found = await require_user(session, email)
            ctx = ProviderContext(
                CloudApiProvider(http),
                Cipher(settings.resolved_encryption_keys()),
                emulator_defaults(settings),
            )
            counts = await sync_user(session, found.id, ctx, SystemClock().now())
            await session.commit()
            return asdict(counts)

    return run(settings, work)


class NotOnEmulator(Exception):
    pass


def _review(template_id: int, action: str, reason: str | None) -> Template:
    settings = settings_or_exit()

    async def work() -> Template:
        import httpx

        from herald.channel import repository as channels
        from herald.errors import Conflict, NotFound
        from herald.kit.clock import SystemClock
        from herald.kit.tls import client_tls
        from herald.models import Template
        from herald.template.provider_news import set_state

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
            async with httpx.AsyncClient(timeout=10, verify=client_tls()) as http:
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
            new_state = "APPROVED" if action == "approve" else "REJECTED"
            set_state(template, new_state, reason, SystemClock().now())
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


def _reviewed(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "state": template.state,
        "rejection_reason": template.rejection_reason,
    }


@app.command("approve")
def approve(template_id: int, as_json: JsonOutput = False) -> None:
    """Approve a PENDING template on an emulator channel (operator, on the database)."""
    template = _review(template_id, "approve", None)
    emit(_reviewed(template), f"Template {template.id} ({template.name}) is {template.state}.")


@app.command("reject")
def reject(
    template_id: int,
    reason: Annotated[str, typer.Option(help="Why; shown as rejection_reason.")],
    as_json: JsonOutput = False,
) -> None:
    """Reject a PENDING template on an emulator channel, with a reason (operator, on the
    database)."""
    template = _review(template_id, "reject", reason)
    emit(
        _reviewed(template),
        f"Template {template.id} ({template.name}) is {template.state}: {reason}",
    )
