"""The pacer keeps a channel's sends spaced when the event loop stalls (a garbage collection,
the machine's other work): the slots that passed meanwhile never leave together."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from herald.dispatch.pacer import Pacer
from herald.emulator.records import bucket_refusals

STALL_SECONDS = 0.2


async def _paced_sends(rate: float, stall_before_the_send_starts: bool) -> list[float]:
    """When 12 sends paced as the channel runner paces them left, the loop blocked for
    ``STALL_SECONDS`` once: while the pacer waits for a slot, or between a send's slot and
    its start."""
    pacer = Pacer(rate)
    left: list[float] = []

    async def leaving() -> None:
        pacer.left()
        left.append(time.monotonic())

    loop = asyncio.get_running_loop()
    sends = []
    for number in range(12):
        await pacer.slot()
        if number == 4 and stall_before_the_send_starts:
            loop.call_soon(time.sleep, STALL_SECONDS)  # runs before the send's first step
        sends.append(asyncio.create_task(leaving()))
        if number == 4 and not stall_before_the_send_starts:
            loop.call_later(0.5 / rate, time.sleep, STALL_SECONDS)  # while the pacer waits
        await asyncio.sleep(0)  # the send starts now, unless the loop stalls first
    await asyncio.gather(*sends)
    return left


@pytest.mark.parametrize("before_the_send_starts", [False, True])
async def test_a_stalled_loop_never_starts_two_sends_together(before_the_send_starts: bool) -> None:
    """At 20/s no catch-up is allowed: every send leaves a full interval after the one before,
    stall or not, and Meta's tolerance (the emulator's bucket) refuses none."""
    rate = 20
    left = await _paced_sends(rate, before_the_send_starts)
    gaps = [later - earlier for earlier, later in itertools.pairwise(left)]
    assert max(gaps) >= STALL_SECONDS  # the stall happened
    assert min(gaps) >= 1 / rate - 0.002
    assert bucket_refusals(left, rate) == 0


@pytest.mark.parametrize("before_the_send_starts", [False, True])
async def test_after_a_stall_the_catch_up_stays_within_the_tolerance(
    before_the_send_starts: bool,
) -> None:
    """At 100/s a sender that fell behind may catch up a few sends, never more than Meta's
    tolerance allows."""
    rate = 100
    left = await _paced_sends(rate, before_the_send_starts)
    assert max(b - a for a, b in itertools.pairwise(left)) >= STALL_SECONDS
    assert bucket_refusals(left, rate) == 0
