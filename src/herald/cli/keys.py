"""``herald keys``: encryption keys for provider secrets at rest."""

from __future__ import annotations

import typer

from herald.channel import repository as channels
from herald.cli.common import database_session, out, run, settings_or_exit
from herald.config import generate_encryption_key
from herald.kit.crypto import Cipher

app = typer.Typer(help="Encryption keys for provider secrets at rest.", no_args_is_help=True)


@app.command("generate")
def generate() -> None:
    """Print a new key for HERALD_ENCRYPTION_KEYS."""
    typer.echo(generate_encryption_key())


@app.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret with the first key of HERALD_ENCRYPTION_KEYS.

    Put the new key first and keep the old ones after it, run this, then drop the old keys.
    """
    settings = settings_or_exit()

    async def work() -> int:
        cipher = Cipher(settings.resolved_encryption_keys())
        async with database_session(settings) as session:
            rows = await channels.list_all(session)
            for channel in rows:
                channel.access_token_encrypted = cipher.rotate(channel.access_token_encrypted)
                channel.app_secret_encrypted = cipher.rotate(channel.app_secret_encrypted)
            await session.commit()
            return len(rows)

    count = run(settings, work)
    out.print(f"Re-encrypted the secrets of {count} channel(s).", highlight=False)
