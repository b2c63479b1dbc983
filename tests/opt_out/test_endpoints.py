"""``/api/v2/opt-outs``: numbers given by path or filter tolerate the usual formatting."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_error


@pytest.mark.parametrize(
    "spelling", ["21696816277", "+216 96 816 277", "216-96-816-277", "(216) 96.816.277"]
)
async def test_remove_accepts_formatted_numbers(
    client: httpx.AsyncClient, auth: dict[str, str], spelling: str
) -> None:
    added = await client.post(
        "/api/v2/opt-outs", json={"number": "+216 96 816 277", "country_code": "TN"}, headers=auth
    )
    assert added.status_code == 201, added.text
    removed = await client.delete(f"/api/v2/opt-outs/{spelling}", headers=auth)
    assert removed.status_code == 200, removed.text
    assert removed.json()["data"] == {"number": "21696816277"}
    again = await client.delete(f"/api/v2/opt-outs/{spelling}", headers=auth)
    assert_error(again, 404, "opt_out_not_found")


async def test_history_filter_accepts_formatted_numbers(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.get(
        "/api/whatsapp/", params={"phone_number": "216-96-816-277"}, headers=auth
    )
    assert answer.status_code == 200
    assert answer.json()["data"]["items"] == []  # no messages yet, but no 400 either
