"""``herald media upload``: upload a header file through a running Herald."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from herald.cli.common import JsonOutput, command_group, emit
from herald.cli.remote import DEFAULT_URL, Credentials, Email, Password, Remote, Token, Url

app = command_group(
    help="Media for template headers (through a running Herald).", no_args_is_help=True
)


@app.command("upload")
def upload(
    file: Annotated[
        Path,
        typer.Argument(
            help="jpeg/png up to 5 MB, mp4/3gpp up to 16 MB, or a document (pdf, docx, xlsx, "
            "…) up to 100 MB. The type is read from the content, not the name."
        ),
    ],
    as_json: JsonOutput = False,
    url: Url = DEFAULT_URL,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Upload a file; its media id goes in `herald send --header-media-id` or a CSV's
    header_media_id column."""
    # Uploads stream from disk: a large file on a slow link may take minutes.
    with Remote(Credentials(url, email, password, token), timeout=600) as remote:
        media = remote.upload("/api/v2/whatsapp/media", file)
    emit(
        media,
        f"Uploaded media {media['media_id']} ({media['type']}, {media['mime_type']}, "
        f"{media['size']:,} bytes).",
    )
