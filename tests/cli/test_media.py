"""``herald media upload``, then the file as a CSV's header_media_id, through a live Herald."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.cli.helpers import herald
from tests.cli.test_send import credentials
from tests.live_herald import Live
from tests.media import files
from tests.media.test_sending import approved_document_template, wait_until_read


async def test_an_uploaded_invoice_goes_out_as_each_rows_header(
    live: Live, live_ana: dict[str, str], tmp_path: Path
) -> None:
    invoice = tmp_path / "invoice-april.pdf"
    invoice.write_bytes(files.pdf(50_000))
    uploaded = await asyncio.to_thread(
        herald, "media", "upload", str(invoice), "--json", env=credentials(live)
    )
    assert uploaded.returncode == 0, uploaded.stderr
    media = json.loads(uploaded.stdout)
    assert (media["type"], media["size"]) == ("document", 50_000)

    template_id = await approved_document_template(live, live_ana)
    recipients = tmp_path / "invoices.csv"
    recipients.write_text(
        "to,country_code,param1,param2,header_media_id\n"
        f"21696816271,TN,Sam,INV-1,{media['media_id']}\n"
        f"21696816272,TN,Lea,INV-2,{media['media_id']}\n"
    )
    sent = await asyncio.to_thread(
        herald, "send-bulk", str(template_id), str(recipients), "--json", env=credentials(live)
    )
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["queued"] == 2
    one_for_all = tmp_path / "one-invoice-for-all.csv"
    one_for_all.write_text("to,country_code,param1,param2\n21696816273,TN,Ana,INV-3\n")
    shared = await asyncio.to_thread(
        herald, "send-bulk", str(template_id), str(one_for_all), "--json",
        "--header-media-id", str(media["media_id"]), env=credentials(live),
    )  # fmt: skip
    assert shared.returncode == 0, shared.stderr
    history = await live.herald.get(
        "/api/whatsapp/", params={"template_id": template_id}, headers=live_ana
    )
    await wait_until_read(live, live_ana, [m["id"] for m in history.json()["data"]["items"]])


def test_upload_of_a_missing_file_says_so(tmp_path: Path) -> None:
    done = herald("media", "upload", str(tmp_path / "nowhere.pdf"), env={"HERALD_TOKEN": "t"})
    assert done.returncode == 6
    assert "nowhere.pdf" in done.stderr
