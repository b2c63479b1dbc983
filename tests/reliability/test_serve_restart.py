"""`herald serve` killed with SIGKILL in the middle of a bulk send and started again on the same
data directory (SQLite, its built-in emulator): the restarted emulator still knows the approved
template, and still sends the statuses the killed one had not delivered, so every message ends
read, except the few in flight at the kill, whose outcome is unknown and reported as such."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import herald_process, herald_started
from tests.conftest import DatabaseUnderTest
from tests.dispatch.test_end_to_end import approved_through
from tests.live import free_port
from tests.live_herald import eventually

pytestmark = pytest.mark.e2e

SENDS = 400


async def wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes], log: Path) -> None:
    async def ready() -> bool:
        assert process.poll() is None, f"herald serve stopped: see {log}"
        try:
            return (await http.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(ready, timeout=60, message="herald serve answers")


async def test_herald_serve_killed_mid_bulk_ends_with_every_message_read(
    db: DatabaseUnderTest, tmp_path: Path
) -> None:
    if db.kind != "sqlite":
        pytest.skip("herald serve's own setup: SQLite in its data directory")
    port = free_port()
    env = {
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_PORT": str(port),
        "HERALD_EMULATOR_APPROVE_AFTER_SECONDS": "0.5",
        "HERALD_DISPATCH_LEASE_SECONDS": "5",
        "HERALD_UNKNOWN_OUTCOME_DEADLINE_SECONDS": "10",
        "HERALD_PAIR_SPACING_SECONDS": "0",
        "HERALD_LOG_LEVEL": "warning",
    }
    log = tmp_path / "serve.log"
    serve = herald_started(["serve"], env, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await wait_ready(http, serve, log)
            created = herald_process(
                "users",
                "create",
                "ana@example.com",
                "--password",
                "s3cret-pass",
                "--api-access",
                env=env,
            )
            assert created.returncode == 0, created.stderr
            token = (
                await http.post(
                    "/api/login_check",
                    json={"username": "ana@example.com", "password": "s3cret-pass"},
                )
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            template = await approved_through(http, auth)
            answer = await http.post(
                f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
                json={
                    "recipients": [
                        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
                        for n in range(SENDS)
                    ]
                },
                headers=auth,
            )
            assert answer.status_code == 202, answer.text
            group = answer.json()["data"]["whatsapp_bulk_group_id"]

            async def some_sent() -> bool:
                stats = (await http.get("/emulator/_emulator/stats")).json()
                return bool(stats["accepted"] >= SENDS // 5)

            await eventually(some_sent, timeout=30, message="a fifth of the bulk sent")
            serve.send_signal(signal.SIGKILL)
            serve.wait(10)
            await asyncio.sleep(0)  # nothing else: the restart follows at once, as a supervisor's
            serve = herald_started(["serve"], env, log)
            await wait_ready(http, serve, log)

            async def settled() -> bool:
                counts = (
                    await http.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)
                ).json()["data"]["counts"]
                return bool(counts.get("read", 0) + counts.get("failed", 0) == SENDS)

            await eventually(settled, timeout=120, message="every message read or failed")
            counts = (await http.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)).json()[
                "data"
            ]["counts"]
            failed = (
                await http.get(
                    "/api/whatsapp/",
                    params={"whatsapp_bulk_group_id": group, "state": "failed", "limit": 100},
                    headers=auth,
                )
            ).json()["data"]
    finally:
        serve.terminate()
        serve.wait(10)
    # Only the messages in flight at the kill may have an unknown outcome: two chunks at most.
    assert {m["error"]["code"] for m in failed["items"]} <= {"outcome_unknown"}
    assert counts.get("failed", 0) <= 2 * 25
    assert counts["read"] >= SENDS - 2 * 25
    print(f"herald serve killed mid-bulk: read={counts['read']} unknown={counts.get('failed', 0)}")
