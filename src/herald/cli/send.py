"""``herald send`` and ``herald send-bulk``: send templates through a running Herald;
``herald send-text``: a text inside the customer's 24-hour window."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from herald.cli.common import EXIT_INVALID, JsonOutput, emit, err, fail, json_mode
from herald.cli.recipients import COLUMNS_HELP, RecipientsFile, button_params, parse_button_option
from herald.cli.remote import DEFAULT_URL, Credentials, Email, Password, Remote, Token, Url

BULK_LIMIT = 10_000  # recipients per API call
KEY_LIMIT = 255  # the API's longest idempotency key
TEMPLATES = "/api/v2/whatsapp/templates"
MESSAGES = "/api/v2/whatsapp/messages"

SendAt = Annotated[str | None, typer.Option(help="ISO 8601 time to send at.")]
To = Annotated[str, typer.Option(help="Recipient: digits with the dial code.")]
CountryCode = Annotated[str, typer.Option(help="ISO 3166 alpha-2, e.g. TN.")]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(help="Send at most once: the same key again within 24 h sends nothing new."),
]


def _template(remote: Remote, template_id: int) -> dict[str, Any]:
    template: dict[str, Any] = remote.get(f"{TEMPLATES}/{template_id}")
    return template


def send(
    template_id: Annotated[int, typer.Argument(help="The APPROVED template's id.")],
    to: To,
    country_code: CountryCode,
    param: Annotated[
        list[str] | None, typer.Option(help="A body parameter, in order (repeat).")
    ] = None,
    button: Annotated[
        list[str] | None,
        typer.Option(
            help="INDEX=VALUE: the value of the template's button at INDEX, counted from 0 "
            "(a URL button's variable, a copy-code button's code). Repeat for several."
        ),
    ] = None,
    header_media_id: Annotated[
        int | None, typer.Option(help="Uploaded header file (`herald media upload`).")
    ] = None,
    otp_code: Annotated[
        str | None, typer.Option(help="The one-time code, for an AUTHENTICATION template.")
    ] = None,
    send_at: SendAt = None,
    idempotency_key: IdempotencyKey = None,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Send one template message (through a running Herald)."""
    body: dict[str, Any] = {"to": to, "country_code": country_code}
    if param:
        body["body_params"] = param
    if header_media_id is not None:
        body["header_media_id"] = header_media_id
    if otp_code is not None:
        body["otp_code"] = otp_code
    if send_at:
        body["send_at"] = send_at
    values = dict(parse_button_option(option) for option in button or [])
    with Remote(Credentials(url, email, password, token)) as remote:
        if values:
            body["buttons"] = button_params(_template(remote, template_id), values)
        data = remote.post(f"{TEMPLATES}/{template_id}/send", body, idempotency_key)
    message = data["message"]
    emit(
        data,
        f"Queued message {message['id']} (state {message['state']}, "
        f"group {data['whatsapp_bulk_group_id']}).",
    )


def send_text(
    to: To,
    country_code: CountryCode,
    body: Annotated[str, typer.Argument(help="The text, at most 4,096 characters.")],
    preview_url: Annotated[
        bool, typer.Option(help="Show a preview of the first link in the text.")
    ] = False,
    reply_to: Annotated[
        int | None, typer.Option(help="The id of the customer's message this answers.")
    ] = None,
    idempotency_key: IdempotencyKey = None,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Send a text to a customer who wrote in the last 24 hours (no template; through a
    running Herald). Outside that window Herald refuses it (window_closed)."""
    request: dict[str, Any] = {
        "to": to,
        "country_code": country_code,
        "type": "text",
        "text": {"body": body, "preview_url": preview_url},
    }
    if reply_to is not None:
        request["reply_to"] = reply_to
    with Remote(Credentials(url, email, password, token)) as remote:
        data = remote.post(MESSAGES, request, idempotency_key)
    message = data["message"]
    emit(data, f"Queued text message {message['id']} (state {message['state']}).")


def _chunk_key(key: str | None, first_line: int, last_line: int) -> str | None:
    """The idempotency key of the request carrying lines ``first_line``..``last_line``: a row
    always travels in the same request (10,000 rows each, in file order), so running the same
    file again with the same key replays every request instead of sending it again."""
    return f"{key}:rows-{first_line}-{last_line}" if key else None


def send_bulk(
    template_id: Annotated[int, typer.Argument(help="The APPROVED template's id.")],
    recipients_csv: Annotated[
        Path, typer.Argument(help=f"CSV with a header row; columns: {COLUMNS_HELP}.")
    ],
    skip_invalid: Annotated[
        bool, typer.Option(help="Queue the valid rows and list the others.")
    ] = False,
    send_at: SendAt = None,
    header_media_id: Annotated[
        int | None,
        typer.Option(help="Header file for every row without a header_media_id of its own."),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            help="Send each row at most once: running the same file again with the same key "
            "within 24 h sends nothing twice (each request's key is derived from this one and "
            "its rows)."
        ),
    ] = None,
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Send a template to every row of a CSV file (10,000 recipients per request)."""
    rows = RecipientsFile(recipients_csv)
    if not len(rows):
        fail(f"{recipients_csv} has a header row but no recipients", EXIT_INVALID)
    last_line = rows.line_of(len(rows) - 1)
    longest = _chunk_key(idempotency_key, last_line, last_line)
    if idempotency_key and longest and len(longest) > KEY_LIMIT:
        allowed = KEY_LIMIT - (len(longest) - len(idempotency_key))
        fail(
            f"--idempotency-key is too long for this file: at most {allowed} characters",
            EXIT_INVALID,
        )
    with Remote(Credentials(url, email, password, token)) as remote:
        recipients = rows.recipients(_template(remote, template_id) if rows.buttons else None)
        if header_media_id is not None:
            recipients = [{"header_media_id": header_media_id, **r} for r in recipients]
        options: dict[str, Any] = {"skip_invalid": skip_invalid}
        if send_at:
            options["send_at"] = send_at
        done = _queue(
            remote,
            f"{TEMPLATES}/{template_id}/send-bulk",
            rows,
            recipients,
            options,
            idempotency_key,
        )
    emit(
        {
            "queued": done.queued,
            "rejected": done.rejected,
            "whatsapp_bulk_group_ids": done.groups,
        },
        lambda: _summary(done),
    )


@dataclass
class _Queued:
    queued: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def _queue(
    remote: Remote,
    path: str,
    rows: RecipientsFile,
    recipients: list[dict[str, Any]],
    options: dict[str, Any],
    key: str | None,
) -> _Queued:
    """Send ``recipients`` in requests of ``BULK_LIMIT``; a refused request ends the command,
    saying which rows the requests before it queued."""
    from rich.progress import Progress

    done = _Queued()
    # On standard error, and gone once done: standard output is for the result alone.
    with Progress(console=err, transient=True, disable=json_mode()) as progress:
        task = progress.add_task("Queuing", total=len(recipients))
        for start in range(0, len(recipients), BULK_LIMIT):
            chunk = recipients[start : start + BULK_LIMIT]

            def line_of(index: int, start: int = start) -> int:
                return rows.line_of(start + index)

            chunk_key = _chunk_key(key, line_of(0), line_of(len(chunk) - 1))
            try:
                data = remote.post(path, {"recipients": chunk, **options}, chunk_key, line_of)
            except typer.Exit:
                if start:
                    lines = (rows.line_of(0), rows.line_of(start - 1))
                    _tell_what_was_queued(lines, done.groups, key)
                raise
            done.queued += data["queued"]
            done.groups.append(data["whatsapp_bulk_group_id"])
            done.rejected += [{**r, "row": line_of(r["index"])} for r in data["rejected"]]
            progress.advance(task, len(chunk))
    return done


def _tell_what_was_queued(lines: tuple[int, int], groups: list[str], key: str | None) -> None:
    if json_mode():
        return
    again = (
        "Run the same file again with the same --idempotency-key: the rows already queued are "
        "not sent twice."
        if key
        else "Running the file again would send those rows twice: remove them first."
    )
    err.print(
        f"Rows {lines[0]} to {lines[1]} were queued before this error (bulk groups "
        f"{', '.join(groups)}). {again}",
        highlight=False,
    )


def _summary(done: _Queued) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    summary = Table("queued", "rejected", "bulk groups")
    summary.add_row(str(done.queued), str(len(done.rejected)), ", ".join(done.groups))
    lines = [
        Text(f"row {refusal['row']}: {refusal['code']}: {refusal['message']}")
        for refusal in done.rejected[:20]
    ]
    if len(done.rejected) > 20:
        lines.append(Text(f"… and {len(done.rejected) - 20} more"))
    return Group(summary, *lines)
