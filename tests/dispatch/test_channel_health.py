"""A channel's health reaching the dispatcher (frozen clock, real databases): a restricted or
banned channel's messages are not claimed while another channel's are, and are again when the
restriction lifts (an event, or its end passing) or the ban is lifted; a throughput upgrade is
the pacer's rate at the runner's next claim, without a restart."""

from __future__ import annotations

from datetime import datetime, timedelta

from herald.background import dispatch_deps
from herald.channel import repository as channels
from herald.channel.health import apply_account_event, sending_hold
from herald.config import Settings
from herald.db import session_factory
from herald.dispatch import repository
from herald.dispatch.runner import ChannelRunner
from herald.features import FEATURES
from herald.kit.clock import FrozenClock
from herald.models import User
from herald.provider.account_events import (
    AccountEvent,
    AccountUpdate,
    NumberQualityUpdate,
    Restriction,
)
from herald.runtime import open_runtime
from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_leases import _queue

SENDING = "RESTRICTED_BIZ_INITIATED_MESSAGING"


async def _apply(db: DatabaseUnderTest, event: AccountEvent, now: datetime) -> int:
    async with session_factory(db.engine)() as session:
        changed = await apply_account_event(session, event, now)
        await session.commit()
    return changed


async def _due(db: DatabaseUnderTest, now: datetime) -> set[int]:
    async with session_factory(db.engine)() as session:
        return set(await repository.channels_with_due(session, now))


async def _waba(db: DatabaseUnderTest, channel_id: int) -> str:
    async with session_factory(db.engine)() as session:
        channel = await channels.get(session, channel_id)
        assert channel is not None
        return channel.waba_id


async def test_a_restricted_or_banned_channel_waits_while_another_sends(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    anas = await _queue(db, ana, settings, now, 2)
    bob = await add_user(db, "bob@example.com")
    bobs = await _queue(db, bob, settings, now, 1)
    waba = await _waba(db, anas)
    assert waba != await _waba(db, bobs)
    assert await _due(db, now) == {anas, bobs}

    ends = now + timedelta(hours=1)
    restriction = AccountUpdate(waba, "ACCOUNT_RESTRICTION", None, (Restriction(SENDING, ends),))
    assert await _apply(db, restriction, now) == 1
    assert await _due(db, now) == {bobs}
    async with session_factory(db.engine)() as session:
        channel = await channels.get(session, anas)
        assert channel is not None
        assert (channel.account_status, channel.restricted_until) == ("RESTRICTED", ends)
        assert "restricted business-initiated messaging" in (sending_hold(channel, now) or "")
    # Its end passing lifts it, with no event.
    assert await _due(db, ends + timedelta(seconds=1)) == {anas, bobs}

    # Another restriction (no end given) lifted by an event naming none.
    indefinite = AccountUpdate(waba, "ACCOUNT_RESTRICTION", None, (Restriction(SENDING, None),))
    await _apply(db, indefinite, now)
    assert await _due(db, now + timedelta(days=30)) == {bobs}
    assert await _apply(db, AccountUpdate(waba, "ACCOUNT_RESTRICTION", None), now) == 1
    assert await _due(db, now) == {anas, bobs}

    # A restriction of something else (adding numbers) does not hold sends.
    other = Restriction("RESTRICTED_ADD_PHONE_NUMBER_ACTION", None)
    await _apply(db, AccountUpdate(waba, "ACCOUNT_RESTRICTION", None, (other,)), now)
    assert await _due(db, now) == {anas, bobs}

    # A ban, then its lifting.
    await _apply(db, AccountUpdate(waba, "DISABLED_UPDATE", None, ban_state="DISABLE"), now)
    assert await _due(db, now + timedelta(days=365)) == {bobs}
    await _apply(db, AccountUpdate(waba, "DISABLED_UPDATE", None, ban_state="REINSTATE"), now)
    assert await _due(db, now) == {anas, bobs}

    # A ban lifted while a sending restriction still holds leaves the channel restricted.
    await _apply(db, indefinite, now)
    await _apply(db, AccountUpdate(waba, "DISABLED_UPDATE", None, ban_state="DISABLE"), now)
    await _apply(db, AccountUpdate(waba, "DISABLED_UPDATE", None, ban_state="REINSTATE"), now)
    assert await _due(db, now) == {bobs}


async def test_a_runner_claims_nothing_of_a_channel_restricted_meanwhile(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    anas = await _queue(db, ana, settings, now, 2)
    waba = await _waba(db, anas)
    async with open_runtime(settings, clock, FEATURES) as runtime:
        runner = ChannelRunner(dispatch_deps(runtime), anas, "test:1")
        restriction = AccountUpdate(
            waba, "ACCOUNT_RESTRICTION", None, (Restriction(SENDING, None),)
        )
        await _apply(db, restriction, now)
        claimed = await runner._claim_due()
        assert claimed is not None
        assert claimed[2] == []
        await _apply(db, AccountUpdate(waba, "ACCOUNT_RESTRICTION", None), now)
        claimed = await runner._claim_due()
        assert claimed is not None
        assert len(claimed[2]) == 2
        await runner._give_back_claimed({claimed[1]: [m.id for m in claimed[2]]})


async def test_a_throughput_upgrade_is_the_pacers_rate_at_the_next_claim(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    anas = await _queue(db, ana, settings, now, 0)
    async with session_factory(db.engine)() as session:
        channel = await channels.get(session, anas)
        assert channel is not None
        waba, display = channel.waba_id, channel.display_number or ""
        assert channel.throughput_per_second == 80
    async with open_runtime(settings, clock, FEATURES) as runtime:
        runner = ChannelRunner(dispatch_deps(runtime), anas, "test:1")
        await runner._claim_due()
        assert runner.pacer.interval == 1 / 80
        upgrade = NumberQualityUpdate(
            waba, display, "THROUGHPUT_UPGRADE", None, None, None, throughput_per_second=1000
        )
        assert await _apply(db, upgrade, now) == 1
        await runner._claim_due()  # the same runner: no restart
        assert runner.pacer.interval == 1 / 1000
