"""uvicorn's HTTP protocol with one change: a request its HTTP parser refuses (a malformed
request line or header) gets a JSend 400 like every other answer, not uvicorn's plain text.

uvicorn answers such a request itself, from the protocol's ``send_400_response``, because there
is no request yet to hand to the app: no ASGI middleware ever sees it. So the protocol class
given to uvicorn (``uvicorn.Config(http=JSendHttpToolsProtocol)``) overrides that one method of
the httptools protocol, the one uvicorn's ``http="auto"`` picks (httptools comes with
``uvicorn[standard]``).
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MALFORMED_REQUEST_CODE = "malformed_request"
_BODY = orjson.dumps(
    {
        "status": "error",
        "message": "The HTTP request is malformed: its request line or a header is not valid.",
        "code": MALFORMED_REQUEST_CODE,
        "data": [],
    }
)
_HEADERS = (
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode("ascii") + b"\r\n"
    b"connection: close\r\n\r\n"
)


class JSendHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        """What uvicorn's own does (default headers, then close), with a JSend body."""
        defaults = [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        self.transport.write(
            b"".join([b"HTTP/1.1 400 Bad Request\r\n", *defaults, _HEADERS, _BODY])
        )
        self.transport.close()
