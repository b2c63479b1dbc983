"""template events: Meta's category and flag kept on the template, template.updated callbacks

Revision ID: 0015_template_events
Revises: 0014
Create Date: 2026-12-03 17:30:00

Meta re-categorises templates (a UTILITY template made MARKETING costs more) and flags them
(negative feedback, at risk of being paused): the template keeps the category it had before
and when it was flagged. Each change of a template's state, category, quality or flag is told
to its owner's callbacks as a ``template.updated`` event, through the same outbox as message
events: a delivery is about a message or about a template (with the event as of the change,
since a template keeps no history to rebuild it from later).

Existing callbacks were registered when ``message.status`` was every event there was; they
are given ``template.updated`` too, as new callbacks are by default. Downgrading drops the
template deliveries and takes ``template.updated`` off the callbacks again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0015_template_events"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TEMPLATE_UPDATED = "template.updated"

endpoints = sa.table(
    "callback_endpoints", sa.column("id", sa.BigInteger()), sa.column("events", sa.JSON())
)
deliveries = sa.table("callback_deliveries", sa.column("message_id", sa.BigInteger()))

# The partial indexes of callback_deliveries, made again around SQLite's copy of the table
# (a copy does not keep an index's WHERE everywhere).
PARTIAL = (
    ("ix_callback_deliveries_due", ["next_attempt_at"], "done_at IS NULL", "done_at IS NULL"),
    ("ix_callback_deliveries_dead", ["endpoint_id", "id"], "delivered = false", "delivered = 0"),
)


def _create_partial() -> None:
    for name, columns, postgresql, sqlite in PARTIAL:
        op.create_index(
            name,
            "callback_deliveries",
            columns,
            postgresql_where=sa.text(postgresql),
            sqlite_where=sa.text(sqlite),
        )


def _set_events(add: bool) -> None:
    connection = op.get_bind()
    for endpoint_id, events in connection.execute(sa.select(endpoints.c.id, endpoints.c.events)):
        kept = [e for e in events or [] if e != TEMPLATE_UPDATED]
        wanted = [*kept, TEMPLATE_UPDATED] if add else kept
        if wanted != events:
            connection.execute(
                sa.update(endpoints).where(endpoints.c.id == endpoint_id).values(events=wanted)
            )


def upgrade() -> None:
    with op.batch_alter_table("templates") as table:
        table.add_column(sa.Column("previous_category", sa.String(length=20), nullable=True))
        table.add_column(
            sa.Column("flagged_at", herald.models.base.UtcDateTime(timezone=True), nullable=True)
        )
    for name, *_ in PARTIAL:
        op.drop_index(name, table_name="callback_deliveries")
    with op.batch_alter_table("callback_deliveries") as table:
        table.alter_column("message_id", existing_type=BIG_ID, nullable=True)
        table.add_column(sa.Column("template_id", BIG_ID, nullable=True))
        table.add_column(sa.Column("event", sa.JSON(), nullable=True))
        table.create_foreign_key(
            op.f("fk_callback_deliveries_template_id_templates"),
            "templates",
            ["template_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _create_partial()
    op.create_index(
        "ix_callback_deliveries_template",
        "callback_deliveries",
        ["template_id", "endpoint_id"],
        postgresql_where=sa.text("template_id IS NOT NULL"),
        sqlite_where=sa.text("template_id IS NOT NULL"),
    )
    _set_events(add=True)


def downgrade() -> None:
    _set_events(add=False)
    op.execute(sa.delete(deliveries).where(deliveries.c.message_id.is_(None)))
    op.drop_index("ix_callback_deliveries_template", table_name="callback_deliveries")
    for name, *_ in PARTIAL:
        op.drop_index(name, table_name="callback_deliveries")
    with op.batch_alter_table("callback_deliveries") as table:
        table.drop_constraint(
            op.f("fk_callback_deliveries_template_id_templates"), type_="foreignkey"
        )
        table.drop_column("event")
        table.drop_column("template_id")
        table.alter_column("message_id", existing_type=BIG_ID, nullable=False)
    _create_partial()
    with op.batch_alter_table("templates") as table:
        table.drop_column("flagged_at")
        table.drop_column("previous_category")
