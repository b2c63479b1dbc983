"""Meta's decisions about a number, driven through the emulator's control API over real HTTP:
each sends its account webhook, signed (quality, throughput upgrade, restriction, ban, in the
shapes of Meta's webhook reference), and changes what the number may send: its own throughput,
368 for a restricted number's templates, 131031 for a banned account's sends."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

# The emulator and its webhook receiver are test_app.py's fixtures, imported (as test_state.py
# does): each test's parameter of the same name is the fixture, not a redefinition.
# ruff: noqa: F811
from tests.emulator.test_app import (
    SECRET,
    WABA,
    Emulator,
    create,
    emulator,  # noqa: F401 - the fixture
    error_code,
    receiver,  # noqa: F401 - the fixture
    send,
    send_payload,
)

NUMBER = f"/_emulator/phone-numbers/{WABA}"
SENDING = "RESTRICTED_BIZ_INITIATED_MESSAGING"


async def approved(emulator: Emulator) -> None:
    template_id = await create(emulator)
    answer = await emulator.http.post(f"/_emulator/templates/{template_id}/approve")
    assert answer.status_code == 200, answer.text


async def decide(emulator: Emulator, route: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await emulator.http.post(f"{NUMBER}/{route}", json=body)
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


async def last_change(emulator: Emulator, field: str) -> dict[str, Any]:
    await emulator.drain()
    for raw, signature in emulator.receiver.received:
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
    changes = [c for c in emulator.receiver.changes() if c["field"] == field]
    assert changes, f"no {field} webhook"
    value: dict[str, Any] = changes[-1]["value"]
    return value


async def test_quality_and_throughput_webhooks(emulator: Emulator) -> None:
    shown = await decide(
        emulator,
        "quality",
        {"event": "FLAGGED", "tier": "TIER_1K", "display_phone_number": "+1 555 0100"},
    )
    assert (shown["quality_rating"], shown["messaging_limit_tier"]) == ("RED", "TIER_1K")
    assert await last_change(emulator, "phone_number_quality_update") == {
        "display_phone_number": "+1 555 0100",
        "event": "FLAGGED",
        "current_limit": "TIER_1K",
    }
    await decide(emulator, "quality", {"event": "DOWNGRADE", "tier": "TIER_250"})
    assert await last_change(emulator, "phone_number_quality_update") == {
        "display_phone_number": "+1 555 0100",  # remembered
        "event": "DOWNGRADE",
        "old_limit": "TIER_1K",
        "current_limit": "TIER_250",
    }
    shown = await decide(emulator, "throughput", {"per_second": 1000})
    assert shown["throughput_per_second"] == 1000
    value = await last_change(emulator, "phone_number_quality_update")
    assert (value["event"], value["current_limit"]) == ("THROUGHPUT_UPGRADE", "TIER_UNLIMITED")
    for bad in ({"event": "NOPE"}, {"event": "UPGRADE", "tier": "TIER_3"}):
        refused = await emulator.http.post(f"{NUMBER}/quality", json=bad)
        assert refused.status_code == 400


async def test_the_number_is_paced_at_its_upgraded_throughput(emulator: Emulator) -> None:
    await approved(emulator)
    await emulator.http.patch(
        "/_emulator/config", json={"throughput_per_second": 1, "throughput_burst_seconds": 0.1}
    )
    assert (await send(emulator)).status_code == 200
    assert error_code(await send(emulator))[0] == 130429  # one a second
    await decide(emulator, "throughput", {"per_second": 1000})
    answers = [await send(emulator, _to(n)) for n in range(20)]
    assert [a.status_code for a in answers] == [200] * 20


def _to(n: int) -> dict[str, Any]:
    return send_payload(to=f"49151123456{n:02d}")


async def test_a_restricted_numbers_templates_are_refused_until_the_lift(
    emulator: Emulator,
) -> None:
    await approved(emulator)
    ends = int(time.time()) + 3600
    restriction = {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [{"restriction_type": SENDING, "expiration": ends}],
    }
    shown = await decide(emulator, "account_update", restriction)
    assert shown["restricted"]
    assert shown["restricted_until"] == ends
    value = await last_change(emulator, "account_update")
    assert value["event"] == "ACCOUNT_RESTRICTION"
    assert value["restriction_info"] == [{"restriction_type": SENDING, "expiration": ends}]
    refused = await send(emulator)
    assert refused.status_code == 403
    assert error_code(refused)[0] == 368
    await decide(
        emulator, "account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": []}
    )
    assert (await send(emulator)).status_code == 200
    bad = {"event": "ACCOUNT_RESTRICTION", "restriction_info": [{"restriction_type": "NOPE"}]}
    assert (await emulator.http.post(f"{NUMBER}/account_update", json=bad)).status_code == 400


async def test_a_restriction_that_has_ended_refuses_nothing(emulator: Emulator) -> None:
    await approved(emulator)
    ended = {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [{"restriction_type": SENDING, "expiration": 1}],
    }
    shown = await decide(emulator, "account_update", ended)
    assert not shown["restricted"]
    assert (await send(emulator)).status_code == 200


async def test_a_banned_account_refuses_every_send_until_reinstated(emulator: Emulator) -> None:
    await approved(emulator)
    shown = await decide(
        emulator, "account_update", {"event": "DISABLED_UPDATE", "ban_state": "DISABLE"}
    )
    assert shown["banned"]
    value = await last_change(emulator, "account_update")
    assert value["ban_info"]["waba_ban_state"] == "DISABLE"
    refused = await send(emulator)
    assert (refused.status_code, error_code(refused)[0]) == (403, 131031)
    await decide(emulator, "account_update", {"event": "DISABLED_UPDATE", "ban_state": "REINSTATE"})
    assert (await send(emulator)).status_code == 200
    await decide(
        emulator, "account_update", {"event": "ACCOUNT_VIOLATION", "violation_type": "SCAM"}
    )
    value = await last_change(emulator, "account_update")
    assert value["violation_info"] == {"violation_type": "SCAM"}


async def test_the_tier_a_quality_webhook_tells_is_the_limit_enforced(emulator: Emulator) -> None:
    await approved(emulator)
    await decide(emulator, "quality", {"event": "DOWNGRADE", "tier": "TIER_50"})
    answers = [await send(emulator, _to(n)) for n in range(51)]
    assert [a.status_code for a in answers[:50]] == [200] * 50
    assert error_code(answers[50])[0] == 131048  # a 51st customer in the day
    assert (await send(emulator, _to(0))).status_code == 200  # already a customer
    await decide(emulator, "quality", {"event": "UPGRADE", "tier": "TIER_250"})
    assert (await send(emulator, _to(50))).status_code == 200
