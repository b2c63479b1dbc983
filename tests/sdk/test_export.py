"""``client.messages.export_csv`` (the async client; the sync one is the same over
``httpx.Client``): the history's CSV written to a path or a file, a filter passed on, a bad
filter raised as ``BadRequest``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from herald_client import AsyncHeraldClient, BadRequest

from herald.models import User
from tests.analytics.helpers import store_messages
from tests.conftest import DatabaseUnderTest


async def test_the_history_is_saved_as_csv(
    sdk: AsyncHeraldClient, db: DatabaseUnderTest, ana: User, tmp_path: Path
) -> None:
    created = datetime(2026, 11, 10, 10, tzinfo=UTC)
    ids = await store_messages(
        db,
        [
            {"user_id": ana.id, "created_at": created, "state": "read"},
            {"user_id": ana.id, "created_at": created, "state": "failed"},
        ],
    )
    path = tmp_path / "all.csv"
    written = await sdk.messages.export_csv(path)
    assert written == path.stat().st_size
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == ids[::-1]

    buffer = io.BytesIO()
    await sdk.messages.export_csv(buffer, state="failed", created_from=created)
    failed = list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert [(int(r["id"]), r["state"]) for r in failed] == [(ids[1], "failed")]

    with pytest.raises(BadRequest) as caught:
        await sdk.messages.export_csv(io.BytesIO(), state="lost")
    assert caught.value.code == "validation_failed"
    with pytest.raises(TypeError):
        await sdk.messages.export_csv(io.BytesIO(), colour="red")
