"""The emulator's template events after review, in Meta's shapes: status (flag, pause,
deletion), quality and category, each sent once, when something changed."""

from __future__ import annotations

from typing import Any

from tests.emulator.test_app import (
    WABA,
    Emulator,
    create,
    emulator,
    error_code,
    receiver,
    send,
)

__all__ = ["emulator", "receiver"]  # the fixtures, shared with test_app

IDS = ("message_template_id", "message_template_name", "message_template_language")


async def changes_of(emulator: Emulator, field: str) -> list[dict[str, Any]]:
    await emulator.drain()
    return [c["value"] for c in emulator.receiver.changes() if c["field"] == field]


async def approved(emulator: Emulator) -> str:
    template_id = await create(emulator)
    await emulator.http.post(f"/_emulator/templates/{template_id}/approve")
    return template_id


async def test_a_quality_change_is_metas_quality_webhook_once(emulator: Emulator) -> None:
    template_id = await approved(emulator)
    for score in ("yellow", "RED", "RED"):  # the same score again: nothing to tell
        answer = await emulator.http.post(
            f"/_emulator/templates/{template_id}/quality", json={"quality": score}
        )
        assert answer.status_code == 200, answer.text
    assert answer.json()["quality"] == "RED"
    assert await changes_of(emulator, "message_template_quality_update") == [
        {
            "previous_quality_score": "UNKNOWN",
            "new_quality_score": "YELLOW",
            "message_template_id": int(template_id),
            "message_template_name": "order_update",
            "message_template_language": "en",
        },
        {
            "previous_quality_score": "YELLOW",
            "new_quality_score": "RED",
            "message_template_id": int(template_id),
            "message_template_name": "order_update",
            "message_template_language": "en",
        },
    ]


async def test_a_recategorisation_is_metas_category_webhook_and_listed(
    emulator: Emulator,
) -> None:
    template_id = await approved(emulator)
    answer = await emulator.http.post(
        f"/_emulator/templates/{template_id}/category", json={"category": "MARKETING"}
    )
    assert answer.status_code == 200, answer.text
    again = f"/_emulator/templates/{template_id}/category"
    await emulator.http.post(again, json={"category": "MARKETING"})  # unchanged: no webhook
    (change,) = await changes_of(emulator, "template_category_update")
    assert change == {
        "message_template_id": int(template_id),
        "message_template_name": "order_update",
        "message_template_language": "en",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    listed = await emulator.http.get(
        f"/v23.0/{WABA}/message_templates",
        params={"fields": "name,category,previous_category"},  # not among Meta's defaults
        headers={"Authorization": "Bearer emulator-token"},
    )
    (shown,) = listed.json()["data"]
    assert (shown["category"], shown["previous_category"]) == ("MARKETING", "UTILITY")


async def test_bad_quality_or_category_is_400_and_sends_nothing(emulator: Emulator) -> None:
    template_id = await approved(emulator)
    for route, body in (("quality", {"quality": "PURPLE"}), ("category", {"category": "PROMO"})):
        answer = await emulator.http.post(f"/_emulator/templates/{template_id}/{route}", json=body)
        assert answer.status_code == 400
    unknown = await emulator.http.post("/_emulator/templates/1/quality", json={"quality": "RED"})
    assert unknown.status_code == 404
    assert await changes_of(emulator, "message_template_quality_update") == []
    assert await changes_of(emulator, "template_category_update") == []


async def test_a_flag_leaves_the_template_sendable_and_pending_deletion_does_not(
    emulator: Emulator,
) -> None:
    template_id = await approved(emulator)
    flagged = await emulator.http.post(f"/_emulator/templates/{template_id}/flag")
    assert flagged.json()["status"] == "APPROVED"
    assert (await send(emulator)).status_code == 200
    going = await emulator.http.post(f"/_emulator/templates/{template_id}/pending-deletion")
    assert going.json()["status"] == "PENDING_DELETION"
    assert error_code(await send(emulator)) == (132001, None)
    statuses = await changes_of(emulator, "message_template_status_update")
    assert [(s["event"], s["reason"]) for s in statuses] == [
        ("APPROVED", "NONE"),
        ("FLAGGED", "NONE"),
        ("PENDING_DELETION", None),  # Meta's reason is null for a deletion
    ]
    assert all(s["message_template_category"] == "UTILITY" for s in statuses)
    assert all(set(IDS) <= set(s) for s in statuses)
