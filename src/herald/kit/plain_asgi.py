"""What a pure-ASGI route needs: its body read, handed on to another app once read, and a
JSON answer sent.

Starlette's ``Request`` and ``Response`` do the first and the last, but an object of each per
call is what the pure-ASGI routes exist to avoid, and nothing in Starlette does the second.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Send


async def read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client went away before sending all of it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` again, then whatever ``receive`` gives (a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def send_json(send: Send, status: int, body: bytes) -> None:
    """``body`` (JSON) as the whole answer, with the headers a ``JSendResponse`` gives."""
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
