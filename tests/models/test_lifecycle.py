"""The lifecycle table: never backwards, in Python and in SQL alike."""

from __future__ import annotations

import itertools

from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from herald.models import Message, lifecycle
from herald.models.lifecycle import (
    CANCELLED,
    DELIVERED,
    FAILED,
    LIFECYCLE,
    QUEUED,
    READ,
    SENDING,
    SENT,
    STATES,
    STEPS,
)


def test_every_state_has_a_place_in_the_table() -> None:
    assert set(LIFECYCLE) == set(STATES)
    for state in LIFECYCLE.values():
        assert set(state.to) <= set(STATES)


def test_a_step_never_leads_back_to_an_earlier_step() -> None:
    for earlier, later in itertools.combinations(STEPS, 2):
        assert lifecycle.may_move(earlier, later)
        assert not lifecycle.may_move(later, earlier)
    for final in lifecycle.FINAL:
        assert not any(lifecycle.may_move(final, other) for other in STATES)


def test_provider_reports_move_only_what_it_has() -> None:
    assert lifecycle.reported_moves(SENDING, READ)
    assert lifecycle.reported_moves(SENT, FAILED)
    assert not lifecycle.reported_moves(DELIVERED, FAILED)
    assert not lifecycle.reported_moves(QUEUED, SENT)
    assert not lifecycle.reported_moves(QUEUED, FAILED)  # Herald's own: not the provider's
    assert not lifecycle.reported_moves("unheard-of", SENT)


def test_the_sql_rule_is_the_python_rule() -> None:
    engine = create_engine("sqlite://")
    table = Table("rows", MetaData(), Column("state", String(10)))
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"state": s} for s in STATES])
        for new in STATES:
            rows = connection.execute(select(table.c.state, lifecycle.moved_to(table.c.state, new)))
            for current, moved in rows:
                assert moved == (new if lifecycle.may_move(current, new) else current)


def test_callbacks_announce_skipped_steps_in_order() -> None:
    assert lifecycle.announced(READ) == (SENT, DELIVERED, READ)
    assert lifecycle.announced(FAILED) == (FAILED,)
    assert lifecycle.announced(CANCELLED) == (CANCELLED,)
    assert lifecycle.announced(QUEUED) == ()
    assert lifecycle.not_yet(SENT) == ("delivered_at", "read_at", "failed_at")
    assert lifecycle.not_yet(FAILED) == ("delivered_at", "read_at")
    assert lifecycle.not_yet(READ) == ("failed_at",)


def test_the_funnel_counts_a_read_message_as_sent_and_delivered() -> None:
    assert lifecycle.FUNNEL == (QUEUED, SENT, DELIVERED, READ, FAILED)
    assert set(lifecycle.reached(SENT)) == {SENT, DELIVERED, READ}
    assert lifecycle.reached(QUEUED) == STATES


def test_every_state_fits_the_column() -> None:
    length = Message.__table__.c.state.type.length
    assert all(len(state) <= length for state in STATES)
