"""Models and migrations agree, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from herald import migrate
from herald.models import Base
from tests.conftest import DatabaseUnderTest


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
