"""Meta's account webhooks read into typed events (provider/account_events.py): the payloads of
Meta's webhook reference pages, each event kind, and whatever is unknown skipped, never an
error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from herald.provider.account_events import (
    AccountUpdate,
    CapabilityUpdate,
    NumberQualityUpdate,
    Restriction,
    tier_of,
)
from herald.provider.events import parse_webhook

WABA = "102290129340398"


def delivery(*changes: tuple[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA,
                    "time": 1739321024,
                    "changes": [{"field": f, "value": v} for f, v in changes],
                }
            ],
        }
    )


def test_meta_reference_examples() -> None:
    events = parse_webhook(
        delivery(
            # phone_number_quality_update's example (a throughput upgrade)
            (
                "phone_number_quality_update",
                {
                    "display_phone_number": "15550783881",
                    "event": "THROUGHPUT_UPGRADE",
                    "current_limit": "TIER_UNLIMITED",
                },
            ),
            (
                "phone_number_quality_update",
                {
                    "display_phone_number": "15550783881",
                    "event": "DOWNGRADE",
                    "old_limit": "TIER_10K",
                    "current_limit": "TIER_2K",  # the tier after 250 since 2025
                },
            ),
            (
                "account_update",
                {
                    "event": "ACCOUNT_RESTRICTION",
                    "phone_number": "15550783881",
                    "restriction_info": [
                        {
                            "restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                            "expiration": 1641330498,
                        },
                        {
                            "restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION",
                            "expiration": "2022-12-12T07:09:27.000Z",
                        },
                    ],
                },
            ),
            (
                "account_update",
                {
                    "event": "DISABLED_UPDATE",
                    "ban_info": {"waba_ban_state": "REINSTATE", "waba_ban_date": "April 17, 2025"},
                },
            ),
            (
                "account_update",
                {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "ADULT"}},
            ),
            (
                "business_capability_update",
                {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25},
            ),
        )
    )
    assert events == [
        NumberQualityUpdate(WABA, "15550783881", "THROUGHPUT_UPGRADE", None, None, None, 1000),
        NumberQualityUpdate(WABA, "15550783881", "DOWNGRADE", None, "TIER_2K", "TIER_10K", None),
        AccountUpdate(
            WABA,
            "ACCOUNT_RESTRICTION",
            "15550783881",
            (
                Restriction(
                    "RESTRICTED_BIZ_INITIATED_MESSAGING", datetime.fromtimestamp(1641330498, UTC)
                ),
                Restriction(
                    "RESTRICTED_ADD_PHONE_NUMBER_ACTION",
                    datetime(2022, 12, 12, 7, 9, 27, tzinfo=UTC),
                ),
            ),
        ),
        AccountUpdate(WABA, "DISABLED_UPDATE", None, ban_state="REINSTATE"),
        AccountUpdate(WABA, "ACCOUNT_VIOLATION", None, violation_type="ADULT"),
        CapabilityUpdate(WABA, "TIER_2K"),
    ]


def test_a_flag_tells_the_quality() -> None:
    [flagged] = parse_webhook(
        delivery(
            (
                "phone_number_quality_update",
                {
                    "display_phone_number": "+1 555 0100",
                    "event": "FLAGGED",
                    "current_limit": "TIER_1K",
                },
            )
        )
    )
    assert isinstance(flagged, NumberQualityUpdate)
    assert (flagged.quality_rating, flagged.tier) == ("RED", "TIER_1K")


def test_unknown_events_and_values_are_skipped() -> None:
    events = parse_webhook(
        delivery(
            ("phone_number_quality_update", {"event": "FLAGGED"}),  # no number
            ("phone_number_quality_update", {"display_phone_number": "1", "event": "NEW_THING"}),
            ("account_update", {"event": "PARTNER_ADDED", "waba_info": {}}),
            ("account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": "odd"}),
            ("account_update", {"event": "DISABLED_UPDATE", "ban_info": "odd"}),
            ("business_capability_update", {"max_phone_numbers_per_waba": 25}),
            ("business_capability_update", {"max_daily_conversation_per_phone": "lots"}),
            ("account_alerts", {"alert_info": {}}),
        )
    )
    # A restriction event without its restrictions says nothing (only an empty list lifts
    # them); a ban event without its state changes nothing (see channel/health.py).
    assert events == [AccountUpdate(WABA, "DISABLED_UPDATE", None)]


def test_tiers() -> None:
    assert [
        tier_of(v) for v in ("TIER_250", "tier_10k", 100000, "-1", -1, "TIER_NOT_SET", None)
    ] == [
        "TIER_250",
        "TIER_10K",
        "TIER_100K",
        "TIER_UNLIMITED",
        "TIER_UNLIMITED",
        None,
        None,
    ]
