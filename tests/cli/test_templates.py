"""The shop flow from the command line alone, as a new integrator meets it: create a template
with a tracking button, submit it, wait for approval, send one order confirmation, then a CSV
of 50 twice with the second run sending nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.cli.helpers import herald
from tests.cli.test_send import credentials
from tests.conftest import DatabaseUnderTest
from tests.live_herald import Live
from tests.template.seeds import EVERY_KIND, seed, user_id, waba_of

TRACKING = "https://shop.example.com/track/{{1}}"


async def _herald(live: Live, *args: str) -> Any:
    return await asyncio.to_thread(herald, *args, env=credentials(live))


def _json(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def _messages_of(live: Live, auth: dict[str, str], template_id: int) -> list[dict[str, Any]]:
    answer = await live.herald.get(
        "/api/whatsapp/", params={"template_id": template_id, "limit": 100}, headers=auth
    )
    items: list[dict[str, Any]] = answer.json()["data"]["items"]
    return items


async def test_an_order_confirmation_with_a_tracking_button_from_the_command_line_alone(
    live: Live, live_ana: dict[str, str], tmp_path: Path
) -> None:
    created = _json(
        await _herald(
            live,
            "templates",
            "create",
            "--name",
            "order_confirmation",
            "--language",
            "en",
            "--category",
            "UTILITY",
            "--body",
            "Hello {{1}}, your order {{2}} is confirmed.",
            "--url-button",
            f"Track your order={TRACKING}",
            "--json",
        )
    )
    template_id = str(created["id"])
    assert created["state"] == "DRAFT"
    assert created["buttons"] == [
        {
            "type": "URL",
            "text": "Track your order",
            "url": TRACKING,
            "example": None,
            "phone_number": None,
        }
    ]

    not_submitted = await _herald(live, "templates", "wait", template_id)
    assert not_submitted.returncode == 4
    assert f"herald templates submit {template_id}" in not_submitted.stderr
    send = ("send", template_id, "--to", "21696816277", "--country-code", "TN")
    too_soon = await _herald(live, *send, "--param", "Sam", "--param", "ORD-41")
    assert too_soon.returncode == 6
    assert "template_not_approved" in too_soon.stderr
    assert "herald templates wait" in too_soon.stderr

    submitted = _json(await _herald(live, "templates", "submit", template_id, "--json"))
    assert submitted["state"] == "PENDING"
    approved = await _herald(live, "templates", "wait", template_id, "--interval", "0.1")
    assert approved.returncode == 0, approved.stderr
    assert "APPROVED" in approved.stdout
    listed = _json(await _herald(live, "templates", "list", "--state", "APPROVED", "--json"))
    assert [t["id"] for t in listed] == [created["id"]]

    one = _json(
        await _herald(
            live, *send, "--param", "Sam", "--param", "ORD-41", "--button", "0=ORD-41", "--json"
        )
    )
    assert one["message"]["state"] == "queued"
    no_value = await _herald(live, *send, "--param", "Sam", "--param", "ORD-41", "--json")
    assert no_value.returncode == 6
    assert json.loads(no_value.stderr)["code"] == "invalid_button", no_value.stderr
    otp = await _herald(live, *send, "--param", "Sam", "--param", "X", "--otp-code", "482913")
    assert otp.returncode == 6
    assert "otp_code is only for AUTHENTICATION templates" in otp.stderr
    no_button = await _herald(live, *send, "--param", "Sam", "--param", "X", "--button", "1=X")
    assert no_button.returncode == 6
    assert "no button 1" in no_button.stderr

    rows = ["to,country_code,param1,param2,button0"]
    rows += [f"2169681{n:04d},TN,Sam,ORD-{n},ORD-{n}" for n in range(50)]
    orders = tmp_path / "orders.csv"
    orders.write_text("\n".join(rows) + "\n")
    bulk = ("send-bulk", template_id, str(orders), "--idempotency-key", "orders-2026-12-03")
    first = _json(await _herald(live, *bulk, "--json"))
    assert (first["queued"], first["rejected"]) == (50, [])
    again = _json(await _herald(live, *bulk, "--json"))
    assert again["whatsapp_bulk_group_ids"] == first["whatsapp_bulk_group_ids"]
    messages = await _messages_of(live, live_ana, created["id"])
    assert len(messages) == 51, "the second run sent nothing"

    sent = (await live.emulator.get("/_emulator/messages")).json()
    buttons = [
        c["parameters"]
        for m in sent
        for c in m["payload"]["template"]["components"]
        if c["type"] == "button"
    ]
    assert [{"type": "text", "text": "ORD-41"}] in buttons, "the button's value reached Meta"


async def test_errors_as_json_carry_the_api_code_and_say_what_to_do(
    live: Live, live_ana: dict[str, str], tmp_path: Path
) -> None:
    unknown = await _herald(
        live, "templates", "create", "--name", "x", "--language", "en", "--category", "UTILITY",
        "--body", "Hi", "--field", "colour=red", "--json",
    )  # fmt: skip
    assert unknown.returncode == 6
    error = json.loads(unknown.stderr)
    assert error["code"] == "validation_failed"
    assert error["exit_code"] == 6
    assert "colour" in error["message"]
    assert unknown.stdout == ""

    missing = await _herald(live, "templates", "submit", "999999", "--json")
    assert missing.returncode == 3
    assert json.loads(missing.stderr)["code"] == "template_not_found"


def test_create_reads_the_fields_from_a_json_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "template.json"
    bad.write_text('{"name": "order_confirmation",')
    refused = herald("templates", "create", "--json-file", str(bad), env={})
    assert refused.returncode == 6
    assert "is not valid JSON" in refused.stderr
    bad.write_text('["not", "an", "object"]')
    listed = herald("templates", "create", "--json-file", str(bad), env={})
    assert listed.returncode == 6
    assert "one JSON object" in listed.stderr
    pair = herald("templates", "create", "--url-button", "no-url", env={})
    assert pair.returncode == 6
    assert "--url-button takes TEXT=URL" in pair.stderr


async def test_templates_sync_imports_through_herald_and_on_the_database(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    """`herald templates sync` as the integrator (through the running Herald) and as the
    operator (`herald templates sync USER`, on the database)."""
    first = _json(await _herald(live, "templates", "sync", "--json"))
    assert first == {"created": 0, "updated": 0, "unchanged": 0, "removed": 0}
    await seed(live.emulator, waba_of(await user_id(db)), EVERY_KIND)
    imported = _json(await _herald(live, "templates", "sync", "--json"))
    assert imported == {"created": len(EVERY_KIND), "updated": 0, "unchanged": 0, "removed": 0}

    operator = {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(live.settings.data_dir)}
    # The command calls the emulator served by this test's event loop: run it off the loop.
    done = await asyncio.to_thread(herald, "templates", "sync", "ana@example.com", env=operator)
    assert done.returncode == 0, done.stderr
    assert f"0 imported, 0 updated, {len(EVERY_KIND)} unchanged, 0 deleted at Meta" in done.stdout
    nobody = await asyncio.to_thread(
        herald, "templates", "sync", "nobody@example.com", "--json", env=operator
    )
    assert nobody.returncode == 3
    assert json.loads(nobody.stderr)["code"] == "user_not_found"

    listed = _json(await _herald(live, "templates", "list", "--json"))
    assert {t["name"] for t in listed} == {t["name"] for t in EVERY_KIND}
