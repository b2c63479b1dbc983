"""Meta's messaging limit, as the emulator enforces it when told a tier: the unique customers a
business reaches with templates outside a customer-service window, over a rolling 24 hours of
the emulator's clock. Past the tier Meta refuses the send with 131048 ("Spam rate limit hit":
restrictions on how many messages the number may send).

Meta sets the limit per business portfolio since October 2025 (all its numbers share it); the
emulator knows no portfolios, so a WABA stands for one. Off by default: a WABA without a tier
(or with TIER_UNLIMITED) is not counted at all, and nothing else changes."""

from __future__ import annotations

import time

SPAM_RATE_LIMIT = 131048
WINDOW_SECONDS = 24 * 3600
TIERS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}


class MessagingLimits:
    def __init__(self) -> None:
        self.tiers: dict[str, str] = {}  # WABA id → tier (only those set)
        # WABA id → customer (wa_id) → when a template last reached them (epoch seconds).
        self._reached: dict[str, dict[str, float]] = {}

    def set_tier(self, waba_id: str, tier: str | None) -> None:
        if tier is None:
            self.tiers.pop(waba_id, None)
            self._reached.pop(waba_id, None)
        else:
            self.tiers[waba_id] = tier

    def usage(self, waba_id: str, now: float | None = None) -> int:
        moment = time.time() if now is None else now
        reached = self._reached.get(waba_id, {})
        return sum(1 for at in reached.values() if moment - at < WINDOW_SECONDS)

    def admits(self, waba_id: str, wa_id: str, now: float | None = None) -> bool:
        """Whether a template to ``wa_id`` stays within the WABA's tier; counts it if so."""
        limit = TIERS.get(self.tiers.get(waba_id, "TIER_UNLIMITED"))
        if limit is None:
            return True
        moment = time.time() if now is None else now
        reached = self._reached.setdefault(waba_id, {})
        last = reached.get(wa_id)
        if last is None or moment - last >= WINDOW_SECONDS:
            expired = [n for n, at in reached.items() if moment - at >= WINDOW_SECONDS]
            for number in expired:
                del reached[number]
            if len(reached) >= limit:
                return False
        reached[wa_id] = moment
        return True
