"""``herald keys``: encryption keys for provider secrets at rest."""

from __future__ import annotations

from herald.cli.common import (
    JsonOutput,
    command_group,
    database_session,
    emit,
    run,
    settings_or_exit,
)

app = command_group(help="Encryption keys for provider secrets at rest.", no_args_is_help=True)


@app.command("generate")
def generate(as_json: JsonOutput = False) -> None:
    """Print a new key for HERALD_ENCRYPTION_KEYS."""
    # Fernet's own generator, as herald.config's is: importing the settings module (pydantic)
    # would double this command's start-up time.
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    emit({"key": key}, key)


@app.command("rotate")
def rotate(as_json: JsonOutput = False) -> None:
    """Re-encrypt every stored secret with the first key of HERALD_ENCRYPTION_KEYS.

    Put the new key first and keep the old ones after it, run this, then drop the old keys.
    """
    from herald.channel import repository as channels
    from herald.kit.crypto import Cipher

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
    emit({"channels": count}, f"Re-encrypted the secrets of {count} channel(s).")
