"""``herald callbacks verify``: check a status callback's signature, as a receiver must."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from herald.cli.common import JsonOutput, command_group, emit

app = command_group(help="Status callbacks.", no_args_is_help=True)


@app.command("verify")
def verify(
    secret: Annotated[str, typer.Option(envvar="HERALD_CALLBACK_SECRET", help="The secret.")],
    signature: Annotated[str, typer.Option(help="The X-Herald-Signature header's value.")],
    body: Annotated[
        Path | None, typer.Argument(help="The raw body (a file; standard input when absent).")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Exit 0 when SIGNATURE is the HMAC-SHA256 of the raw body with SECRET, 1 otherwise."""
    from herald.kit.crypto import signature_matches

    raw = body.read_bytes() if body is not None else sys.stdin.buffer.read()
    matches = signature_matches(secret, raw, signature)
    emit({"matches": matches}, "signature matches" if matches else "signature does NOT match")
    if not matches:
        raise typer.Exit(1)
