"""LISTEN/NOTIFY: a send accepted by one process wakes a `herald worker` in another at once,
although that worker polls only every 30 s (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import ORDER, SAM
from tests.dispatch.test_workers import cluster, start_worker
from tests.live_herald import Live, eventually

__all__ = ["cluster"]  # the fixture, imported to be used here

pytestmark = pytest.mark.e2e


async def test_a_worker_polling_every_30_s_is_woken_by_a_send_in_another_process(
    cluster: tuple[Live, dict[str, str]], db: DatabaseUnderTest, tmp_path: Path
) -> None:
    live, env = cluster  # the API runs in this process, without a dispatcher
    auth = await live.auth_for(await add_user(db, "ana@example.com"))
    worker = start_worker({**env, "HERALD_DISPATCH_POLL_SECONDS": "30"}, tmp_path / "worker.log")
    try:
        template = await _approved(live, auth)
        send = f"/api/v2/whatsapp/templates/{template['id']}/send"

        async def sent(count: int) -> bool:
            return len((await live.emulator.get("/_emulator/messages")).json()) == count

        # The first send may be found by the worker's first round as it starts.
        assert (await live.herald.post(send, json=SAM, headers=auth)).status_code == 202

        async def first() -> bool:
            return await sent(1)

        await eventually(first, timeout=30, message="the first send reaches the provider")
        # The worker is settled and waits up to 30 s for its next poll: only the NOTIFY of
        # the API process can bring the second send out well before.
        assert (await live.herald.post(send, json=SAM, headers=auth)).status_code == 202

        async def second() -> bool:
            return await sent(2)

        await eventually(second, timeout=5, message="the second send, woken by NOTIFY")
    finally:
        worker.terminate()
        worker.wait(10)


async def _approved(live: Live, auth: dict[str, str]) -> dict[str, Any]:
    """A template approved, once the worker (starting on a loaded machine) applied its review."""
    created = await live.herald.post("/api/v2/whatsapp/templates", json=ORDER, headers=auth)
    template: dict[str, Any] = created.json()["data"]
    await live.herald.post(f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=auth)

    async def approved() -> bool:
        got = await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=auth)
        return bool(got.json()["data"]["state"] == "APPROVED")

    await eventually(approved, timeout=60, message="template approved")
    return template
