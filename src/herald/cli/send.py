"""``herald send`` and ``herald send-bulk``: send templates through a running Herald."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from herald.cli.common import EXIT_INVALID, fail, out
from herald.cli.remote import Credentials, Email, Password, Remote, Token, Url

BULK_LIMIT = 10_000  # recipients per API call
_PARAM_COLUMN = re.compile(r"^param(\d+)$")


def send(
    template_id: Annotated[int, typer.Argument(help="The APPROVED template's id.")],
    to: Annotated[str, typer.Option(help="Recipient: digits with the dial code.")],
    country_code: Annotated[str, typer.Option(help="ISO 3166 alpha-2, e.g. TN.")],
    param: Annotated[
        list[str] | None, typer.Option(help="A body parameter, in order (repeat).")
    ] = None,
    header_media_id: Annotated[int | None, typer.Option(help="Uploaded header file.")] = None,
    send_at: Annotated[str | None, typer.Option(help="ISO 8601 time to send at.")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Send at most once.")] = None,
    url: Url = "http://127.0.0.1:8080",
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Send one template message."""
    body: dict[str, Any] = {"to": to, "country_code": country_code}
    if param:
        body["body_params"] = param
    if header_media_id is not None:
        body["header_media_id"] = header_media_id
    if send_at:
        body["send_at"] = send_at
    with Remote(Credentials(url, email, password, token)) as remote:
        data = remote.post(f"/api/v2/whatsapp/templates/{template_id}/send", body, idempotency_key)
    message = data["message"]
    out.print(
        f"Queued message {message['id']} (state {message['state']}, "
        f"group {data['whatsapp_bulk_group_id']}).",
        highlight=False,
    )


def read_recipients(path: Path) -> list[dict[str, Any]]:
    """Rows of ``to,country_code[,param1,param2,…][,header_media_id]`` (a header row first)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        fail(f"cannot read {path}: {exc}", EXIT_INVALID)
    if not rows or not {"to", "country_code"} <= set(rows[0]):
        fail(f"{path} needs a header row with at least to,country_code", EXIT_INVALID)
    params = sorted(
        (int(m.group(1)), column)
        for column in rows[0]
        if column and (m := _PARAM_COLUMN.match(column.strip()))
    )
    recipients = []
    for row in rows:
        recipient: dict[str, Any] = {"to": row["to"], "country_code": row["country_code"]}
        if params:
            recipient["body_params"] = [row[column] or "" for _, column in params]
        if row.get("header_media_id"):
            try:
                recipient["header_media_id"] = int(row["header_media_id"])
            except ValueError:
                fail(f"header_media_id must be a number: {row['header_media_id']!r}", EXIT_INVALID)
        recipients.append(recipient)
    return recipients


def send_bulk(
    template_id: Annotated[int, typer.Argument(help="The APPROVED template's id.")],
    recipients_csv: Annotated[Path, typer.Argument(help="CSV: to,country_code,param1,…")],
    skip_invalid: Annotated[
        bool, typer.Option(help="Queue the valid rows and list the others.")
    ] = False,
    send_at: Annotated[str | None, typer.Option(help="ISO 8601 time to send at.")] = None,
    url: Url = "http://127.0.0.1:8080",
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Send a template to every row of a CSV file (10,000 recipients per request)."""
    recipients = read_recipients(recipients_csv)
    queued, rejected, groups = 0, [], []
    with Remote(Credentials(url, email, password, token)) as remote, Progress() as progress:
        task = progress.add_task("Queuing", total=len(recipients))
        for start in range(0, len(recipients), BULK_LIMIT):
            chunk = recipients[start : start + BULK_LIMIT]
            body: dict[str, Any] = {"recipients": chunk, "skip_invalid": skip_invalid}
            if send_at:
                body["send_at"] = send_at
            data = remote.post(f"/api/v2/whatsapp/templates/{template_id}/send-bulk", body)
            queued += data["queued"]
            groups.append(data["whatsapp_bulk_group_id"])
            rejected += [{**r, "row": start + r["index"] + 2} for r in data["rejected"]]
            progress.advance(task, len(chunk))
    summary = Table("queued", "rejected", "bulk groups")
    summary.add_row(str(queued), str(len(rejected)), ", ".join(groups))
    out.print(summary)
    for refusal in rejected[:20]:
        out.print(f"row {refusal['row']}: {refusal['code']}: {refusal['message']}", highlight=False)
    if len(rejected) > 20:
        out.print(f"… and {len(rejected) - 20} more", highlight=False)
