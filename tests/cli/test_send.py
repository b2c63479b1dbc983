"""``herald send``, ``herald send-bulk`` and ``herald callbacks verify`` against a live Herald."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.helpers import herald
from tests.dispatch.test_end_to_end import approved_template
from tests.live import free_port
from tests.live_herald import Live, eventually


def credentials(live: Live) -> dict[str, str]:
    return {
        "HERALD_URL": str(live.herald.base_url),
        "HERALD_EMAIL": "ana@example.com",
        "HERALD_PASSWORD": "s3cret-pass",
    }


async def test_send_queues_and_the_message_is_read(live: Live, live_ana: dict[str, str]) -> None:
    template = await approved_template(live, live_ana)
    done = await asyncio.to_thread(
        herald,
        "send",
        str(template["id"]),
        "--to",
        "21696816277",
        "--country-code",
        "TN",
        "--param",
        "Sam",
        "--param",
        "ORD-2026-00041",
        env=credentials(live),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Queued message ")
    message_id = int(done.stdout.split()[2])

    async def read() -> bool:
        answer = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
        return bool(answer.json()["data"]["state"] == "read")

    await eventually(read, message="the message sent from the command line is read")


async def test_send_reports_the_api_error_and_its_code(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    args = ("send", str(template["id"]), "--to", "21696816277", "--country-code", "TN")
    wrong = await asyncio.to_thread(herald, *args, "--param", "Sam", env=credentials(live))
    assert wrong.returncode == 6
    assert "body_params_mismatch" in wrong.stderr
    missing = await asyncio.to_thread(herald, "send", "999999", *args[2:], env=credentials(live))
    assert missing.returncode == 3
    assert "template_not_found" in missing.stderr
    bad_login = {**credentials(live), "HERALD_PASSWORD": "wrong-password"}
    refused = await asyncio.to_thread(herald, *args, env=bad_login)
    assert refused.returncode == 8
    assert "invalid_credentials" in refused.stderr
    assert "wrong-password" not in refused.stderr + refused.stdout


async def test_send_needs_credentials_and_a_reachable_herald(tmp_path: Path) -> None:
    args = ("send", "1", "--to", "21696816277", "--country-code", "TN")
    no_credentials = herald(*args, env={"HERALD_URL": "http://127.0.0.1:9"})
    assert no_credentials.returncode == 5
    unreachable = herald(
        *args,
        env={
            "HERALD_URL": f"http://127.0.0.1:{free_port()}",
            "HERALD_EMAIL": "a@example.com",
            "HERALD_PASSWORD": "x",
        },
    )
    assert unreachable.returncode == 7
    assert "cannot reach Herald" in unreachable.stderr


async def test_send_bulk_reads_a_csv_and_summarises(
    live: Live, live_ana: dict[str, str], tmp_path: Path
) -> None:
    template = await approved_template(live, live_ana)
    rows = ["to,country_code,param1,param2"]
    rows += [f"2169681627{n},TN,Sam,ORD-{n}" for n in range(4)]
    rows.insert(3, "123,TN,Bad,ORD-X")  # the third data row, line 4 of the file
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("\n".join(rows) + "\n")
    refused = await asyncio.to_thread(
        herald, "send-bulk", str(template["id"]), str(recipients), env=credentials(live)
    )
    assert refused.returncode == 6
    assert "row 4: invalid_phone_number" in refused.stderr

    done = await asyncio.to_thread(
        herald,
        "send-bulk",
        str(template["id"]),
        str(recipients),
        "--skip-invalid",
        env=credentials(live),
    )
    assert done.returncode == 0, done.stderr
    assert "row 4: invalid_phone_number" in done.stdout
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in done.stdout.splitlines()
        if line.startswith("│")
    ]
    assert cells[0][:2] == ["4", "1"], done.stdout  # queued, rejected


def test_callbacks_verify(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"id":"evt_1_sent","type":"message.status"}')
    good = "sha256=" + hmac.new(b"whsec_test", body.read_bytes(), hashlib.sha256).hexdigest()
    env = {"HERALD_CALLBACK_SECRET": "whsec_test"}
    assert herald("callbacks", "verify", "--signature", good, str(body), env=env).returncode == 0
    piped = herald("callbacks", "verify", "--signature", good, env=env, stdin=body.read_text())
    assert piped.returncode == 0
    tampered = herald("callbacks", "verify", "--signature", good[:-1] + "0", str(body), env=env)
    assert tampered.returncode == 1


def test_send_bulk_refuses_unknown_columns_by_name_before_sending(tmp_path: Path) -> None:
    recipients = tmp_path / "recipients.csv"
    unreachable = {"HERALD_URL": f"http://127.0.0.1:{free_port()}"}
    for header, expected in (
        ("to,country_code,param1,tracking_code", "unknown column 'tracking_code'"),
        ("to,country_code,param1,param3", "param2 is missing"),
        ("to,country_code,param1,param1", "column 'param1' appears twice"),
        ("phone,country_code", "at least to,country_code"),
    ):
        recipients.write_text(f"{header}\n21696816277,TN,Sam,X\n")
        done = herald("send-bulk", "1", str(recipients), env=unreachable)
        assert done.returncode == 6, (header, done.stderr)
        assert expected in done.stderr, done.stderr


async def test_send_bulk_stopped_by_a_refused_request_says_what_was_queued(
    live: Live, live_ana: dict[str, str], tmp_path: Path
) -> None:
    """The first 10,000 rows go in one request, the bad last row's request is refused: the
    command says which rows were queued, and running it again with the same key sends none of
    them twice."""
    template = await approved_template(live, live_ana)
    rows = ["to,country_code,param1,param2", ""]  # a blank line: rows keep their file lines
    rows += [f"2169{n:07d},TN,Sam,ORD-{n}" for n in range(10_000)]
    rows.append("123,TN,Bad,ORD-X")
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("\n".join(rows) + "\n")
    # Scheduled a day ahead: nothing leaves during the test.
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    command = ("send-bulk", str(template["id"]), str(recipients), "--send-at", later)
    keyed = (*command, "--idempotency-key", "campaign-7")
    for _ in range(2):
        done = await asyncio.to_thread(herald, *keyed, env=credentials(live))
        assert done.returncode == 6, done.stderr
        assert "row 10003: invalid_phone_number" in done.stderr
        assert "Rows 3 to 10002 were queued before this error" in done.stderr
        assert "with the same --idempotency-key" in done.stderr
        assert "Queuing" not in done.stdout
    group = await live.herald.get(
        "/api/whatsapp/", params={"template_id": template["id"], "limit": 1}, headers=live_ana
    )
    assert group.json()["data"]["pagination"]["total"] == 10_000, "the re-run sent nothing twice"
    unkeyed = await asyncio.to_thread(herald, *command, env=credentials(live))
    assert "Running the file again would send those rows twice" in unkeyed.stderr
