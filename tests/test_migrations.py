"""Models and migrations agree, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from herald import migrate
from herald.models import Base
from tests.conftest import DatabaseUnderTest, add_user


async def test_migrations_reach_head(db: DatabaseUnderTest) -> None:
    assert await migrate.current_revision(db.engine) == migrate.head_revision()


async def test_models_and_migrations_do_not_disagree(db: DatabaseUnderTest) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


async def test_upgrade_twice_is_harmless(db: DatabaseUnderTest) -> None:
    await migrate.upgrade(db.engine)
    assert await migrate.current_revision(db.engine) == migrate.head_revision()


async def test_message_totals_keep_their_sum_across_the_shard_migration(
    db: DatabaseUnderTest,
) -> None:
    """0009 split each user's total into shards; down and up again, the sum is what it was."""
    await db.clean()
    user = await add_user(db, "shards@example.com")
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO message_totals (user_id, shard, total) VALUES (:u, 3, 5), (:u, 7, 2)"
            ),
            {"u": user.id},
        )

    def to(revision: str) -> Callable[[Connection], None]:
        def run(connection: Connection) -> None:
            action = command.downgrade if revision != "head" else command.upgrade
            action(migrate.alembic_config(connection), revision)

        return run

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(to("0008"))
        async with db.engine.connect() as connection:
            rows = (
                await connection.execute(text("SELECT user_id, total FROM message_totals"))
            ).all()
        assert [tuple(row) for row in rows] == [(user.id, 7)]
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(to("head"))
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT user_id, shard, total FROM message_totals"))
        ).all()
    assert [tuple(row) for row in rows] == [(user.id, 0, 7)]
    await db.clean()


async def test_callbacks_on_one_url_are_merged_into_the_oldest(db: DatabaseUnderTest) -> None:
    """0013 makes a callback unique per URL: callbacks registered twice before it (in any
    spelling) become the oldest one, signing with the newest's secret and its own for a while."""
    await db.clean()
    user = await add_user(db, "callbacks@example.com")
    migration = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0013")
    before = str(migration.down_revision)
    rows = [
        ("https://93.184.215.14/h", "oldest-secret"),
        ("HTTPS://93.184.215.14:443/h#x", "middle-secret"),
        ("https://93.184.215.14/other", "other-secret"),
        ("https://93.184.215.14/h", "newest-secret"),
    ]

    def run(action: Callable[..., None], revision: str) -> Callable[[Connection], None]:
        return lambda connection: action(migrate.alembic_config(connection), revision)

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.downgrade, before))
            for url, secret in rows:
                await connection.execute(
                    text(
                        "INSERT INTO callback_endpoints (user_id, url, events, secret_encrypted, "
                        "created_at) VALUES (:u, :url, '[\"message.status\"]', :s, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"u": user.id, "url": url, "s": secret},
                )
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.upgrade, "head"))
    async with db.engine.connect() as connection:
        kept = (
            await connection.execute(
                text(
                    "SELECT url, secret_encrypted, previous_secret_encrypted,"
                    " previous_secret_expires_at IS NOT NULL FROM callback_endpoints ORDER BY id"
                )
            )
        ).all()
    assert [tuple(row) for row in kept] == [
        ("https://93.184.215.14/h", "newest-secret", "oldest-secret", True),
        ("https://93.184.215.14/other", "other-secret", None, False),
    ]
    await db.clean()


async def test_callbacks_that_took_every_event_are_given_message_received(
    db: DatabaseUnderTest,
) -> None:
    """0017: a callback that took every event before ``message.received`` existed takes it
    too; one that chose a subset keeps its choice; downgrading takes it off again."""
    await db.clean()
    user = await add_user(db, "received@example.com")
    choices = [
        '["message.status", "template.updated"]',
        '["message.status"]',
        '["template.updated"]',
    ]

    def run(action: Callable[..., None], revision: str) -> Callable[[Connection], None]:
        return lambda connection: action(migrate.alembic_config(connection), revision)

    async def events() -> list[object]:
        async with db.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT events FROM callback_endpoints ORDER BY id")
            )
            return [row[0] if isinstance(row[0], list) else json.loads(row[0]) for row in rows]

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.downgrade, "0016_two_way"))
            for n, chosen in enumerate(choices):
                await connection.execute(
                    text(
                        "INSERT INTO callback_endpoints (user_id, url, events, secret_encrypted, "
                        "created_at) VALUES (:u, :url, :e, 's', CURRENT_TIMESTAMP)"
                    ),
                    {"u": user.id, "url": f"https://93.184.215.14/{n}", "e": chosen},
                )
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.upgrade, "head"))
    # At head 0020 gives it channel.updated too (it still took every event there was).
    assert await events() == [
        ["message.status", "template.updated", "message.received", "channel.updated"],
        ["message.status"],
        ["template.updated"],
    ]
    async with db.engine.begin() as connection:
        await connection.run_sync(run(command.downgrade, "0016_two_way"))
    assert await events() == [
        ["message.status", "template.updated"],
        ["message.status"],
        ["template.updated"],
    ]
    async with db.engine.begin() as connection:
        await connection.run_sync(run(command.upgrade, "head"))
    await db.clean()


async def test_callbacks_that_took_every_event_are_given_channel_updated(
    db: DatabaseUnderTest,
) -> None:
    """0020: a callback that took every event before ``channel.updated`` existed takes it
    too; one that chose a subset keeps its choice; downgrading takes it off again."""
    await db.clean()
    user = await add_user(db, "health@example.com")
    choices = [
        '["message.status", "template.updated", "message.received"]',
        '["message.status", "template.updated"]',
    ]

    def run(action: Callable[..., None], revision: str) -> Callable[[Connection], None]:
        return lambda connection: action(migrate.alembic_config(connection), revision)

    async def events() -> list[object]:
        async with db.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT events FROM callback_endpoints ORDER BY id")
            )
            return [row[0] if isinstance(row[0], list) else json.loads(row[0]) for row in rows]

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.downgrade, "0019_pricing"))
            for n, chosen in enumerate(choices):
                await connection.execute(
                    text(
                        "INSERT INTO callback_endpoints (user_id, url, events, secret_encrypted, "
                        "created_at) VALUES (:u, :url, :e, 's', CURRENT_TIMESTAMP)"
                    ),
                    {"u": user.id, "url": f"https://93.184.215.14/{n}", "e": chosen},
                )
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.upgrade, "head"))
    assert await events() == [
        ["message.status", "template.updated", "message.received", "channel.updated"],
        ["message.status", "template.updated"],
    ]
    async with db.engine.begin() as connection:
        await connection.run_sync(run(command.downgrade, "0019_pricing"))
    assert await events() == [
        ["message.status", "template.updated", "message.received"],
        ["message.status", "template.updated"],
    ]
    async with db.engine.begin() as connection:
        await connection.run_sync(run(command.upgrade, "head"))
    await db.clean()


async def test_a_single_channel_database_gets_its_default_and_template_wabas(
    db: DatabaseUnderTest,
) -> None:
    """0018: each existing channel (a user's only one) becomes its user's default, and each
    template takes its channel's WABA; a second channel then fits beside the first."""
    await db.clean()
    user = await add_user(db, "senders@example.com")

    def run(action: Callable[..., None], revision: str) -> Callable[[Connection], None]:
        return lambda connection: action(migrate.alembic_config(connection), revision)

    channel = (
        "INSERT INTO channels (user_id, provider, base_url, api_version, phone_number_id, "
        "waba_id, access_token_encrypted, app_secret_encrypted, verify_token_hash, "
        "throughput_per_second, is_sandbox, created_at, updated_at) VALUES (:u, 'cloud', "
        "'http://x', 'v23.0', :n, 'waba-1', 't', 's', 'h', 80, false, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)"
    )
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.downgrade, "0017_message_received"))
            await connection.execute(text(channel), {"u": user.id, "n": "111"})
            channel_id = (await connection.execute(text("SELECT id FROM channels"))).scalar_one()
            await connection.execute(
                text(
                    "INSERT INTO templates (user_id, channel_id, name, language, category, "
                    "state, body, buttons, placeholder_count, created_at, updated_at) VALUES "
                    "(:u, :c, 'hello', 'en', 'UTILITY', 'APPROVED', 'Hi', '[]', 0, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"u": user.id, "c": channel_id},
            )
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(run(command.upgrade, "head"))
    async with db.engine.begin() as connection:
        defaults = (await connection.execute(text("SELECT is_default FROM channels"))).all()
        wabas = (await connection.execute(text("SELECT waba_id FROM templates"))).all()
        assert [bool(row[0]) for row in defaults] == [True]
        # On SQLite the tables were copied: their children kept their references.
        assert [row[0] for row in wabas] == ["waba-1"]
        kept = await connection.execute(text("SELECT channel_id FROM templates"))
        assert kept.scalar_one() is not None
        await connection.execute(text(channel), {"u": user.id, "n": "222"})
        assert (await connection.execute(text("SELECT COUNT(*) FROM channels"))).scalar_one() == 2
    await db.clean()
