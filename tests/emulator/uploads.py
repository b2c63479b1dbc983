"""Meta's Resumable Upload API, as a client uses it: a session, then the bytes; the handle."""

from __future__ import annotations

import httpx

APP_ID = "100000000000000"


async def sample_handle(
    http: httpx.AsyncClient, auth: dict[str, str], data: bytes, file_type: str
) -> str:
    session = await http.post(
        f"/v23.0/{APP_ID}/uploads",
        params={"file_name": "sample", "file_length": len(data), "file_type": file_type},
        headers=auth,
    )
    assert session.status_code == 200, session.text
    upload_id = session.json()["id"]  # ``upload:…?sig=…``, used as it is
    answer = await http.post(
        f"/v23.0/{upload_id}", content=data, headers={**auth, "file_offset": "0"}
    )
    assert answer.status_code == 200, answer.text
    handle: str = answer.json()["h"]
    return handle
