"""``herald send-text`` against a live Herald: refused outside the customer's window, queued
and read inside it, as a reply to the customer's message."""

from __future__ import annotations

import asyncio

from tests.cli.helpers import herald
from tests.cli.test_send import credentials
from tests.dispatch.test_end_to_end import approved_template
from tests.dispatch.test_free_form_live import customer_writes
from tests.live_herald import Live, eventually


async def test_send_text_is_refused_outside_the_window_and_read_inside_it(
    live: Live, live_ana: dict[str, str]
) -> None:
    await approved_template(live, live_ana)  # the channel, made with the first template
    number_id = str((await live.emulator.get("/_emulator/templates")).json()[0]["waba_id"])
    args = ("send-text", "--to", "21696816277", "--country-code", "TN")
    closed = await asyncio.to_thread(herald, *args, "Hello", env=credentials(live))
    assert closed.returncode == 4  # a conflict, as every 409
    assert "window_closed" in closed.stderr

    inbound_id, _ = await customer_writes(live, number_id)
    done = await asyncio.to_thread(
        herald,
        *args,
        "It left this morning.",
        "--reply-to",
        str(inbound_id),
        "--idempotency-key",
        "reply-1",
        env=credentials(live),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Queued text message ")
    message_id = int(done.stdout.split()[3])

    async def read() -> bool:
        answer = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
        return bool(answer.json()["data"]["state"] == "read")

    await eventually(read, message="the text sent from the command line is read")
    sent = (await live.emulator.get("/_emulator/messages")).json()
    [text] = [m["payload"] for m in sent if m["payload"]["type"] == "text"]
    assert text["text"] == {"body": "It left this morning.", "preview_url": False}
    assert "context" in text
