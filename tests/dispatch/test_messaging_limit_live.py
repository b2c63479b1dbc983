"""Meta refuses a template past the business's messaging limit (the emulator enforcing a tier
Herald was never told of, as when several API processes race past it): the dispatcher holds
the refused messages, and the WABA's other sends to new customers, instead of failing them."""

from __future__ import annotations

from tests.dispatch.test_end_to_end import approved_template, messages_of
from tests.dispatch.test_template_holds import counts, provider_template, refused
from tests.live_herald import Live, eventually


async def test_a_refusal_for_the_messaging_limit_holds_instead_of_failing(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    waba_id = (await provider_template(live))["waba_id"]
    wrong = await live.emulator.put(
        f"/_emulator/wabas/{waba_id}/messaging_limit", json={"tier": "TIER_7"}
    )
    assert wrong.status_code == 400
    tier = await live.emulator.put(
        f"/_emulator/wabas/{waba_id}/messaging_limit", json={"tier": "TIER_50"}
    )
    assert tier.status_code == 200, tier.text
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={
            "recipients": [
                {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
                for n in range(60)
            ]
        },
        headers=live_ana,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["data"]["held"] is None  # Herald knows no tier: nothing held at intake
    group = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def settled() -> bool:
        by_state = await counts(live, live_ana, group)
        return (
            by_state.get("queued") == 10
            and sum(by_state.values()) == 60
            and not any(
                m["state"] == "queued" and m["held_reason"] is None
                for m in await messages_of(live, live_ana, group)
            )
        )

    await eventually(settled, timeout=60, message="50 sent, 10 held")
    by_state = await counts(live, live_ana, group)
    assert "failed" not in by_state
    assert await refused(live, 131048) >= 1
    stats = (await live.emulator.get("/_emulator/stats")).json()
    assert stats["accepted"] == 50
    held = [m for m in await messages_of(live, live_ana, group) if m["state"] == "queued"]
    assert {m["held_reason"] for m in held} == {"messaging_limit"}
    # Due when the window frees: a day after the first of the 50 went out.
    assert all(m["scheduled_at"] is not None for m in held)
