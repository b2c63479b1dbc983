"""The emulator's messaging limit (``emulator/messaging_limit.py``): unique customers per WABA
in a rolling 24 h, off unless a tier is set."""

from __future__ import annotations

from herald.emulator.messaging_limit import WINDOW_SECONDS, MessagingLimits


def test_no_tier_no_limit() -> None:
    limits = MessagingLimits()
    assert all(limits.admits("waba", f"{n}", now=0.0) for n in range(10_000))
    assert limits.usage("waba", now=0.0) == 0  # not even counted


def test_unique_customers_in_a_rolling_day() -> None:
    limits = MessagingLimits()
    limits.set_tier("waba", "TIER_50")
    assert all(limits.admits("waba", f"{n}", now=float(n)) for n in range(50))
    assert not limits.admits("waba", "new", now=100.0)
    assert limits.admits("waba", "7", now=100.0)  # already a customer of the window
    assert limits.admits("other", "new", now=100.0)  # another WABA: its own window
    # Customer 0's day ended: one place frees.
    assert limits.admits("waba", "new", now=WINDOW_SECONDS + 0.5)
    assert not limits.admits("waba", "newer", now=WINDOW_SECONDS + 0.5)


def test_unlimited_and_cleared() -> None:
    limits = MessagingLimits()
    limits.set_tier("waba", "TIER_50")
    for n in range(50):
        limits.admits("waba", f"{n}", now=0.0)
    limits.set_tier("waba", "TIER_UNLIMITED")
    assert limits.admits("waba", "new", now=1.0)
    limits.set_tier("waba", None)
    assert limits.usage("waba", now=1.0) == 0
